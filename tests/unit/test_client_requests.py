"""The client's requests and its reading of replies are what LangChain's structured output sent and read.

The reference is the path the client took before it called the OpenAI SDK directly:
``ChatOpenAI(...).with_structured_output(schema, method="json_schema", include_raw=True)``. The recorded
cassettes match on request bodies, so the bodies must stay equal (as JSON) for every sampling setting.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from helpers.fault_server import FaultServer
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agent.errors import ConfigError, ModelError
from agent.llm.batch_api import request_line
from agent.llm.client import ChatClient, Completion
from agent.llm.providers import Endpoint, ModelSettings, Provider
from agent.llm.request import chat_body

#: a key of the shape a provider issues (what the messages redact)
KEY = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
SCHEMA = {
    "title": "Answer",
    "description": "One answer.",
    "type": "object",
    "properties": {"text": {"type": "string"}, "n": {"type": "integer"}},
    "required": ["text"],
}
MESSAGES = [
    {"role": "system", "content": "You write specs."},
    {"role": "user", "content": "Write the summary."},
    {"role": "assistant", "content": '{"text": 1}'},
    {"role": "user", "content": "Again, with a string."},
]


def _endpoint(server: FaultServer, extras: bool) -> Endpoint:
    return Endpoint(
        Provider.compatible, server.base_url, "fault-model", SecretStr(KEY), accepts_sampling_extras=extras
    )


def _settings(seed: int | None = 42) -> ModelSettings:
    return ModelSettings(provider=Provider.compatible, use_cache=False, timeout=5, http_retries=0, seed=seed)


async def _langchain(
    endpoint: Endpoint, seed: int | None, temperature: float, penalty: float, cache: bool
) -> Any:
    """The former request path, with the settings the client used to give ChatOpenAI."""
    body: dict[str, Any] = {}
    if endpoint.accepts_sampling_extras and penalty != 1.0:
        body["repeat_penalty"] = penalty
    if endpoint.accepts_sampling_extras and not cache:
        body["cache_prompt"] = False
    model = ChatOpenAI(
        model=endpoint.model,
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        temperature=temperature,
        max_tokens=300,
        max_retries=0,
        seed=seed,
        **({"extra_body": body} if body else {}),
    )
    structured = model.with_structured_output(SCHEMA, method="json_schema", include_raw=True)
    return await structured.ainvoke(MESSAGES)


async def _ours(
    endpoint: Endpoint, seed: int | None, temperature: float, penalty: float, cache: bool
) -> Completion:
    client = ChatClient(endpoint, _settings(seed))
    try:
        return await client.complete_json(
            MESSAGES,
            SCHEMA,
            max_tokens=300,
            temperature=temperature,
            repeat_penalty=penalty,
            cache_prompt=cache,
        )
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("extras", "seed", "temperature", "penalty", "cache"),
    [
        (False, 42, 0.2, 1.0, True),
        (False, None, 0.7, 1.2, False),  # no extras for a server that does not take them
        (True, 42, 0.35, 1.1, True),
        (True, 42, 0.0, 1.15, False),
        (True, 7, 0.2, 1.0, False),
    ],
)
def test_the_body_and_usage_are_what_langchain_gave(
    fault_server: FaultServer, extras: bool, seed: int | None, temperature: float, penalty: float, cache: bool
) -> None:
    fault_server.cached_tokens = 7
    endpoint = _endpoint(fault_server, extras)
    reference = asyncio.run(_langchain(endpoint, seed, temperature, penalty, cache))
    ours = asyncio.run(_ours(endpoint, seed, temperature, penalty, cache))
    theirs, mine = (r.body for r in fault_server.chat_requests())
    assert mine == theirs
    raw = reference["raw"]
    meta = raw.usage_metadata
    assert ours.usage.prompt_tokens == meta["input_tokens"] == 10
    assert ours.usage.completion_tokens == meta["output_tokens"] == 5
    assert ours.usage.cached_tokens == meta["input_token_details"]["cache_read"] == 7
    assert ours.usage.calls == 1
    assert ours.finish_reason == raw.response_metadata["finish_reason"] == "stop"
    assert isinstance(raw.content, str) and ours.text.startswith('{"text": ')


def test_a_batch_request_line_carries_the_live_body(fault_server: FaultServer) -> None:
    asyncio.run(_ours(_endpoint(fault_server, False), 42, 0.2, 1.0, True))
    (sent,) = (r.body for r in fault_server.chat_requests())
    body = chat_body("fault-model", MESSAGES, SCHEMA, max_tokens=300, temperature=0.2, seed=42)
    assert sent == body
    assert '"response_format":{"type":"json_schema"' in request_line("b.s.1", body)


def test_the_probe_sends_what_the_chat_model_sent(fault_server: FaultServer) -> None:
    endpoint = _endpoint(fault_server, True)
    client = ChatClient(endpoint, _settings())

    async def go() -> float | None:
        try:
            return await client.probe()
        finally:
            await client.aclose()

    assert asyncio.run(go()) is not None
    model = ChatOpenAI(
        model="fault-model",
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        temperature=0.0,
        max_tokens=24,
        max_retries=0,
        seed=42,
        extra_body={"cache_prompt": False},
    )
    asyncio.run(model.ainvoke([{"role": "user", "content": "Count from one to twenty in words."}]))
    mine, theirs = (r.body for r in fault_server.chat_requests())
    assert mine == theirs
    assert client.speed.tokens_per_second is not None


def test_an_answer_cut_off_at_its_budget_comes_back_with_its_usage(fault_server: FaultServer) -> None:
    fault_server.plan("length")
    ours = asyncio.run(_ours(_endpoint(fault_server, False), 42, 0.2, 1.0, True))
    assert ours.finish_reason == "length"
    assert ours.fault is None
    assert ours.text.startswith('{"text": ') and not ours.text.endswith("}")
    assert (ours.usage.prompt_tokens, ours.usage.completion_tokens, ours.usage.calls) == (10, 5, 1)


@pytest.mark.parametrize(
    ("action", "fault"),
    [("truncated", "malformed reply (cut-off JSON"), ("empty_choices", "a reply with no choices")],
)
def test_a_malformed_reply_is_a_fault_to_ask_again(
    fault_server: FaultServer, action: str, fault: str
) -> None:
    fault_server.plan(action)
    ours = asyncio.run(_ours(_endpoint(fault_server, False), 42, 0.2, 1.0, True))
    assert ours.fault is not None and fault in ours.fault
    assert ours.text == "" and ours.usage.calls == 1


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, ConfigError, "rejected the API key (HTTP 401)"),
        (404, ConfigError, "does not know the model 'fault-model' (HTTP 404)"),
        (500, ModelError, "answered HTTP 500"),
        (403, ModelError, "answered HTTP 403"),
    ],
)
def test_server_errors_map_to_our_errors_without_the_key(
    fault_server: FaultServer, status: int, error: type[Exception], words: str
) -> None:
    fault_server.echo_status = status
    fault_server.plan("echo_auth" if status != 500 else "500")
    with pytest.raises(error) as caught:
        asyncio.run(_ours(_endpoint(fault_server, False), 42, 0.2, 1.0, True))
    assert words in str(caught.value)
    assert KEY not in str(caught.value)
