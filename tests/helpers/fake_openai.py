"""A fake OpenAI-compatible chat-completions server on 127.0.0.1, run in a thread.

It answers every ``POST /chat/completions`` with JSON generated from the request's
``response_format.json_schema.schema`` after a configurable delay: distinct strings per field,
numbers, the first enum value, ``minItems`` items. It lists one model on ``GET /models``.
Requests whose messages contain one of ``fail_markers`` get HTTP 500 (with a tiny Retry-After so the
SDK's retries stay fast). Used by the batch tests and bench/batch.py; the content does not matter.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from helpers.topic import brief_topic

MODEL = "fake-model"
_WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
]


def _spell(n: int) -> str:
    """A distinct word sequence per number (distinct after the quality checks' normalisation)."""
    digits = []
    while True:
        digits.append(_WORDS[n % len(_WORDS)])
        n //= len(_WORDS)
        if n == 0:
            break
    return " ".join(digits)


class SchemaFaker:
    """Generate a value valid for a JSON schema (the subset Pydantic emits for section models)."""

    def __init__(self, schema: dict[str, Any], topic: str = "the feature") -> None:
        self.defs = schema.get("$defs", {})
        self.counter = itertools.count(1)
        self.topic = topic[:40]

    def value(self, prop: dict[str, Any]) -> Any:
        if "$ref" in prop:
            return self.value(self.defs[prop["$ref"].rsplit("/", 1)[-1]])
        if "allOf" in prop:
            return self.value(prop["allOf"][0])
        if "anyOf" in prop:
            choices = [p for p in prop["anyOf"] if p.get("type") != "null"] or prop["anyOf"]
            return self.value(choices[0])
        if "enum" in prop:
            return prop["enum"][0]
        if "const" in prop:
            return prop["const"]
        kind = prop.get("type")
        if kind == "object":
            return {key: self.value(inner) for key, inner in prop.get("properties", {}).items()}
        if kind == "array":
            count = max(int(prop.get("minItems", 1)), 1)
            return [self.value(prop.get("items", {})) for _ in range(count)]
        if kind == "integer":
            return max(int(prop.get("minimum", 1)), next(self.counter))
        if kind == "number":
            return float(max(prop.get("minimum", 1), next(self.counter)))
        if kind == "boolean":
            return True
        return self.string(prop)

    def string(self, prop: dict[str, Any]) -> str:
        n = next(self.counter)
        pattern = prop.get("pattern", "")
        if pattern.startswith("^/"):
            text = f"/api/v1/{_spell(n).replace(' ', '_')}"
        elif pattern.startswith("^[a-z]"):
            text = f"{_spell(n).replace(' ', '_')}_{n}"
        else:
            text = f"Point {_spell(n)} explains how {self.topic} behaves for its users"
        limit = int(prop.get("maxLength", 400))
        return text[:limit].rstrip()


@dataclass
class FakeOpenAI:
    """Start with ``with FakeOpenAI(delay=0.05) as server:``; ``server.base_url`` ends in /v1."""

    delay: float = 0.0
    fail_markers: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    requests: int = 0
    failures: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    #: the JSON body of every chat-completions request, in arrival order
    bodies: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/stats"):
                    self._send(
                        200,
                        {
                            "requests": fake.requests,
                            "failures": fake.failures,
                            "max_in_flight": fake.max_in_flight,
                        },
                    )
                elif self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests += 1
                    fake.bodies.append(request)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    fake._answer(self, request)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

        self._server = _Server((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, handler: Any, request: dict[str, Any]) -> None:
        text = json.dumps(request.get("messages", []))
        if any(marker in text for marker in self.fail_markers):
            with self._lock:
                self.failures += 1
            handler._send(
                500,
                {"error": {"message": "injected failure", "type": "server_error"}},
                {"retry-after-ms": "10"},
            )
            return
        if self.delay:
            time.sleep(self.delay)
        schema = request.get("response_format", {}).get("json_schema", {}).get("schema", {})
        # answers are about the brief (its title), as the drafter re-asks off-topic ones
        prompt = " ".join(str(m.get("content", "")) for m in request.get("messages", []))
        topic = brief_topic(prompt)
        faker = SchemaFaker(schema, topic=topic) if topic else SchemaFaker(schema)
        content = json.dumps(faker.value(schema))
        prompt_tokens = len(text) // 4
        completion_tokens = len(content) // 4
        handler._send(
            200,
            {
                "id": f"chatcmpl-{self.requests}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model", MODEL),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                    "prompt_tokens_details": {"cached_tokens": prompt_tokens // 2},
                },
            },
        )


class _Server(ThreadingHTTPServer):
    #: a real server's listen backlog (socketserver's default of 5 resets connections when a batch
    #: opens dozens at once, and the client's transport retries would then be measured as overhead)
    request_queue_size = 128


@contextmanager
def fake_openai(delay: float = 0.0, fail_markers: tuple[str, ...] = ()) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(delay=delay, fail_markers=fail_markers) as server:
        yield server


if __name__ == "__main__":  # a standalone server for trying `specdraft batch --base-url` by hand
    import sys

    with FakeOpenAI(delay=float(sys.argv[1]) if len(sys.argv) > 1 else 0.2) as server:
        print(server.base_url, flush=True)
        threading.Event().wait()
