"""The re-ask policy by model size, as the drafter applies it: what the first request shows and what
the server's schema allows (a recording client; no model, no HTTP)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from helpers.fault_server import _Namer, answer_for
from helpers.topic import brief_topic
from pydantic import SecretStr

from agent.drafting.brief import load_brief
from agent.drafting.drafter import Drafter, DraftOptions
from agent.drafting.policy import tier_named
from agent.llm.client import ChatClient, Completion, Usage
from agent.llm.providers import Endpoint, ModelSettings, Provider
from agent.specdoc.schemas.base import capped_lists
from agent.specdoc.schemas.techspec import covering_schema
from agent.specdoc.template_resolver import load_template

ROOT = Path(__file__).resolve().parents[2]
TINY = tier_named("tiny").policy
LARGE = tier_named("large").policy
BRIEF = ROOT / "examples" / "briefs" / "team-invitations.md"
TEMPLATE_LINE = "Its template:"
EXAMPLE_LINE = "Example of one field"


class RecordingClient(ChatClient):
    """Answers every request validly and keeps (messages, schema, sampling) of each."""

    def __init__(self, model: str) -> None:
        endpoint = Endpoint(Provider.compatible, "http://127.0.0.1:9/v1", model, SecretStr("not-a-key"))
        super().__init__(endpoint, ModelSettings(use_cache=False, timeout=30))
        self.requests: list[tuple[list[dict[str, str]], dict[str, Any], dict[str, Any]]] = []

    async def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], **kwargs: Any
    ) -> Completion:
        self.requests.append((messages, schema, kwargs))
        prompt = " ".join(m["content"] for m in messages)
        answer = answer_for(schema, namer=_Namer(subject=brief_topic(prompt)))
        return Completion(json.dumps(answer), Usage(prompt_tokens=10, completion_tokens=10, calls=1), "stop")

    async def aclose(self) -> None:
        return None


def _first_requests(model: str) -> RecordingClient:
    client = RecordingClient(model)
    options = DraftOptions(parallel=4, fit_to_speed=False)
    result = asyncio.run(Drafter(client, load_brief(BRIEF), load_template("tech-spec"), options).draft())
    assert all(section.status == "ok" for section in result.sections.values())
    return client


def test_small_models_get_a_lighter_first_attempt() -> None:
    client = _first_requests("smollm2-135m-instruct")
    assert len(client.requests) == 18  # every section validated at once: one request each
    for messages, _, sampling in client.requests:
        task = messages[-1]["content"]
        assert TEMPLATE_LINE not in task and EXAMPLE_LINE not in task
        assert "Return a JSON object with these fields:" in task
        assert sampling["repeat_penalty"] == TINY.repeat_penalty > 1.0


def test_larger_models_see_the_template_and_the_example() -> None:
    client = _first_requests("qwen2.5-7b-instruct")
    tasks = [messages[-1]["content"] for messages, _, _ in client.requests]
    assert all(TEMPLATE_LINE in task for task in tasks)
    assert sum(EXAMPLE_LINE in task for task in tasks) >= 15  # sections with a worked example
    assert all(sampling["repeat_penalty"] == 1.0 for _, _, sampling in client.requests)


def test_citing_sections_can_only_cite_the_specs_requirements() -> None:
    """The server's schema lists the spec's own IDs for ``covers``; the other sections are unchanged."""
    client = _first_requests("qwen2.5-7b-instruct")
    schemas = [json.dumps(schema) for _, schema, _ in client.requests]
    limited = [text for text in schemas if '"enum": ["FR-001"' in text]
    assert len(limited) == 3  # testing strategy, implementation timeline, success criteria
    assert all('"pattern": "^[A-Z]' not in text for text in limited)


def test_covering_schema_limits_every_covers_list() -> None:
    from agent.specdoc.schemas.techspec import SuccessCriteria

    schema = covering_schema(SuccessCriteria, {"FR-001": "a", "NFR-002": "b"})
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "covers" in node.get("properties", {}):
                found.append(node["properties"]["covers"]["items"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert found and all(items == {"type": "string", "enum": ["FR-001", "NFR-002"]} for items in found)
    # no IDs known: the pattern stays (an empty enum would allow nothing)
    assert "pattern" in json.dumps(covering_schema(SuccessCriteria, {}))


def _max_items(schema: Any) -> list[int]:
    found: list[int] = []
    if isinstance(schema, dict):
        if schema.get("type") == "array" and "maxItems" in schema:
            found.append(schema["maxItems"])
        for value in schema.values():
            found += _max_items(value)
    elif isinstance(schema, list):
        for value in schema:
            found += _max_items(value)
    return found


def test_small_models_are_sent_shorter_lists() -> None:
    """The schema sent for a small model caps every list (a 135M model loops into repeats on long ones)."""
    assert TINY.max_items is not None and LARGE.max_items is None
    small = _first_requests("smollm2-135m-instruct")
    large = _first_requests("qwen2.5-7b-instruct")
    small_caps = [n for _, schema, _ in small.requests for n in _max_items(schema)]
    large_caps = [n for _, schema, _ in large.requests for n in _max_items(schema)]
    assert small_caps and max(small_caps) <= TINY.max_items
    assert max(large_caps) > TINY.max_items  # the section models' own limits (e.g. 12 requirements)


def test_capped_lists_keeps_each_lists_minimum() -> None:
    schema = {"type": "array", "minItems": 3, "maxItems": 12, "items": {"type": "array", "maxItems": 10}}
    capped = capped_lists(schema, 2)
    assert capped["maxItems"] == 3  # never below the minimum the section model requires
    assert capped["items"]["maxItems"] == 2
