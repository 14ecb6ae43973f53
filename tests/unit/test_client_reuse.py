"""ChatClient builds a structured-output runnable once per (sampling setting, schema) and reuses it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from helpers.fault_server import FaultServer
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agent.llm import client as client_module
from agent.llm.client import ChatClient, _model_step
from agent.llm.providers import Endpoint, ModelSettings, Provider

SCHEMA = {
    "title": "Answer",
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
}
OTHER = {
    "title": "Other",
    "type": "object",
    "properties": {"items": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
    "required": ["items"],
}
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every schema ChatOpenAI.with_structured_output is asked to build a runnable for."""
    seen: list[dict[str, Any]] = []
    original = ChatOpenAI.with_structured_output

    def spy(self: ChatOpenAI, schema: Any, **kwargs: Any) -> Any:
        seen.append(schema)
        return original(self, schema, **kwargs)

    monkeypatch.setattr(ChatOpenAI, "with_structured_output", spy)
    return seen


def _budget(body: dict[str, Any]) -> int:
    """The completion budget of a request (newer SDKs send max_completion_tokens)."""
    return int(body.get("max_completion_tokens", body.get("max_tokens", -1)))


def _client(base_url: str) -> ChatClient:
    endpoint = Endpoint(Provider.compatible, base_url, "fake-model", SecretStr("none"))
    return ChatClient(endpoint, ModelSettings(provider=Provider.compatible, use_cache=False))


def _run(base_url: str, calls: list[tuple[dict[str, Any], float, int]]) -> list[str]:
    async def go() -> list[str]:
        client = _client(base_url)
        try:
            texts = []
            for schema, temperature, max_tokens in calls:
                completion = await client.complete_json(
                    MESSAGES, schema, max_tokens=max_tokens, temperature=temperature
                )
                texts.append(completion.text)
            return texts
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_same_schema_and_settings_build_one_runnable(
    builds: list[dict[str, Any]], fault_server: FaultServer
) -> None:
    # a fresh copy of the schema each call, as the drafter passes it
    texts = _run(fault_server.base_url, [(json.loads(json.dumps(SCHEMA)), 0.2, 100) for _ in range(3)])
    assert len(builds) == 1
    assert len(fault_server.chat_requests()) == 3
    assert all("text" in json.loads(text) for text in texts)
    # the reused runnable still sends the schema and the sampling settings with every request
    for body in (r.body for r in fault_server.chat_requests()):
        assert body["response_format"]["json_schema"]["schema"]["properties"] == SCHEMA["properties"]
        assert body["temperature"] == 0.2
        assert _budget(body) == 100


def test_different_settings_or_schemas_do_not_share_a_runnable(
    builds: list[dict[str, Any]], fault_server: FaultServer
) -> None:
    calls = [
        (SCHEMA, 0.2, 100),
        (SCHEMA, 0.45, 100),
        (SCHEMA, 0.2, 200),
        (OTHER, 0.2, 100),
        (SCHEMA, 0.2, 100),
    ]
    texts = _run(fault_server.base_url, calls)
    assert len(builds) == 4  # the last call reuses the first one's runnable
    sent = [
        (body["temperature"], _budget(body), body["response_format"]["json_schema"]["name"])
        for body in (r.body for r in fault_server.chat_requests())
    ]
    assert sent == [
        (0.2, 100, "Answer"),
        (0.45, 100, "Answer"),
        (0.2, 200, "Answer"),
        (0.2, 100, "Other"),
        (0.2, 100, "Answer"),
    ]
    assert "items" in json.loads(texts[3])


def test_runnables_are_bounded_and_dropped_with_their_event_loop(
    builds: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer
) -> None:
    monkeypatch.setattr(client_module, "MAX_RUNNABLES", 4)
    client = _client(fault_server.base_url)

    async def many() -> int:
        for n in range(4 + 3):
            schema = {**SCHEMA, "title": f"Answer{n}"}
            await client.complete_json(MESSAGES, schema, max_tokens=50, temperature=0)
        kept = len(client._runnables)
        await client.aclose()
        return kept

    kept = asyncio.run(many())
    assert kept == 4
    assert len(builds) == 4 + 3
    assert client._runnables == {}


def test_model_step_is_the_chat_model_bound_to_the_schema() -> None:
    """LangChain's include_raw chain still has the shape the client takes its model step from (when it
    changes, the client falls back to the whole chain: correct, but with the parsing cost per call)."""
    model = ChatOpenAI(model="fake-model", base_url="http://127.0.0.1:9/v1", api_key=SecretStr("none"))
    structured = model.with_structured_output(SCHEMA, method="json_schema", include_raw=True)
    step = _model_step(structured)
    assert step is not structured
    assert step.bound is model
    assert step.kwargs["response_format"]["json_schema"]["schema"]["properties"] == SCHEMA["properties"]
    other = object()
    assert _model_step(other) is other
