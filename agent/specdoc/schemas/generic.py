"""Section models generated from a compiled template with ``pydantic.create_model``."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from agent.specdoc.schemas.base import SectionData
from agent.specdoc.template import FieldKind, FieldSpec

# Bounds keep a small model from looping forever inside one value; llama.cpp's grammar enforces them.
MAX_PROSE = 1200
MAX_TEXT = 300
MAX_CODE = 2000
MAX_ITEM = 300
MAX_ITEMS = 10

Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
Item = Annotated[str, Field(min_length=3, max_length=MAX_ITEM)]


class LabelledItem(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=80, description="Short name")
    description: str = Field(min_length=3, max_length=MAX_ITEM, description="One sentence")


def _model_name(*parts: str) -> str:
    """A model's name, which the server sees as the schema's name: OpenAI accepts only ``[A-Za-z0-9_-]``.

    Keys in other scripts (a Chinese template's ``概述``) keep a short digest of themselves in place of
    the letters they lose, so two such models still have distinct names.
    """
    name = "".join(part.title().replace("_", "") for part in parts if part)
    ascii_name = _NOT_NAME.sub("", name)
    if ascii_name != name:
        ascii_name = (ascii_name or "Section") + hashlib.sha256(name.encode()).hexdigest()[:8]
    return ascii_name or "Section"


_NOT_NAME = re.compile(r"[^A-Za-z0-9]")


def field_type(spec: FieldSpec, owner: str) -> tuple[Any, Any]:
    """The (annotation, FieldInfo) pair for one template field."""

    description = spec.description
    if spec.kind is FieldKind.prose:
        return str, Field(min_length=1, max_length=MAX_PROSE, description=description)
    if spec.kind is FieldKind.text:
        return str, Field(min_length=1, max_length=MAX_TEXT, description=description)
    if spec.kind is FieldKind.code:
        return str, Field(min_length=1, max_length=MAX_CODE, description=description)
    if spec.kind is FieldKind.numbered:
        return list[Item], Field(min_length=1, max_length=MAX_ITEMS, description=description)
    if spec.kind is FieldKind.tasks:
        # A checklist of tasks needs at least two to be a plan (e.g. every timeline phase has tasks).
        return list[Item], Field(min_length=2, max_length=MAX_ITEMS, description=description)
    if spec.kind is FieldKind.bullets:
        return list[Item], Field(min_length=1, max_length=MAX_ITEMS, description=description)
    if spec.kind is FieldKind.labelled:
        return list[LabelledItem], Field(min_length=1, max_length=MAX_ITEMS, description=description)
    # a repeatable key/value group
    child_fields: dict[str, Any] = {child.key: field_type(child, owner) for child in spec.children}
    child_model = create_model(
        _model_name(owner, spec.key, "entry"),
        __config__=ConfigDict(extra="forbid", str_strip_whitespace=True),
        **child_fields,
    )
    return list[child_model], Field(min_length=1, max_length=MAX_ITEMS, description=description)


#: how a template field becomes a model field: ``field_type``, or a variant of it
FieldTyper = Callable[[FieldSpec, str], tuple[Any, Any]]


def build_section_model(
    key: str,
    title: str,
    shape: list[tuple[str, FieldSpec | list[FieldSpec]]],
    *,
    base: type[SectionData] = SectionData,
    field_for: FieldTyper = field_type,
) -> type[SectionData]:
    """Generate the section's model: one field per top-level key, nested models for subsections.

    ``base`` and ``field_for`` make variants of the same layout (the sections whose items cite requirements,
    ``agent.specdoc.schemas.covering``); the model's name, which the server sees, stays the section's.
    """
    fields: dict[str, Any] = {}
    for name, entry in shape:
        if isinstance(entry, list):
            inner = {spec.key: field_for(spec, f"{key}_{name}") for spec in entry}
            sub_model = create_model(  # type: ignore[call-overload]
                _model_name(key, name),
                __config__=ConfigDict(extra="forbid", str_strip_whitespace=True),
                **inner,
            )
            fields[name] = (sub_model, Field(description=name.replace("_", " ")))
        else:
            fields[name] = field_for(entry, key)
    model: type[SectionData] = create_model(
        _model_name(key), __base__=base, __doc__=f"Content of the section '{title}'.", **fields
    )
    return model


@functools.lru_cache(maxsize=512)  # one class per (section model, flag): create_model is slow
def with_open_points(model: type[SectionData], *, require_questions: bool = False) -> type[SectionData]:
    """Extend a section model with the assumptions and open questions the whole spec collects.

    ``require_questions`` (for briefs too short to answer much) makes the schema demand at least one
    question: the field is then required, so neither the constrained decoder nor validation lets an
    answer leave it out (a default would be accepted without its minimum being checked).
    """
    description = "Questions the brief leaves open, to ask its author"
    questions = (
        Field(min_length=1, max_length=3, description=description)
        if require_questions
        else Field(default_factory=list, max_length=3, description=description)
    )
    extended: type[SectionData] = create_model(
        model.__name__,
        __base__=model,
        assumptions=(
            list[Item],
            Field(
                default_factory=list,
                max_length=3,
                description="Assumptions made where the brief is silent",
            ),
        ),
        open_questions=(list[Item], questions),
    )
    return extended
