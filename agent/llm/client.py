"""Structured completions through the OpenAI SDK's async client: the one way a chat request is sent.

The JSON schema goes to the server as ``response_format`` (llama.cpp turns it into a grammar, so even
a small model returns parseable JSON of the right shape); the raw text comes back for our own
validation, so the re-ask can quote exactly what was wrong. The body is built by
``agent/llm/request.py`` (the Batch API's request files carry the same one) and posted with the SDK's
``post``: its connection handling, status errors and timeouts, without the typed request transform and
response models, which cost more CPU per call than the rest of the client (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agent.errors import AnswerTooLargeError, ConfigError, ModelError, ModelTimeoutError
from agent.io.redact import display_url, redact, redact_known
from agent.llm.providers import NO_KEY, Endpoint, ModelSettings
from agent.llm.replicas import ReplicaPool, retry_after
from agent.llm.request import chat_body
from agent.llm.response_cache import CachedAnswer, ResponseCache, request_key
from agent.llm.speed import SpeedMeter

#: the longest pause between two transport retries (a server's Retry-After is honoured up to this)
MAX_BACKOFF = 8.0
#: the most bytes of one answer read (a section's JSON is a few KB; an 80 MB answer took 428 MB to parse)
MAX_ANSWER_BYTES = 16 * 1024 * 1024
#: the path of a chat request, under the server's base URL
CHAT_PATH = "/chat/completions"


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    calls: int = 0
    model_seconds: float = 0.0
    #: answers taken from the response cache: no model call, no tokens counted
    cache_hits: int = 0
    #: requests moved to another server after one failed (several --base-url), counted as retries
    failovers: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_tokens += other.cached_tokens
        self.calls += other.calls
        self.model_seconds += other.model_seconds
        self.cache_hits += other.cache_hits
        self.failovers += other.failovers

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "cached_prompt_tokens": self.cached_tokens,
            "completion_tokens": self.completion_tokens,
            "model_calls": self.calls,
            "response_cache_hits": self.cache_hits,
        }


@dataclass
class Completion:
    text: str
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    #: set when the server's reply was malformed (cut-off body, no choices): worth asking again
    fault: str | None = None


class ChatClient:
    """One client per endpoint: one HTTP connection pool and one SDK client per server and event loop,
    shared by every call; a schema's ``response_format`` is converted once (agent/llm/request.py)."""

    def __init__(
        self, endpoint: Endpoint, settings: ModelSettings, cache: ResponseCache | None = None
    ) -> None:
        self.endpoint = endpoint
        self.settings = settings
        #: answers to identical requests come from disk (None with --no-cache)
        self.cache = cache if cache is not None or not settings.use_cache else ResponseCache.default()
        self._sdk: dict[tuple[int, str], Any] = {}
        self._http: dict[int, Any] = {}
        #: (start, end) perf_counter times of every model call, for measuring agent overhead
        self.call_intervals: list[tuple[float, float]] = []
        #: the engine's measured speed (tokens/s), refined by every call
        self.speed = SpeedMeter()
        #: calls in flight right now (for the speed estimate)
        self.in_flight = 0
        #: HTTP requests sent (transport retries included)
        self.requests = 0
        #: several servers (--base-url given more than once): each call goes to one with room
        self.pool = ReplicaPool(endpoint.replicas, settings.slots) if len(endpoint.replicas) > 1 else None
        key = endpoint.api_key.get_secret_value()
        #: the key this client sends: never stored, even when a server's answer repeats it
        self._own_secrets = (key,) if key != NO_KEY else ()

    def _http_client(self) -> Any:
        # One HTTP client (connection pool) per event loop: a pooled connection belongs to the
        # loop that opened it, and a client reused from a finished loop hangs.
        import asyncio

        import openai

        loop = id(asyncio.get_running_loop())
        if loop not in self._http:
            self._http[loop] = openai.DefaultAsyncHttpxClient(
                timeout=self.settings.timeout, event_hooks={"response": [_read_capped]}
            )
        return self._http[loop]

    async def aclose(self) -> None:
        """Close the HTTP client of the running event loop."""
        import asyncio

        loop = id(asyncio.get_running_loop())
        client = self._http.pop(loop, None)
        self._sdk = {k: v for k, v in self._sdk.items() if k[0] != loop}
        if client is not None:
            await client.aclose()

    def _sdk_client(self, base_url: str | None = None) -> Any:
        """The SDK client of one server (the endpoint's, or one of several) on the running event loop."""
        url = base_url or self.endpoint.base_url
        key = (id(asyncio.get_running_loop()), url)
        client = self._sdk.get(key)
        if client is None:
            import openai

            client = openai.AsyncOpenAI(
                base_url=url,
                api_key=self.endpoint.api_key.get_secret_value(),
                timeout=self.settings.timeout,
                # No hidden re-sends: our own bounded retry runs inside the one --timeout deadline.
                max_retries=0,
                http_client=self._http_client(),
            )
            self._sdk[key] = client
        return client

    def _body(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        repeat_penalty: float,
        cache_prompt: bool,
    ) -> dict[str, Any]:
        extras: dict[str, Any] = {}
        if self.endpoint.accepts_sampling_extras and repeat_penalty != 1.0:
            extras["repeat_penalty"] = repeat_penalty
        if self.endpoint.accepts_sampling_extras and not cache_prompt:
            extras["cache_prompt"] = False  # llama.cpp: do not reuse the slot's cached prefix
        return chat_body(
            self.endpoint.model,
            messages,
            schema,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=self.settings.seed,
            extras=extras,
        )

    async def complete_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        temperature: float,
        repeat_penalty: float = 1.0,
        cache_prompt: bool = True,
    ) -> Completion:
        key = self._cache_key(messages, schema, max_tokens, temperature, repeat_penalty)
        hit = self.cache.get(key) if self.cache is not None and key is not None else None
        if hit is not None:
            text = redact_known(hit.text, self._own_secrets)  # cached before known secrets were redacted
            return Completion(text=text, usage=Usage(cache_hits=1), finish_reason=hit.finish_reason)

        body = self._body(messages, schema, max_tokens, temperature, repeat_penalty, cache_prompt)
        started = time.perf_counter()
        self.in_flight += 1
        concurrent = self.in_flight
        failovers = 0
        completion: Completion
        try:
            if self.pool is None:
                completion = await within_deadline(
                    lambda: self._send(body), self.settings.timeout, self.settings.http_retries
                )
            else:
                completion, failovers = await self.pool.call(
                    lambda url: self._send(body, url), self.settings.timeout, self.settings.http_retries
                )
        except Exception as exc:  # translated into specdraft's errors below
            malformed = _malformed_reply(exc, self.endpoint, time.perf_counter() - started)
            if malformed is not None:
                return malformed
            raise translate_error(exc, self.endpoint) from None
        finally:
            self.in_flight -= 1
        elapsed = time.perf_counter() - started
        self.call_intervals.append((started, started + elapsed))
        completion.usage.model_seconds = elapsed
        completion.usage.failovers = failovers
        # where model answers enter: a known secret in one never reaches a spec, the cache or a journal
        completion.text = redact_known(completion.text, self._own_secrets)
        self.speed.record(completion.usage.completion_tokens, elapsed, concurrent=concurrent)
        self._remember(key, completion)
        return completion

    def _cache_key(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        max_tokens: int,
        temperature: float,
        repeat_penalty: float,
    ) -> str | None:
        """The response cache's key for this request (None without a cache)."""
        if self.cache is None:
            return None
        request = {
            "messages": messages,
            "schema": schema,
            "max_tokens": max_tokens,
            "temperature": round(temperature, 3),
            "repeat_penalty": round(repeat_penalty, 3),
            "seed": self.settings.seed,
        }
        return request_key(self.endpoint.cache_identity, request)

    async def _send(self, body: dict[str, Any], base_url: str | None = None) -> Completion:
        """POST one chat request and read its reply (the SDK raises its errors for a failed status; a
        cut-off body raises JSONDecodeError, a reply without a choice IndexError: malformed replies)."""
        import httpx

        self.requests += 1
        response = await self._sdk_client(base_url).post(CHAT_PATH, body=body, cast_to=httpx.Response)
        return _completion_of(json.loads(response.content))

    async def probe(self, max_tokens: int = 24) -> float | None:
        """A short call that measures the engine's speed before the real work (tokens/s, or None)."""
        messages = [{"role": "user", "content": "Count from one to twenty in words."}]
        body = self._body(messages, None, max_tokens, 0.0, 1.0, False)
        started = time.perf_counter()
        try:
            completion = await within_deadline(lambda: self._send(body), self.settings.timeout, 0)
        except Exception:  # a failed probe only means no first estimate; the real calls will say more
            return None
        self.speed.record(completion.usage.completion_tokens, time.perf_counter() - started)
        return self.speed.tokens_per_second

    def _remember(self, key: str | None, completion: Completion) -> None:
        """Keep every complete answer, accepted or not, so that a re-run replays the same draft exactly
        (a rejected answer leads to the same re-ask, whose answer is cached too); --no-cache asks afresh."""
        if key is not None and self.cache is not None:
            usage = completion.usage
            answer = CachedAnswer(
                completion.text, completion.finish_reason, usage.prompt_tokens, usage.completion_tokens
            )
            self.cache.put(key, answer)


