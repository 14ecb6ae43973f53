"""The suite's one fake OpenAI-compatible model server: scriptable, on 127.0.0.1, in a thread.

Every test that needs a model it can control (faults, batches, chat and refine sessions, the client)
takes the ``fault_server`` fixture; ``bench/batch.py`` runs it as a process of its own (see the end).
``GET /v1/models`` lists one model (``fault-model``), or answers ``models_reply`` (status, body) when
set. Each POST /v1/chat/completions takes the next
action from the script (``plan``; the ``default`` action, when the script is empty, answers validly).
Valid answers are generated from the request's ``response_format.json_schema.schema``, so they pass
specdraft's validation for any template; they are about the brief's title (the drafter re-asks
off-topic answers). Tests that assert on the model's words script them with ``replies``.

Actions (strings):

* ``valid``             a valid answer for the requested schema
* ``500`` / ``503``     an HTTP error with an OpenAI-style error body
* ``429``               rate limited, with ``Retry-After: <retry_after>``
* ``slow``              sleeps ``slow_seconds`` (5 s: longer than the tests' client timeouts), then
                        answers validly; with a short ``slow_seconds`` and ``default="slow"`` it is a
                        model that takes its time over every answer (signals mid-batch, throughput)
* ``drop``              announces a long body, sends part of it and closes the connection
* ``truncated``         HTTP 200 whose JSON body is cut in half
* ``invalid``           a well-formed completion whose content is JSON that violates the schema
* ``empty_choices``     a completion with ``"choices": []``
* ``length``            a completion cut off at its budget: half a valid answer, ``finish_reason: length``
* ``huge``              a completion whose content is several megabytes
* ``drip``              a valid answer whose body arrives one byte every ``drip_seconds`` (no read ever
                        times out, the answer takes minutes)
* ``leak``              a schema-valid answer that repeats the request's system prompt (an injection obeyed)
* ``echo_auth``         HTTP ``echo_status`` (403 by default) whose error message repeats the request's
                        ``Authorization`` header, as some gateways do
* ``off_topic``         a schema-valid answer about another feature (a password reset), not the brief

``invalid_when``, when set, makes every request whose last message contains that text answer ``invalid``
(so one section of a spec never validates while the others do).

``unknown_ids``, when above 0, makes that many of the next requests whose prompt lists requirement IDs
(``- FR-001: ...``, the sections that cite them in ``covers``) answer validly but cite ``ZZ-999``, an ID no
spec defines; they are recorded as ``unknown_ids``. Other valid answers cite the IDs the prompt lists.

``chunked`` sends every JSON answer in chunks, without a Content-Length.

``extra_text``, when set, is put at the start of every string of a valid answer (e.g. template syntax).

``choices`` picks, by property name, the enum value a valid answer gives instead of the first
(``{"kind": "edit"}`` makes the refine router ask for an edit of the first section it offers;
``{"kind": "edit", "title": "Technology Stack"}`` of that section).

``replies`` maps a schema name (``response_format.json_schema.name``: ``route``, ``answer``, a section
title) to the content sent wherever a valid answer would be: a string, or a function of the request
body that returns one (called when the request arrives, so it may also act, e.g. edit the spec on
disk between two turns). Requests for other schemas get generated answers.

``fail_when``, when set, makes every request whose messages contain that text answer ``500``.
``retry_after_ms``, when set, is sent as ``retry-after-ms`` with every ``500`` and ``503`` (the OpenAI
SDK then retries after that many milliseconds instead of backing off for seconds).
``cached_tokens`` is reported in every answer's ``usage.prompt_tokens_details`` (a server that reuses
the shared prompt prefix); usage is otherwise 10 prompt and 5 completion tokens per answer.

What the server saw: ``received`` (every request, with the action it got), ``chat_requests()``,
``schema_names()``, ``wait_for_request(timeout)``, ``max_in_flight`` (the most chat requests answered
at once); ``GET /v1/stats`` returns ``requests``, ``failures`` (5xx answers) and ``max_in_flight``
as JSON, for a client in another process.

Standalone (``bench/batch.py``, or by hand with ``specdraft ... --base-url``)::

    python tests/helpers/fault_server.py [ACTION] [--slow-seconds S]

prints its base URL and serves every request with ACTION (``valid`` by default) until interrupted.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agent.drafting.intent import request_names
from helpers.topic import brief_topic

FAULT_KINDS = (
    "500",
    "503",
    "429",
    "slow",
    "drop",
    "drip",
    "truncated",
    "invalid",
    "empty_choices",
    "length",
    "huge",
)
#: actions that are not transport or answer faults of their own
OTHER_ACTIONS = ("valid", "leak", "echo_auth", "off_topic")
MODEL_ID = "fault-model"
#: scripted content for one schema name: the text itself, or a function of the request body
Reply = str | Callable[[dict[str, Any]], str]

_WORDS = (
    "amber",
    "basalt",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kelp",
    "lagoon",
    "meadow",
    "nectar",
    "orchid",
    "prairie",
    "quartz",
    "river",
    "saffron",
    "tundra",
)


@dataclass
class Received:
    """One request the server saw."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    action: str
    at: float


