"""Swap generated section models for the typed ones where a template section has the same shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.schemas.techspec import TYPED_SECTIONS

if TYPE_CHECKING:
    from agent.template import SpecTemplate


def apply_typed_models(template: SpecTemplate) -> SpecTemplate:
    """Use a typed model for each section whose key and layout match one of the tech-spec sections.

    Matching on layout (not on the template's name) means a user template that reuses, say, the
    Technical Requirements section unchanged gets the same validation; an altered section keeps
    its generated model rather than a typed one that would render to the wrong shape.
    """
    for section in template.sections:
        typed = TYPED_SECTIONS.get(section.key)
        if typed is not None and {key for key, _ in section.shape} == typed.GENERIC_KEYS:
            section.model = typed
            section.typed = True
    return template
