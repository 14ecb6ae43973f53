"""The base class every section model derives from."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema


class TitledDefinitions(GenerateJsonSchema):
    """A definition pydantic keys by its class name is keyed by its model's title (the class name unless
    the model sets ``title``).

    A class renamed in the code for clarity (``ApiEndpoint``, titled ``Endpoint``) keeps the schema the
    model server is sent, and with it the recorded requests and the response cache's keys. Keys pydantic
    made unique with the module path (``agent__specdoc__...__1``) stay as they are.
    """

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        result = super().generate(schema, mode)
        defs: dict[str, Any] = result.get("$defs", {})
        titles = {
            key: str(value.get("title", key)) if key.isidentifier() and "__" not in key else key
            for key, value in defs.items()
        }
        if all(key == title for key, title in titles.items()) or len(set(titles.values())) < len(titles):
            return result  # nothing renamed, or two titles alike
        result["$defs"] = {titles[key]: value for key, value in defs.items()}
        refs = {f"#/$defs/{key}": f"#/$defs/{title}" for key, title in titles.items()}
        for node in schema_nodes(result):
            if node.get("$ref") in refs:
                node["$ref"] = refs[node["$ref"]]
        return self.sort(result)


@functools.lru_cache(maxsize=512)
def _schema_text(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema(schema_generator=TitledDefinitions))


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model.model_json_schema()``, generated once per model class.

    Generating a schema walks the whole model (milliseconds for a typed section); a batch asks for the
    same ones thousands of times. Each call returns a fresh copy, so callers may change it.
    """
    result: dict[str, Any] = json.loads(_schema_text(model))
    return result


def schema_nodes(schema: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON schema, ``$defs`` included, to change in place."""
    if isinstance(schema, dict):
        yield schema
        for value in list(schema.values()):
            yield from schema_nodes(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from schema_nodes(value)


def capped_lists(schema: dict[str, Any], max_items: int) -> dict[str, Any]:
    """``schema`` with every list allowing at most ``max_items`` items (never fewer than its minimum).

    Sent to a server that constrains decoding, it stops a small model's lists before they loop into
    repeats; validation still uses the section model, which allows the longer lists.
    """
    for node in schema_nodes(schema):
        if node.get("type") == "array":
            low = int(node.get("minItems", 0))
            node["maxItems"] = max(low, min(int(node.get("maxItems", max_items)), max_items))
    return schema


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
