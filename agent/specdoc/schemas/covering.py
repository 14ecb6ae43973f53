"""Sections whose items cite requirement IDs, in any template and any language.

The tech-spec's Testing Strategy, Implementation Timeline and Success Criteria have hand-written models
whose items cite the requirements they test, build or measure (``CoveredItem``: ``covers``), so that
``trace`` links each requirement to its tests, tasks and criteria. A template whose sections have
another layout (a translated template's ``Teststrategie``, ``Zeitplan``, ``Criterios de éxito``, or an
English template of one's own) gets the same kind of section generated from its own layout:

* the template defines requirement IDs (a checklist numbered by code, ``- [ ] **FA-001**: [...]``) in
  an earlier section: this is structure, the same in every language;
* the section's title is one that ``trace`` reads as tests, success criteria or tasks: the section-title
  words of every language known, kept with the languages (``agent.specdoc.language.TITLE_WORDS``), so
  what drafting asks to cite and what trace counts are decided by one list;
* its one-line values and list items become ``CoveredItem`` (prose, code, labelled items and groups
  stay as they are).

A section with a hand-written model keeps it; templates without requirement IDs (the ADR) are unchanged.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from agent.specdoc.language import title_pattern
from agent.specdoc.schemas.generic import MAX_ITEMS, build_section_model, field_type
from agent.specdoc.schemas.techspec import CoveredItem, CoveringSection
from agent.specdoc.template import FieldKind, FieldSpec, SpecTemplate, TemplateSection

#: the kinds of referring section (``agent.specdoc.trace.KINDS``) whose items cite requirements
CITING_KINDS = ("tests", "criteria", "tasks")
#: list fields whose items become cited items; a one-line value (``text``) becomes one cited item
_LISTS = frozenset({FieldKind.tasks, FieldKind.bullets})


def defines_requirements(section: TemplateSection) -> bool:
    """The section numbers requirements by code (``- [ ] **FR-001**: [...]``)."""
    return any(spec.kind is FieldKind.numbered for spec in section.fields)


def cites_by_title(title: str) -> bool:
    """A section title that ``trace`` reads as tests, success criteria or tasks, in any language known."""
    return any(title_pattern(kind).search(title) for kind in CITING_KINDS)


def _covered_field(spec: FieldSpec, owner: str) -> tuple[Any, Any]:
    if spec.kind is FieldKind.text:
        return CoveredItem, Field(description=spec.description)
    if spec.kind in _LISTS:
        minimum = 2 if spec.kind is FieldKind.tasks else 1  # as field_type: a plan has two tasks or more
        return list[CoveredItem], Field(
            min_length=minimum, max_length=MAX_ITEMS, description=spec.description
        )
    return field_type(spec, owner)


def _has_items(section: TemplateSection) -> bool:
    return any(spec.kind is FieldKind.text or spec.kind in _LISTS for spec in section.fields)


def covering_model(section: TemplateSection) -> type[CoveringSection]:
    """The section's generated model with ``covers`` on every one-line value and list item."""
    model = build_section_model(
        section.key, section.title, section.shape, base=CoveringSection, field_for=_covered_field
    )
    assert issubclass(model, CoveringSection)
    model.GENERIC_KEYS_ORDER = tuple(name for name, _ in section.shape)
    model.GENERIC_KEYS = frozenset(model.GENERIC_KEYS_ORDER)
    return model


def apply_covering_models(template: SpecTemplate) -> SpecTemplate:
    """Give each section that cites requirements (see the module's rules) its covering model."""
    defined = False
    for section in template.sections:
        if defines_requirements(section):
            defined = True
        elif defined and not section.typed and cites_by_title(section.title) and _has_items(section):
            section.model = covering_model(section)
    return template
