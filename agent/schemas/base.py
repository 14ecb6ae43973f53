"""The base class every section model derives from."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class SectionData(BaseModel):
    """Validated content of one section.

    ``render_data`` returns the section's generic shape (what the template's layout expects:
    strings, lists of strings, lists of objects), so typed models can hold richer structure
    (numbers, enums) while rendering stays driven by the template.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: keys of the generic shape this model renders to (typed models only)
    GENERIC_KEYS: ClassVar[frozenset[str]] = frozenset()
    #: field paths that hold identifiers or code, exempt from prose checks
    NON_PROSE_FIELDS: ClassVar[frozenset[str]] = frozenset()

    def render_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"assumptions", "open_questions"})
