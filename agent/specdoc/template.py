"""The compiled form of a Markdown spec template: sections, fields and layout blocks.

The compiler (``agent.specdoc.template_compiler``) builds these; the resolver
(``agent.specdoc.template_resolver``) finds and loads templates by name or path.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from agent.specdoc.placeholders import PLACEHOLDER
from agent.specdoc.schemas.base import SectionData


class FieldKind(str, Enum):
    prose = "prose"  # a paragraph
    text = "text"  # a one-line value (key/value bullet)
    code = "code"  # the content of a fenced block
    numbered = "numbered"  # checklist numbered by code: PREFIX-001, PREFIX-002, ...
    labelled = "labelled"  # checklist of {name, description}
    tasks = "tasks"  # checklist of plain items
    bullets = "bullets"  # bullet list of plain items
    group = "group"  # repeatable key/value group (a list of objects with the child labels)


@dataclass
class FieldSpec:
    """One fillable slot of a section."""

    key: str
    kind: FieldKind
    description: str
    label: str | None = None
    id_prefix: str | None = None
    #: literal items the template already shows (task lists) or child labels (groups)
    examples: list[str] = field(default_factory=list)
    children: list[FieldSpec] = field(default_factory=list)
    fence_info: str = ""
    subsection: str | None = None


@dataclass
class Block:
    """A piece of a section's layout: literal text or a reference to a field."""

    literal: str | None = None
    field: FieldSpec | None = None
    #: dotted path of the field's value in the section data, e.g. ("component_overview", "infrastructure")
    path: tuple[str, ...] = ()


@dataclass
class TemplateSection:
    title: str
    key: str
    #: the section's original template text (heading included), shown to the model
    source: str
    subsections: list[str]
    fields: list[FieldSpec]
    blocks: list[Block]
    model: type[SectionData]
    #: layout of the data: top-level keys, each a FieldSpec or a (subsection title, [FieldSpec]) group
    shape: list[tuple[str, FieldSpec | list[FieldSpec]]]
    typed: bool = False


@dataclass
class SpecTemplate:
    name: str
    path: Path
    text: str
    front_matter: dict[str, Any]
    title_line: str
    preamble: list[str]
    sections: list[TemplateSection]
    footer: list[str]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def section(self, key: str) -> TemplateSection:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)

    def headings(self) -> list[str]:
        """Every ``##`` and ``###`` title, in order (what tells the template's language)."""
        return [title for section in self.sections for title in (section.title, *section.subsections)]

    def outline(self) -> str:
        """The list of headings, for the prompt's shared prefix."""
        lines = []
        for section in self.sections:
            lines.append(f"## {section.title}")
            lines.extend(f"   ### {sub}" for sub in section.subsections)
        return "\n".join(lines)


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    path: Path
    description: str
    sections: int


def slugify(text: str, *, fallback: str = "field") -> str:
    """A Python identifier made of the text's words: 'Auto-scaling' -> 'auto_scaling'.

    Accents are dropped ('Übersicht' -> 'ubersicht'); letters of other scripts are kept ('概述'), so
    headings in any language give distinct keys.
    """
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    slug = re.sub(r"(?:[^\w]|_)+", "_", plain).strip("_").lower()
    if not slug:
        return fallback
    if slug[0].isdigit():
        slug = f"{fallback}_{slug}"
    return slug


def placeholder_text(value: str) -> str:
    """The instruction inside a line's placeholders: '[List of UI components]' -> 'List of UI components'."""
    found = PLACEHOLDER.findall(value)
    return "; ".join(item.strip() for item in found) if found else value.strip()


def has_placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.search(value))
