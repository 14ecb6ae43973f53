"""The body of a chat-completions request: the one the live client sends (``agent/llm/client.py``) and the
one a Batch API request file carries (``agent/llm/batch_api.py``), built in one place so they cannot drift.

The body is what LangChain's ``ChatOpenAI.with_structured_output(schema, method="json_schema")`` sent
before the client called the OpenAI SDK directly (the recorded cassettes match on it): the schema's
title as the format's name, its description beside it, ``strict`` off, ``max_completion_tokens``.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

#: response formats kept (one per distinct schema: a template's sections, their list caps and ID enums)
MAX_FORMATS = 512

_formats: OrderedDict[str, dict[str, Any]] = OrderedDict()


def response_format(schema: dict[str, Any]) -> dict[str, Any]:
    """``response_format`` for a JSON schema, converted once per distinct schema (callers pass fresh
    copies of the same schema; the result is shared, so it must not be changed)."""
    key = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    found = _formats.get(key)
    if found is None:
        # LangChain's conversion names the format as OpenAI requires; only its result is kept
        from langchain_core.utils.function_calling import convert_to_openai_function

        function = convert_to_openai_function(schema, strict=False)
        function["schema"] = function.pop("parameters")
        found = {"type": "json_schema", "json_schema": function}
        if len(_formats) >= MAX_FORMATS:
            _formats.popitem(last=False)
        _formats[key] = found
    return found


def chat_body(
    model: str,
    messages: list[dict[str, str]],
    schema: dict[str, Any] | None,
    *,
    max_tokens: int,
    temperature: float,
    seed: int | None,
    extras: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A chat-completions body: a JSON answer of ``schema`` when given, else free text; ``extras`` are
    server-specific sampling fields (llama.cpp's ``repeat_penalty``, ``cache_prompt``)."""
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_completion_tokens": max_tokens,
        "temperature": temperature,
        "stream": False,
    }
    if schema is not None:
        body["response_format"] = response_format(schema)
    if seed is not None:
        body["seed"] = seed
    if extras:
        body.update(extras)
    return body
