"""ChatClient converts a schema's response_format once and sends every call through one SDK client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import langchain_core.utils.function_calling as function_calling
import pytest
from helpers.fault_server import FaultServer
from pydantic import SecretStr

from agent.llm import request as request_module
from agent.llm.client import ChatClient
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
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every schema converted into a response_format (the store starts empty)."""
    seen: list[dict[str, Any]] = []
    original = function_calling.convert_to_openai_function

    def spy(schema: Any, **kwargs: Any) -> Any:
        seen.append(schema)
        return original(schema, **kwargs)

    monkeypatch.setattr(function_calling, "convert_to_openai_function", spy)
    monkeypatch.setattr(request_module, "_formats", type(request_module._formats)())
    return seen


def _client(base_url: str) -> ChatClient:
    endpoint = Endpoint(Provider.compatible, base_url, "fake-model", SecretStr("none"))
    return ChatClient(endpoint, ModelSettings(provider=Provider.compatible, use_cache=False))


def _run(client: ChatClient, calls: list[tuple[dict[str, Any], float, int]]) -> list[str]:
    async def go() -> list[str]:
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


def test_a_schema_is_converted_once_whatever_the_sampling_settings(
    conversions: list[dict[str, Any]], fault_server: FaultServer
) -> None:
    # a fresh copy of the schema each call, as the drafter passes it, at three sampling settings
    calls = [(json.loads(json.dumps(SCHEMA)), t, m) for t, m in ((0.2, 100), (0.45, 100), (0.2, 200))]
    texts = _run(_client(fault_server.base_url), calls)
    assert len(conversions) == 1
    assert all("text" in json.loads(text) for text in texts)
    # the shared format still goes out with every request, beside that request's own settings
    sent = [
        (b["temperature"], b["max_completion_tokens"]) for b in (r.body for r in fault_server.chat_requests())
    ]
    assert sent == [(0.2, 100), (0.45, 100), (0.2, 200)]
    for body in (r.body for r in fault_server.chat_requests()):
        assert body["response_format"]["json_schema"]["schema"]["properties"] == SCHEMA["properties"]


def test_different_schemas_are_each_converted_and_named(
    conversions: list[dict[str, Any]], fault_server: FaultServer
) -> None:
    texts = _run(_client(fault_server.base_url), [(SCHEMA, 0.2, 100), (OTHER, 0.2, 100), (SCHEMA, 0.2, 100)])
    assert len(conversions) == 2
    names = [r.body["response_format"]["json_schema"]["name"] for r in fault_server.chat_requests()]
    assert names == ["Answer", "Other", "Answer"]
    assert "items" in json.loads(texts[1])


def test_converted_formats_are_bounded(
    conversions: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_module, "MAX_FORMATS", 4)
    for n in range(4 + 3):
        request_module.response_format({**SCHEMA, "title": f"Answer{n}"})
    assert len(request_module._formats) == 4
    request_module.response_format({**SCHEMA, "title": "Answer6"})  # the newest is still kept
    assert len(conversions) == 7


def test_calls_share_one_sdk_client_per_event_loop_and_no_chat_model_is_built(
    monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer
) -> None:
    from langchain_openai import ChatOpenAI

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a LangChain chat model was built on the request path")

    monkeypatch.setattr(ChatOpenAI, "__init__", refuse)
    client = _client(fault_server.base_url)

    async def go() -> int:
        for temperature in (0.2, 0.3, 0.4):
            await client.complete_json(MESSAGES, SCHEMA, max_tokens=50, temperature=temperature)
        await client.probe()
        kept = len(client._sdk)
        await client.aclose()
        return kept

    assert asyncio.run(go()) == 1
    assert client._sdk == {}
    assert len(fault_server.chat_requests()) == 4
