"""The Batch API transport: chat-completion requests as JSONL lines, uploaded, submitted, polled, collected.

OpenAI's Batch API and vLLM's ``run-batch`` read the same request file, one line per request
(``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``), and write the same result
file (``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}``), in any order.
Each line's ``custom_id`` names the brief, the section and the attempt (:class:`RequestId`), so results
are matched back whatever their order. A file holds at most :data:`MAX_REQUESTS` lines and
:data:`MAX_BYTES` bytes (:func:`split_lines`). :class:`BatchApi` talks to ``/v1/files`` and
``/v1/batches`` through the official ``openai`` SDK (its retries honour a 429's Retry-After) and polls
with a doubling pause. The request body is the one the live client sends (agent.llm.client), so a
server answers a batch line as it would answer the live call.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from agent.errors import ModelError
from agent.io.redact import display_url, redact
from agent.llm.client import Completion, Usage, translate_error
from agent.llm.providers import Endpoint

#: the limits of one input file (OpenAI's Batch API)
MAX_REQUESTS = 50_000
MAX_BYTES = 100 * 1024 * 1024
CHAT_PATH: Final = "/v1/chat/completions"
#: a batch in one of these states changes no more
TERMINAL = ("completed", "failed", "expired", "cancelled")
#: the SDK's retries of one API call (429 after its Retry-After, 5xx, connection errors)
API_RETRIES = 5
_CUSTOM_ID = re.compile(r"^(?P<brief>[0-9a-f]{12})\.(?P<section>[A-Za-z0-9_]+)\.(?P<attempt>[1-9][0-9]*)$")


@dataclass(frozen=True)
class RequestId:
    """What a ``custom_id`` names: a brief (:func:`brief_key`), a section key and an attempt."""

    brief: str
    section: str
    attempt: int

    def encode(self) -> str:
        return f"{self.brief}.{self.section}.{self.attempt}"

    @classmethod
    def decode(cls, text: str) -> RequestId | None:
        match = _CUSTOM_ID.match(text)
        if match is None:
            return None
        return cls(match["brief"], match["section"], int(match["attempt"]))


def brief_key(brief_id: str) -> str:
    """A brief's id as a ``custom_id`` carries it: short, and free of the id's slashes and spaces."""
    return hashlib.sha256(brief_id.encode()).hexdigest()[:12]


def request_line(custom_id: str, body: dict[str, Any]) -> str:
    """One line of a request file (no newline)."""
    line = {"custom_id": custom_id, "method": "POST", "url": CHAT_PATH, "body": body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def split_lines(
    lines: list[str], *, max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES
) -> list[list[str]]:
    """The lines in as few files as the limits allow, in order (a line over ``max_bytes`` alone is an
    error: no file could carry it)."""
    files: list[list[str]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        length = len(line.encode()) + 1
        if length > max_bytes:
            raise ModelError(
                f"One batch request is {length:,} bytes, over the {max_bytes:,}-byte file limit."
            )
        if current and (len(current) >= max_requests or size + length > max_bytes):
            files.append(current)
            current, size = [], 0
        current.append(line)
        size += length
    if current:
        files.append(current)
    return files


@dataclass(frozen=True)
class LineResult:
    """One line of a result or error file: the answer, or why there is none."""

    completion: Completion | None
    error: str | None = None


def parse_results(text: str, where: str) -> tuple[dict[str, LineResult], list[str]]:
    """Each ``custom_id``'s result in a result or error file, and the lines that could not be read
    (``where``: the file, for those messages)."""
    results: dict[str, LineResult] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            custom_id = str(line["custom_id"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"{where}:{number}: not a result line (JSON with a custom_id)")
            continue
        results[custom_id] = _line_result(line)
    return results, problems


def _line_result(line: dict[str, Any]) -> LineResult:
    """A result line's completion, or its error (the line's own, or a response that is not HTTP 200)."""
    error = line.get("error")
    response = line.get("response") or {}
    if error:
        message = error.get("message") if isinstance(error, dict) else str(error)
        code = error.get("code") if isinstance(error, dict) else None
        return LineResult(None, redact(f"{code}: {message}" if code else str(message))[:300])
    status = response.get("status_code")
    body = response.get("body")
    if status != 200 or not isinstance(body, dict):
        detail = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        message = detail.get("message", "") if isinstance(detail, dict) else ""
        return LineResult(None, redact(f"HTTP {status}: {message}".strip())[:300])
    return LineResult(completion_of(body))


def completion_of(body: dict[str, Any]) -> Completion:
    """A chat-completion body as a Completion (a body without choices is a malformed reply)."""
    usage_body = body.get("usage") or {}
    details = usage_body.get("prompt_tokens_details") or {}
    usage = Usage(
        prompt_tokens=int(usage_body.get("prompt_tokens") or 0),
        completion_tokens=int(usage_body.get("completion_tokens") or 0),
        cached_tokens=int(details.get("cached_tokens") or 0),
        calls=1,
    )
    choices = body.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return Completion(text="", usage=usage, fault="the batch result has no choices")
    message = choices[0].get("message") or {}
    return Completion(
        text=str(message.get("content") or ""), usage=usage, finish_reason=choices[0].get("finish_reason")
    )


@dataclass(frozen=True)
class BatchState:
    """A batch as the API reports it."""

    id: str
    status: str
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    total: int = 0
    #: why a ``failed`` batch failed (the API's validation errors of the input file)
    errors: str = ""

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


class BatchApi:
    """``/v1/files`` and ``/v1/batches`` of an OpenAI-compatible endpoint, through the ``openai`` SDK."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeout: float,
        poll: float = 30.0,
        max_poll: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import openai

        self.endpoint = endpoint
        self.poll, self.max_poll, self.sleep = poll, max_poll, sleep
        self.client = openai.OpenAI(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key.get_secret_value(),
            timeout=timeout,
            max_retries=API_RETRIES,
        )

    def upload(self, path: Path) -> str:
        """Upload a request file (purpose ``batch``); its file id."""
        with path.open("rb") as handle:
            uploaded = self._call(lambda: self.client.files.create(file=(path.name, handle), purpose="batch"))
        return str(uploaded.id)

    def submit(self, file_id: str, metadata: dict[str, str]) -> BatchState:
        """Start a batch over an uploaded file (chat completions, the 24-hour window)."""
        created = self._call(
            lambda: self.client.batches.create(
                input_file_id=file_id,
                endpoint=CHAT_PATH,
                completion_window="24h",
                metadata=metadata,
            )
        )
        return _state(created)

    def find(self, file_id: str) -> BatchState | None:
        """The batch already started over ``file_id`` (one submitted just before a crash), if any.

        The list comes newest first, a page at a time; an account others submit to may have many batches
        newer than ours, so pages are read until one older than the uploaded file (ours cannot be).
        """
        uploaded_at = int(self._call(lambda: self.client.files.retrieve(file_id)).created_at)
        page = self._call(lambda: self.client.batches.list(limit=100))
        while True:
            for batch in page.data:
                if batch.input_file_id == file_id:
                    return _state(batch)
                if batch.created_at < uploaded_at:
                    return None
            if not page.has_next_page():
                return None
            page = self._call(page.get_next_page)

    def state(self, batch_id: str) -> BatchState:
        return _state(self._call(lambda: self.client.batches.retrieve(batch_id)))

    def wait(self, batch_id: str, on_poll: Callable[[BatchState], None]) -> BatchState:
        """Poll until the batch ends, the pause doubling from ``poll`` up to ``max_poll`` seconds."""
        pause = self.poll
        while True:
            state = self.state(batch_id)
            on_poll(state)
            if state.finished:
                return state
            self.sleep(pause)
            pause = min(self.max_poll, pause * 2)

    def download(self, file_id: str) -> str:
        return str(self._call(lambda: self.client.files.content(file_id)).text)

    def cancel(self, batch_id: str) -> BatchState:
        return _state(self._call(lambda: self.client.batches.cancel(batch_id)))

    def _call(self, call: Callable[[], Any]) -> Any:
        """One API call; its failure in specdraft's words (URL masked, no key)."""
        import openai

        try:
            return call()
        except openai.NotFoundError:
            raise ModelError(
                f"The server at {display_url(self.endpoint.base_url)} has no Batch API "
                "(HTTP 404 on /files or /batches).",
                hint="With vLLM, write the requests with --via jsonl and run `vllm run-batch` on them.",
            ) from None
        except openai.OpenAIError as exc:
            raise translate_error(exc, self.endpoint) from None


def _state(batch: Any) -> BatchState:
    counts = getattr(batch, "request_counts", None)
    errors = getattr(batch, "errors", None)
    listed = [str(getattr(e, "message", e)) for e in (getattr(errors, "data", None) or [])]
    return BatchState(
        id=str(batch.id),
        status=str(batch.status),
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
        completed=int(getattr(counts, "completed", 0) or 0),
        failed=int(getattr(counts, "failed", 0) or 0),
        total=int(getattr(counts, "total", 0) or 0),
        errors=redact("; ".join(listed))[:300],
    )
