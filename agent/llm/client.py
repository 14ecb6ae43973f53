"""Structured completions through LangChain's ChatOpenAI (the OpenAI SDK underneath).

The JSON schema goes to the server as ``response_format`` (llama.cpp turns it into a grammar, so even
a small model returns parseable JSON of the right shape); the raw text comes back for our own
validation, so the re-ask can quote exactly what was wrong.
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
from agent.llm.response_cache import CachedAnswer, ResponseCache, request_key
from agent.llm.speed import SpeedMeter

#: the longest pause between two transport retries (a server's Retry-After is honoured up to this)
MAX_BACKOFF = 8.0
#: the most bytes of one answer read (a section's JSON is a few KB; an 80 MB answer took 428 MB to parse)
MAX_ANSWER_BYTES = 16 * 1024 * 1024
#: structured-output runnables kept per client (one per sampling setting and schema; oldest dropped)
MAX_RUNNABLES = 256
#: (event loop, temperature, max_tokens, repeat_penalty, cache_prompt, server of several or None)
ModelKey = tuple[int, float, int, float, bool, str | None]


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
    """One client per endpoint; ChatOpenAI instances are cached per sampling setting, and their
    structured-output runnables per (sampling setting, schema): building one converts the schema and
    wires a LangChain chain, work that a batch would otherwise repeat for every call."""

    def __init__(
        self, endpoint: Endpoint, settings: ModelSettings, cache: ResponseCache | None = None
    ) -> None:
        self.endpoint = endpoint
        self.settings = settings
        #: answers to identical requests come from disk (None with --no-cache)
        self.cache = cache if cache is not None or not settings.use_cache else ResponseCache.default()
        self._models: dict[ModelKey, Any] = {}
        self._runnables: dict[tuple[ModelKey, str], Any] = {}
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
        self._models = {k: v for k, v in self._models.items() if k[0] != loop}
        self._runnables = {k: v for k, v in self._runnables.items() if k[0][0] != loop}
        if client is not None:
            await client.aclose()

    @staticmethod
    def _model_key(
        temperature: float,
        max_tokens: int,
        repeat_penalty: float,
        cache_prompt: bool,
        base_url: str | None = None,
    ) -> ModelKey:
        loop = id(asyncio.get_running_loop())
        return (loop, round(temperature, 3), max_tokens, round(repeat_penalty, 3), cache_prompt, base_url)

    def _chat_model(
        self,
        temperature: float,
        max_tokens: int,
        repeat_penalty: float,
        cache_prompt: bool,
        base_url: str | None = None,
    ) -> Any:
        key = self._model_key(temperature, max_tokens, repeat_penalty, cache_prompt, base_url)
        if key not in self._models:
            from langchain_openai import ChatOpenAI

            extra: dict[str, Any] = {}
            body: dict[str, Any] = {}
            if self.endpoint.accepts_sampling_extras and repeat_penalty != 1.0:
                body["repeat_penalty"] = repeat_penalty
            if self.endpoint.accepts_sampling_extras and not cache_prompt:
                body["cache_prompt"] = False  # llama.cpp: do not reuse the slot's cached prefix
            if body:
                extra["extra_body"] = body
            if "http_socket_options" in ChatOpenAI.model_fields:
                # no socket tuning for the sync client LangChain builds and we never use: without this it
                # warns "system proxy configuration detected" on every model command behind a proxy
                extra["http_socket_options"] = ()
            self._models[key] = ChatOpenAI(
                model=self.endpoint.model,
                base_url=base_url or self.endpoint.base_url,
                api_key=self.endpoint.api_key,
                temperature=temperature,
                max_tokens=max_tokens,
                timeout=self.settings.timeout,
                # No hidden re-sends: our own bounded retry runs inside the one --timeout deadline.
                max_retries=0,
                seed=self.settings.seed,
                http_async_client=self._http_client(),
                **extra,
            )
        return self._models[key]

    def _structured(
        self,
        schema: dict[str, Any],
        temperature: float,
        max_tokens: int,
        repeat_penalty: float,
        cache_prompt: bool,
        base_url: str | None = None,
    ) -> Any:
        """The runnable for one sampling setting, server and schema, built once, answering the raw message.

        LangChain's ``with_structured_output(..., include_raw=True)`` builds it: the chat model bound to
        the schema as ``response_format``, followed by parsing steps. Only its model step is kept: the
        raw text is validated here (agent.drafting.reask), and the parsing steps would cost more CPU per
        call than the request itself (a second JSON parse and thread hops for their callbacks).
        """
        model_key = self._model_key(temperature, max_tokens, repeat_penalty, cache_prompt, base_url)
        key = (model_key, json.dumps(schema, sort_keys=True, separators=(",", ":")))
        runnable = self._runnables.get(key)
        if runnable is None:
            model = self._chat_model(temperature, max_tokens, repeat_penalty, cache_prompt, base_url)
            structured = model.with_structured_output(schema, method="json_schema", include_raw=True)
            runnable = _model_step(structured)
            if len(self._runnables) >= MAX_RUNNABLES:
                del self._runnables[next(iter(self._runnables))]
            self._runnables[key] = runnable
        return runnable

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

        def runnable(base_url: str | None = None) -> Any:
            return self._structured(schema, temperature, max_tokens, repeat_penalty, cache_prompt, base_url)

        started = time.perf_counter()
        self.in_flight += 1
        concurrent = self.in_flight
        failovers = 0
        try:
            if self.pool is None:
                single = runnable()
                result = await within_deadline(
                    lambda: self._send(single, messages), self.settings.timeout, self.settings.http_retries
                )
            else:
                result, failovers = await self.pool.call(
                    lambda url: self._send(runnable(url), messages),
                    self.settings.timeout,
                    self.settings.http_retries,
                )
        except Exception as exc:  # translated into specdraft's errors below
            truncated = _truncated_completion(exc, time.perf_counter() - started)
            if truncated is not None:
                truncated.text = redact_known(truncated.text, self._own_secrets)
                self.call_intervals.append((started, time.perf_counter()))
                self._remember(key, truncated)
                return truncated
            malformed = _malformed_reply(exc, self.endpoint, time.perf_counter() - started)
            if malformed is not None:
                return malformed
            raise translate_error(exc, self.endpoint) from None
        finally:
            self.in_flight -= 1
        elapsed = time.perf_counter() - started
        self.call_intervals.append((started, started + elapsed))
        completion = _completion_of(result, elapsed, failovers)
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

    async def _send(self, runnable: Any, messages: list[dict[str, str]]) -> Any:
        self.requests += 1
        return await runnable.ainvoke(messages)

    async def probe(self, max_tokens: int = 24) -> float | None:
        """A short call that measures the engine's speed before the real work (tokens/s, or None)."""
        model = self._chat_model(0.0, max_tokens, 1.0, False)
        messages = [{"role": "user", "content": "Count from one to twenty in words."}]
        started = time.perf_counter()
        try:
            raw = await within_deadline(lambda: self._send(model, messages), self.settings.timeout, 0)
        except Exception:  # a failed probe only means no first estimate; the real calls will say more
            return None
        meta = getattr(raw, "usage_metadata", None) or {}
        self.speed.record(int(meta.get("output_tokens", 0)), time.perf_counter() - started)
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