@dataclass
class FaultServer:
    host: str = "127.0.0.1"
    port: int = 0
    retry_after: float = 1.0
    slow_seconds: float = 5.0
    huge_bytes: int = 4_000_000
    #: send JSON answers with Transfer-Encoding: chunked (no Content-Length)
    chunked: bool = False
    drip_seconds: float = 0.5
    echo_status: int = 403
    #: (HTTP status, body) GET /models answers instead of the list of models
    models_reply: tuple[int, bytes] | None = None
    script: deque[str] = field(default_factory=deque)
    default: str = "valid"
    extra_text: str = ""
    choices: dict[str, str] = field(default_factory=dict)
    replies: dict[str, Reply] = field(default_factory=dict)
    invalid_when: str = ""
    fail_when: str = ""
    retry_after_ms: int | None = None
    cached_tokens: int = 0
    unknown_ids: int = 0
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _arrived: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def plan(self, *actions: str, default: str | None = None) -> None:
        """Replace the script: the next requests get these actions, in order, then ``default``."""
        unknown = [a for a in actions if a not in OTHER_ACTIONS and a not in FAULT_KINDS]
        assert not unknown, f"unknown fault actions {unknown}"
        with self._lock:
            self.script = deque(actions)
            if default is not None:
                self.default = default

    def next_action(self) -> str:
        with self._lock:
            return self.script.popleft() if self.script else self.default

    def chat_requests(self) -> list[Received]:
        return [r for r in self.received if r.path.endswith("/chat/completions")]

    def schema_names(self) -> list[str]:
        """The schema each chat request asked for, in arrival order (``route``, ``Overview``, ...)."""
        return [_schema_name(r.body) for r in self.chat_requests()]

    def wait_for_request(self, timeout: float) -> bool:
        """Whether a chat request arrived (now or within ``timeout`` seconds)."""
        return self._arrived.wait(timeout)

    def stats(self) -> dict[str, int]:
        chats = self.chat_requests()
        return {
            "requests": len(chats),
            "failures": sum(r.action in ("500", "503") for r in chats),
            "max_in_flight": self.max_in_flight,
        }

    def sleep(self, seconds: float) -> None:
        """Sleep, but return at once when the server shuts down."""
        self._stop.wait(seconds)


# --------------------------------------------------------------------------------------------------
# Valid answers from a JSON schema


#: the requirement ID an ``unknown_ids`` answer cites
UNKNOWN_ID = "ZZ-999"
#: a requirement listed in a prompt for ``covers`` to cite
_ID = re.compile(r"[A-Z][A-Z0-9]{0,5}-[0-9]{1,5}")
#: the request in a refine prompt (prompts/refine.j2)
_REQUESTED_CHANGE = re.compile(r"asks for this change[^\n]*\n<<<\n(.*?)\n>>>", re.DOTALL)
_LISTED_ID = re.compile(r"^- ([A-Z][A-Z0-9]{0,5}-\d{1,5}): ", re.MULTILINE)


