"""A stand-in for OpenAI's Batch API on 127.0.0.1, in a thread: ``/v1/files`` and ``/v1/batches``.

It takes what the ``openai`` SDK sends: a request file uploaded as multipart (``POST /v1/files``), a batch
over it (``POST /v1/batches``), polls (``GET /v1/batches/{id}``), the list (``GET /v1/batches``, paged by
``limit`` and ``after``), a cancel (``POST /v1/batches/{id}/cancel``), a file's record (``GET
/v1/files/{id}``) and downloads (``GET /v1/files/{id}/content``). Each line is
answered with the suite's generated valid answer for its body (helpers.fault_server.valid_content), so
the answers are the ones the live fake server gives to the same request.

Behaviour to script:

* ``polls_to_complete``: a batch ends at the poll that makes this many (``in_progress`` before), unless
  ``hold`` is set (a batch that takes hours);
* ``fail_every``: every Nth line of a batch (1-based, N, 2N, ...) fails (HTTP 500 in the error file);
* ``expire``: the batches (1-based, in creation order) that expire: their first half answered, the rest
  in the error file with ``batch_expired``;
* ``rate_limit_every``: every Nth API request gets HTTP 429 with ``retry-after-ms: 5``;
* ``replies``: schema name -> content, instead of the generated answer (e.g. a rejected answer);
* ``echo_auth``: creating a batch is refused with HTTP 403 quoting the request's Authorization header;
* results come back in reverse order of the request file.

What it saw: ``uploads``, ``created`` (batch ids in order), ``requests`` (method, path), ``lines`` (every
request line of every batch), ``rate_limited`` (429s sent).
"""

from __future__ import annotations

import email.parser
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from helpers.fault_server import _completion, valid_content

_BATCH = re.compile(r"^/v1/batches/(?P<id>[^/]+)(?P<cancel>/cancel)?$")
_CONTENT = re.compile(r"^/v1/files/(?P<id>[^/]+)/content$")
_FILE = re.compile(r"^/v1/files/(?P<id>[^/]+)$")


