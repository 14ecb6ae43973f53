"""The base class every section model derives from."""

from __future__ import annotations

import functools
import json
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


@functools.lru_cache(maxsize=512)
def _schema_text(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema())


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model.model_json_schema()``, generated once per model class.

    Generating a schema walks the whole model (milliseconds for a typed section); a batch asks for the
    same ones thousands of times. Each call returns a fresh copy, so callers may change it.
    """
    result: dict[str, Any] = json.loads(_schema_text(model))
    return result


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