def _model_step(structured: Any) -> Any:
    """The model step (``raw``) of a LangChain ``with_structured_output(include_raw=True)`` chain;
    the whole chain when its shape is not the known one (it then answers ``{"raw": ..., ...}``)."""
    steps = getattr(getattr(structured, "first", None), "steps__", None)
    step = steps.get("raw") if isinstance(steps, dict) else None
    return step if step is not None else structured


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
                except (openai.APITimeoutError, openai.LengthFinishReasonError):
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


def _completion_of(result: Any, elapsed: float, failovers: int) -> Completion:
    """A structured-output answer (LangChain's ``{"raw": message}``, or the message) as a Completion."""
    raw = result["raw"] if isinstance(result, dict) else result
    text = raw.content if isinstance(raw.content, str) else str(raw.content)
    meta = raw.usage_metadata or {}
    details = meta.get("input_token_details") or {}
    usage = Usage(
        prompt_tokens=int(meta.get("input_tokens", 0)),
        completion_tokens=int(meta.get("output_tokens", 0)),
        cached_tokens=int(details.get("cache_read", 0) or 0),
        calls=1,
        model_seconds=elapsed,
        failovers=failovers,
    )
    finish = (raw.response_metadata or {}).get("finish_reason")
    return Completion(text=text, usage=usage, finish_reason=finish)


def _truncated_completion(exc: Exception, elapsed: float) -> Completion | None:
    """An answer cut off at max_tokens is not a transport failure: return it for re-asking."""
    import openai

    if not isinstance(exc, openai.LengthFinishReasonError):
        return None
    completion = exc.completion
    text = ""
    if completion.choices:
        text = completion.choices[0].message.content or ""
    usage = Usage(calls=1, model_seconds=elapsed)
    if completion.usage is not None:
        usage.prompt_tokens = completion.usage.prompt_tokens
        usage.completion_tokens = completion.usage.completion_tokens
        details = completion.usage.prompt_tokens_details
        usage.cached_tokens = (details.cached_tokens or 0) if details is not None else 0
    return Completion(text=text, usage=usage, finish_reason="length")


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