class _Namer:
    """Distinct, readable sentences: no repeats, no loops, no identifiers, no placeholders."""

    def __init__(
        self,
        extra: str = "",
        subject: str = "",
        ids: list[str] | None = None,
        choices: dict[str, str] | None = None,
    ) -> None:
        self.count = 0
        self.extra = extra
        #: property name -> the enum value to give for it (when the enum has it)
        self.choices = choices or {}
        #: the brief's title, so that answers are about the brief (the drafter re-asks off-topic ones)
        self.subject = subject
        #: requirement IDs the prompt lists (``- FR-001: ...``): what a ``covers`` answer cites
        self.ids = ids or []
        self.cited = 0

    def requirement_id(self) -> str:
        """The listed IDs in turn (its own counter: other answers stay as they were)."""
        self.cited += 1
        return self.ids[(self.cited - 1) % len(self.ids)] if self.ids else "FR-001"

    def sentence(self, hint: str) -> str:
        self.count += 1
        n = self.count
        a, b = _WORDS[n % len(_WORDS)], _WORDS[(n * 7 + 3) % len(_WORDS)]
        topic = hint.replace("_", " ").strip() or "item"
        about = f" for {self.subject}" if self.subject else ""
        text = f"The {a} service handles {topic}{about} case {n} with the {b} queue."
        return f"{self.extra} {text}" if self.extra else text

    def token(self) -> str:
        self.count += 1
        return f"{_WORDS[self.count % len(_WORDS)]}_{self.count}"


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[-1]]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    if "allOf" in schema and len(schema["allOf"]) == 1:
        schema = {**_resolve(schema["allOf"][0], defs), **{k: v for k, v in schema.items() if k != "allOf"}}
    return schema


def _string(schema: dict[str, Any], hint: str, namer: _Namer) -> str:
    pattern = schema.get("pattern")
    if pattern:
        for candidate in (
            namer.requirement_id(),
            namer.token(),
            f"/v1/{namer.token()}",
            f"/v1/{namer.token()}".replace("_", "-"),
            namer.token().upper(),
            str(namer.count),
        ):
            if re.search(pattern, candidate):
                return candidate
        raise AssertionError(f"fault server cannot produce a string for pattern {pattern!r}")
    text = namer.sentence(hint)
    limit = int(schema.get("maxLength", 10_000))
    if len(text) > limit and namer.extra:
        text = text[:limit]
    elif len(text) > limit:
        # a short value still names the brief's subject (an endpoint about "cedar 2" is off-topic)
        subject = max(namer.subject.split(), key=len, default="")
        text = f"{subject} {_WORDS[namer.count % len(_WORDS)]} {namer.count}".strip()[:limit]
    minimum = int(schema.get("minLength", 0))
    while len(text) < minimum:
        text += " More detail follows here."
    return text


def _number(schema: dict[str, Any], integer: bool) -> float | int:
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
    high = schema.get("maximum", schema.get("exclusiveMaximum", low + 100))
    value = low + (high - low) / 2 if high > low else low
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        value = schema["exclusiveMinimum"] + 1
    return int(value) if integer else round(float(value), 2)