async def _read_capped(response: Any) -> None:
    """Read an answer's body, at most MAX_ANSWER_BYTES of it (decoded), before the SDK parses it.

    An httpx response hook runs before ``send`` reads the body; the body read here is kept as the
    response's content (httpx's ``aread`` returns it), so the SDK never reads past the cap.
    """
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_ANSWER_BYTES:
        await response.aclose()
        raise AnswerTooLargeError(f"the answer has {int(length):,} bytes")
    parts: list[bytes] = []
    total = 0
    async for part in response.aiter_bytes():
        total += len(part)
        if total > MAX_ANSWER_BYTES:
            await response.aclose()
            raise AnswerTooLargeError(f"the answer passed {MAX_ANSWER_BYTES:,} bytes")
        parts.append(part)
    response._content = b"".join(parts)


async def within_deadline(
    send: Callable[[], Awaitable[Any]],
    deadline: float,
    retries: int,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Any:
    """Call ``send`` with up to ``retries`` retries for transport faults, all inside ONE deadline.

    A request still running at the deadline is cancelled: its HTTP connection closes, which makes a
    llama.cpp server stop generating for it and frees the slot. A timed-out request is never re-sent.
    """
    import openai

    loop = asyncio.get_running_loop()
    ends = loop.time() + deadline
    try:
        async with asyncio.timeout(deadline):
            for attempt in range(retries + 1):
                try:
                    return await send()
                except openai.APITimeoutError:
                    raise
                except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
                    pause = max(min(MAX_BACKOFF, 0.5 * 2**attempt), min(MAX_BACKOFF, retry_after(exc)))
                    if attempt >= retries or loop.time() + pause >= ends:
                        raise  # no retry left, or none that could start before the deadline
                    await sleep(pause)
    except TimeoutError:
        raise openai.APITimeoutError(request=_no_request()) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _no_request() -> Any:
    import httpx

    return httpx.Request("POST", "http://deadline.invalid/")


def _completion_of(reply: Any) -> Completion:
    """A chat-completions reply (its JSON) as a Completion: the first choice's text and finish reason,
    and the usage (prompt, cached prompt and completion tokens). A reply without a choice raises
    IndexError (a malformed reply); missing usage counts as zero, as the server did not say."""
    choices = reply.get("choices") if isinstance(reply, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise IndexError("the reply has no choices")
    choice = choices[0]
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    text = content if isinstance(content, str) else ("" if content is None else str(content))
    counts = reply.get("usage")
    counts = counts if isinstance(counts, dict) else {}
    details = counts.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    usage = Usage(
        prompt_tokens=_count(counts.get("prompt_tokens")),
        completion_tokens=_count(counts.get("completion_tokens")),
        cached_tokens=_count(cached),
        calls=1,
    )
    finish = choice.get("finish_reason")
    return Completion(text=text, usage=usage, finish_reason=finish if isinstance(finish, str) else None)


def _count(value: Any) -> int:
    """A token count from a reply: 0 when absent or not a whole number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _malformed_reply(exc: Exception, endpoint: Endpoint, elapsed: float) -> Completion | None:
    """A reply that is not a usable completion (body cut off mid-JSON, an empty ``choices`` list)."""
    import json

    where = display_url(endpoint.base_url)
    if isinstance(exc, AnswerTooLargeError):
        fault = (
            f"the server at {where} sent too large an answer ({exc.message}; the cap is {MAX_ANSWER_BYTES:,})"
        )
    elif isinstance(exc, json.JSONDecodeError):
        fault = f"the server at {where} sent a malformed reply (cut-off JSON: {exc.msg})"
    elif isinstance(exc, IndexError):
        fault = f"the server at {where} sent a reply with no choices"
    else:
        return None
    return Completion(text="", usage=Usage(calls=1, model_seconds=elapsed), fault=fault)


def translate_error(exc: Exception, endpoint: Endpoint) -> Exception:
    """Turn an OpenAI SDK failure into a SpecdraftError with a message for the user (no key in it, the
    server's URL masked)."""
    import openai

    where = display_url(endpoint.base_url)
    if isinstance(exc, openai.APITimeoutError):
        return ModelTimeoutError(
            f"The model server at {where} did not answer in time.",
            hint="Raise --timeout, or lower --parallel on a slow machine.",
        )
    if isinstance(exc, openai.APIConnectionError):
        return ModelError(
            f"Cannot reach the model server at {where}.",
            hint="Is the server running? Check --base-url and your network.",
        )
    if isinstance(exc, openai.AuthenticationError):
        return ConfigError(
            f"The model server at {where} rejected the API key (HTTP 401).",
            hint="Check OPENAI_API_KEY.",
        )
    if isinstance(exc, openai.NotFoundError):
        return ConfigError(
            f"The model server at {where} does not know the model '{endpoint.model}' (HTTP 404).",
            hint="Check --model.",
        )
    if isinstance(exc, openai.RateLimitError):
        return ModelError(
            f"The model server at {where} kept refusing with HTTP 429 (rate limit) after retries."
        )
    if isinstance(exc, openai.APIStatusError):
        return ModelError(
            f"The model server at {where} answered HTTP {exc.status_code}: {_short(exc.message)}"
        )
    if isinstance(exc, openai.APIError):
        return ModelError(f"The model server at {where} failed: {_short(str(exc))}")
    return exc


def _short(text: str, limit: int = 300) -> str:
    """A server's message for an error: secrets it repeats (an echoed Authorization header) redacted."""
    text = redact(text)
    return text if len(text) <= limit else text[:limit] + " ..."
