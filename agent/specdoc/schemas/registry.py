"""Swap generated section models for the typed ones where a template section has the same shape."""

from __future__ import annotations

from functools import lru_cache

from agent.io.resources import resource_dir
from agent.specdoc.schemas.techspec import TYPED_SECTIONS
from agent.specdoc.template import FieldSpec, SpecTemplate
from agent.specdoc.template_compiler import compile_template

Layout = tuple[tuple[str, object], ...]


def _layout(shape: list[tuple[str, FieldSpec | list[FieldSpec]]]) -> Layout:
    """The keys, kinds and nesting of a section's data: what its rendering expects."""

    def field(spec: FieldSpec) -> tuple[str, str, str | None, tuple[str, ...]]:
        return (spec.key, spec.kind.value, spec.id_prefix, tuple(child.key for child in spec.children))

    return tuple(
        (key, tuple(field(spec) for spec in entry) if isinstance(entry, list) else field(entry))
        for key, entry in shape
    )


@lru_cache(maxsize=1)
def _typed_layouts() -> dict[str, Layout]:
    """The layout of each typed section in the built-in tech-spec template."""
    path = resource_dir("templates") / "tech-spec.md"
    compiled = compile_template(path.read_text(encoding="utf-8"), name="tech-spec", path=path)
    return {
        section.key: _layout(section.shape) for section in compiled.sections if section.key in TYPED_SECTIONS
    }


def apply_typed_models(template: SpecTemplate) -> SpecTemplate:
    """Use a typed model for each section whose key and layout match one of the tech-spec sections.

    Matching on layout (not on the template's name) means a user template that reuses, say, the
    Technical Requirements section unchanged gets the same validation; an altered section keeps
    its generated model rather than a typed one that would render to the wrong shape. The whole
    layout counts (nested keys and field kinds), not only the top-level keys.
    """
    for section in template.sections:
        typed = TYPED_SECTIONS.get(section.key)
        if (
            typed is not None
            and {key for key, _ in section.shape} == typed.GENERIC_KEYS
            and _layout(section.shape) == _typed_layouts().get(section.key)
        ):
            section.model = typed
            section.typed = True
    return template