def answer_for(
    schema: dict[str, Any], defs: dict[str, Any] | None = None, *, hint: str = "", namer: _Namer | None = None
) -> Any:
    """A value that satisfies ``schema`` (the subset pydantic emits for specdraft's section models)."""
    defs = schema.get("$defs", {}) if defs is None else defs
    namer = namer or _Namer()
    schema = _resolve(schema, defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        values = schema["enum"]
        if namer.choices.get(hint) in values:
            return namer.choices[hint]
        if namer.ids and values and all(isinstance(v, str) and _ID.fullmatch(v) for v in values):
            # covers limited to the spec's IDs: cite the listed ones in turn (or, with unknown_ids,
            # an ID the spec lacks, as a server that ignores the schema would)
            return namer.requirement_id()
        return values[0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [_resolve(o, defs) for o in schema[key]]
            chosen = next((o for o in options if o.get("type") != "null"), options[0])
            return answer_for(chosen, defs, hint=hint, namer=namer)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return {
            name: answer_for(prop, defs, hint=name, namer=namer)
            for name, prop in schema.get("properties", {}).items()
        }
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        count = min(count, int(schema.get("maxItems", count)))
        return [answer_for(schema.get("items", {}), defs, hint=hint, namer=namer) for _ in range(count)]
    if kind == "string":
        return _string(schema, hint, namer)
    if kind == "integer":
        return _number(schema, True)
    if kind == "number":
        return _number(schema, False)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, hint, namer)


def valid_content(
    body: dict[str, Any],
    *,
    extra: str = "",
    subject: str | None = None,
    ids: list[str] | None = None,
    choices: dict[str, str] | None = None,
) -> str:
    """The valid answer to a chat-completion request ``body``: generated from its schema, about the
    brief its prompt carries (``subject``), citing the requirement IDs its prompt lists (``ids``).
    The stand-in Batch API (helpers.batch_server) answers its lines with it too."""
    messages = body.get("messages") or []
    if subject is None:
        subject = brief_topic(" ".join(str(m.get("content", "")) for m in messages))
    if ids is None:
        asked = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
        ids = list(dict.fromkeys(_LISTED_ID.findall(asked)))
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
    return json.dumps(answer_for(schema, namer=_Namer(extra, subject, ids, choices or {})))


def violation_for(schema: dict[str, Any]) -> dict[str, Any]:
    """Well-formed JSON that breaks the schema: every required field has the wrong type."""
    props = schema.get("properties", {})
    return {name: 12345 for name in props} or {"unexpected": 12345}


# --------------------------------------------------------------------------------------------------
# HTTP


def _schema_name(body: Any) -> str:
    return str(((body or {}).get("response_format") or {}).get("json_schema", {}).get("name", ""))


def _completion(content: str, *, finish: str = "stop", cached_tokens: int = 0) -> dict[str, Any]:
    usage: dict[str, Any] = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    if cached_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}
        ],
        "usage": usage,
    }


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY, as real model servers set it: with Nagle's algorithm the body, written after the
        # headers, waited for the client's delayed ACK, and every answer took 40 ms more than asked
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if server.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if not server.chunked:
                self.wfile.write(data)
                return
            for start in range(0, len(data), 65536):
                chunk = data[start : start + 65536]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

        def _record(self, body: Any, action: str) -> None:
            server.received.append(
                Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    action,
                    time.monotonic(),
                )
            )

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/stats"):
                self._send_json(200, server.stats())
                return
            self._record(None, "models")
            if server.models_reply is not None:
                status, data = server.models_reply
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif self.path.rstrip("/").endswith("/models"):
                self._send_json(200, {"object": "list", "data": [{"id": MODEL_ID, "object": "model"}]})
            else:
                self._send_json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            with server._lock:
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                self._answer()
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            action = server.next_action()
            messages = (body or {}).get("messages") or [{}]
            if server.invalid_when and server.invalid_when in str(messages[-1].get("content", "")):
                action = "invalid"
            if server.fail_when and server.fail_when in json.dumps(messages):
                action = "500"
            asked = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
            ids = list(dict.fromkeys(_LISTED_ID.findall(asked)))
            with server._lock:
                if ids and action == "valid" and server.unknown_ids > 0:
                    server.unknown_ids -= 1
                    action, ids = "unknown_ids", [UNKNOWN_ID]
            self._record(body, action)
            server._arrived.set()
            response_format = (body or {}).get("response_format") or {}
            schema = (response_format.get("json_schema") or {}).get("schema") or {}
            extra = server.extra_text
            if action == "leak":
                system = [m.get("content", "") for m in body.get("messages", []) if m.get("role") == "system"]
                extra = " ".join(system)[:150]

            prompt = " ".join(str(m.get("content", "")) for m in (body or {}).get("messages", []))
            subject = brief_topic(prompt)
            if action == "off_topic":
                subject = "a self-service password reset for forgotten passwords"
            elif change := _REQUESTED_CHANGE.search(prompt):
                # a revision names what the request brings, as a model that made the change would
                subject = " ".join([subject, *request_names(change.group(1))]).strip()

            reply = server.replies.get(_schema_name(body))

            def valid() -> str:
                if reply is not None:
                    return reply if isinstance(reply, str) else reply(body)
                return valid_content(
                    body or {}, extra=extra, subject=subject, ids=ids, choices=server.choices
                )

            def completion(content: str) -> dict[str, Any]:
                return _completion(content, cached_tokens=server.cached_tokens)

            if action in ("500", "503"):
                message = "internal error" if action == "500" else "service unavailable"
                hint = {} if server.retry_after_ms is None else {"retry-after-ms": str(server.retry_after_ms)}
                self._send_json(int(action), {"error": {"message": message, "type": "server_error"}}, hint)
            elif action == "429":
                self._send_json(
                    429,
                    {"error": {"message": "rate limited", "type": "rate_limit_error"}},
                    {"Retry-After": f"{server.retry_after:g}"},
                )
            elif action == "slow":
                server.sleep(server.slow_seconds)
                self._send_json(200, completion(valid()))
            elif action == "drop":
                data = json.dumps(completion(valid())).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data) + 1000))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif action == "drip":
                data = json.dumps(completion(valid())).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                for index in range(len(data)):
                    if server._stop.is_set():
                        break
                    try:
                        self.wfile.write(data[index : index + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up: what a deadline should make it do
                        break
                    server.sleep(server.drip_seconds)
                self.close_connection = True
            elif action == "echo_auth":
                auth = self.headers.get("Authorization", "")
                message = f"Forbidden: the credentials '{auth}' are not allowed for this model"
                self._send_json(
                    server.echo_status,
                    {"error": {"message": message, "type": "invalid_request_error"}},
                )
            elif action == "truncated":
                data = json.dumps(completion(valid())).encode()
                data = data[: len(data) // 2]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            elif action == "invalid":
                self._send_json(200, completion(json.dumps(violation_for(schema))))
            elif action == "empty_choices":
                payload = completion("")
                payload["choices"] = []
                self._send_json(200, payload)
            elif action == "length":
                cut = valid()
                self._send_json(200, _completion(cut[: len(cut) // 2], finish="length"))
            elif action == "huge":
                self._send_json(200, completion(json.dumps({"text": "x" * server.huge_bytes})))
            else:
                self._send_json(200, completion(valid()))

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    #: a real server's listen backlog (socketserver's default of 5 resets connections when a batch
    #: opens dozens at once, and the client's transport retries would then be measured as overhead)
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, interrupt) leaves a broken pipe behind: expected here.
        pass


def start(server: FaultServer) -> tuple[_Server, threading.Thread]:
    httpd = _Server((server.host, server.port), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return httpd, thread


@contextmanager
def running() -> Iterator[FaultServer]:
    """A fault-injection server on 127.0.0.1, stopped when the block ends."""
    server = FaultServer()
    httpd, thread = start(server)
    try:
        yield server
    finally:
        server._stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(name="fault_server")
def fault_server_fixture() -> Iterator[FaultServer]:
    """A fault-injection OpenAI-compatible server for one test."""
    with running() as server:
        yield server


# A standalone server: python tests/helpers/fault_server.py [ACTION] [--slow-seconds S]
if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Serve OpenAI-compatible answers with one action.")
    parser.add_argument("action", nargs="?", default="valid", choices=(*OTHER_ACTIONS, *FAULT_KINDS))
    parser.add_argument("--slow-seconds", type=float, default=600.0, help="how long `slow` waits")
    arguments = parser.parse_args()
    standalone = FaultServer(default=arguments.action, slow_seconds=arguments.slow_seconds)
    standalone_httpd, _ = start(standalone)
    print(standalone.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standalone._stop.set()
        standalone_httpd.shutdown()