@dataclass
class BatchServer:
    host: str = "127.0.0.1"
    port: int = 0
    polls_to_complete: int = 2
    #: while True no batch ends (a batch that takes hours)
    hold: bool = False
    fail_every: int = 0
    expire: set[int] = field(default_factory=set)
    rate_limit_every: int = 0
    replies: dict[str, str] = field(default_factory=dict)
    #: POST /v1/batches answers 403 quoting the request's Authorization header, as some gateways do
    echo_auth: bool = False
    files: dict[str, bytes] = field(default_factory=dict)
    file_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    uploads: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    rate_limited: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # ------------------------------------------------------------------ the API

    def upload(self, content: bytes, filename: str) -> dict[str, Any]:
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = content
        self.uploads.append(file_id)
        self.file_records[file_id] = _file(file_id, filename, len(content))
        return self.file_records[file_id]

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        batch_id = f"batch_{len(self.batches) + 1}"
        total = len(self.files[request["input_file_id"]].decode().splitlines())
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": request["endpoint"],
            "errors": None,
            "input_file_id": request["input_file_id"],
            "completion_window": request["completion_window"],
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": int(time.time()),
            "request_counts": {"total": total, "completed": 0, "failed": 0},
            "metadata": request.get("metadata"),
        }
        self.batches[batch_id] = batch
        self.created.append(batch_id)
        self.polls[batch_id] = 0
        return batch

    def page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """One page of the list, newest first, as the API pages it (``limit``, ``after`` a batch id)."""
        newest_first = list(reversed(self.created))
        after = query.get("after", [""])[0]
        start = newest_first.index(after) + 1 if after in newest_first else 0
        limit = int(query.get("limit", ["20"])[0])
        shown = newest_first[start : start + limit]
        data = [self.batches[b] for b in shown]
        return {"object": "list", "data": data, "has_more": start + limit < len(newest_first)}

    def poll(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        if batch["status"] in ("completed", "expired", "cancelled", "failed"):
            return batch
        self.polls[batch_id] += 1
        if self.hold or self.polls[batch_id] < self.polls_to_complete:
            batch["status"] = "in_progress"
            return batch
        self._finish(batch, expired=self.created.index(batch_id) + 1 in self.expire)
        return batch

    def cancel(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        batch["status"] = "cancelled"
        return batch

    def _finish(self, batch: dict[str, Any], *, expired: bool) -> None:
        lines = [json.loads(raw) for raw in self.files[batch["input_file_id"]].decode().splitlines()]
        self.lines.extend(lines)
        answered, errors = [], []
        for number, line in enumerate(lines, start=1):
            custom_id = line["custom_id"]
            if expired and number > len(lines) // 2:
                error = {
                    "code": "batch_expired",
                    "message": "This request could not be executed before the completion window expired.",
                }
                errors.append(
                    {"id": f"req_{number}", "custom_id": custom_id, "response": None, "error": error}
                )
            elif self.fail_every and number % self.fail_every == 0:
                body = {"error": {"message": "internal error", "type": "server_error"}}
                errors.append(_result(number, custom_id, 500, body))
            else:
                answered.append(_result(number, custom_id, 200, self._answer(line["body"])))
        batch["status"] = "expired" if expired else "completed"
        batch["request_counts"] = {"total": len(lines), "completed": len(answered), "failed": len(errors)}
        batch["output_file_id"] = self._store(answered, "output") if answered else None
        batch["error_file_id"] = self._store(errors, "errors") if errors else None

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body["response_format"]["json_schema"]["name"]
        content = self.replies.get(name) or valid_content(body)
        return _completion(content)

    def _store(self, results: list[dict[str, Any]], kind: str) -> str:
        file_id = f"file-{kind}-{len(self.files) + 1}"
        # out of order, as the API does not promise any
        self.files[file_id] = "".join(json.dumps(r) + "\n" for r in reversed(results)).encode()
        return file_id


def _file(file_id: str, filename: str, size: int) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": int(time.time()),
        "filename": filename,
        "purpose": "batch",
        "status": "processed",
    }


def _result(number: int, custom_id: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    response = {"status_code": status, "request_id": f"req_{number}", "body": body}
    return {"id": f"batch_req_{number}", "custom_id": custom_id, "response": response, "error": None}


def _multipart_file(content_type: str, data: bytes) -> tuple[bytes, str]:
    """The ``file`` part of a multipart body: its bytes and file name."""
    message = email.parser.BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + data)
    for part in message.walk():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return (payload if isinstance(payload, bytes) else b""), str(part.get_filename() or "")
    raise AssertionError("no file part in the upload")


def _handler(server: BatchServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _limited(self) -> bool:
            """Every ``rate_limit_every``-th request is refused with 429 (the SDK retries it)."""
            server.requests.append((self.command, self.path))
            if server.rate_limit_every and len(server.requests) % server.rate_limit_every == 0:
                server.rate_limited += 1
                error = {"error": {"message": "rate limited", "type": "rate_limit_error"}}
                self._send(429, error, {"retry-after-ms": "5"})
                return True
            return False

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            with server._lock:
                if self._limited():
                    return
                if path == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})
                elif path == "/v1/batches":
                    self._send(200, server.page(parse_qs(urlsplit(self.path).query)))
                elif match := _BATCH.match(path):
                    self._send(200, server.poll(match["id"]))
                elif match := _CONTENT.match(path):
                    self._send(200, server.files[match["id"]])
                elif match := _FILE.match(path):
                    self._send(200, server.file_records[match["id"]])
                else:
                    self._send(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            path = self.path.split("?", 1)[0]
            with server._lock:
                if self._limited():
                    return
                if path == "/v1/files":
                    content, name = _multipart_file(self.headers["Content-Type"], data)
                    self._send(200, server.upload(content, name))
                elif path == "/v1/batches" and server.echo_auth:
                    message = f"Forbidden: '{self.headers.get('Authorization', '')}' may not create batches"
                    self._send(403, {"error": {"message": message, "type": "invalid_request_error"}})
                elif path == "/v1/batches":
                    self._send(200, server.create(json.loads(data)))
                elif (match := _BATCH.match(path)) and match["cancel"]:
                    self._send(200, server.cancel(match["id"]))
                else:
                    self._send(404, {"error": {"message": "not found"}})

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(name="batch_server")
def batch_server_fixture() -> Iterator[BatchServer]:
    """A stand-in Batch API for one test."""
    server = BatchServer()
    httpd = _Server((server.host, server.port), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
