"""A local HTTP server speaking enough of the Hugging Face Hub's file protocol for ``hf_hub_download``.

``HEAD|GET /{owner}/{repo}/resolve/{revision}/{filename}`` answers like the Hub does for a large (LFS)
file: a 302 to a CDN address on another host name (``localhost`` instead of ``127.0.0.1``, so the client
drops the Authorization header, as it must for a real CDN) carrying ``X-Repo-Commit``, ``X-Linked-Etag``
(the file's sha256) and ``X-Linked-Size``. ``GET /cdn/{id}`` serves the bytes with ``Range`` support.
Missing repos and files answer 404 with the Hub's ``X-Error-Code`` header; a repo can require a token (401).

Import the fixture into a test module with ``from hub_server import hub_fixture``; tests then take ``hub``.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def make_gguf(
    *,
    payload_bytes: int = 0,
    arch: str = "llama",
    context_length: int = 2048,
    block_count: int = 2,
    embedding_length: int = 64,
    head_count: int = 4,
    head_count_kv: int = 2,
    seed: int = 1,
    tensors: Sequence[tuple[str, Sequence[int]]] = (),
    metadata: Mapping[str, str | int] | None = None,
) -> bytes:
    """A GGUF v3 header with the usual architecture keys, followed by filler bytes.

    ``tensors`` (name, dimensions) become the tensor table (type F32, offsets packed in order; the filler
    stands in for their data); ``metadata`` adds string or uint64 key/values (e.g. general.size_label).
    """

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    def kv_u32(key: str, value: int) -> bytes:
        return string(key) + struct.pack("<I", 4) + struct.pack("<I", value)

    def kv_extra(key: str, value: str | int) -> bytes:
        if isinstance(value, str):
            return string(key) + struct.pack("<I", 8) + string(value)
        return string(key) + struct.pack("<I", 10) + struct.pack("<Q", value)

    pairs = [
        string("general.architecture") + struct.pack("<I", 8) + string(arch),
        # an array of strings, as tokenizers have, to exercise skipping
        string("tokenizer.ggml.tokens")
        + struct.pack("<IIQ", 9, 8, 3)
        + string("a")
        + string("b")
        + string("c"),
        kv_u32(f"{arch}.context_length", context_length),
        kv_u32(f"{arch}.block_count", block_count),
        kv_u32(f"{arch}.embedding_length", embedding_length),
        kv_u32(f"{arch}.attention.head_count", head_count),
        kv_u32(f"{arch}.attention.head_count_kv", head_count_kv),
        *(kv_extra(key, value) for key, value in (metadata or {}).items()),
    ]
    table, offset = [], 0
    for name, dims in tensors:
        table.append(
            string(name) + struct.pack(f"<I{len(dims)}QIQ", len(dims), *dims, 0, offset)  # type 0: F32
        )
        offset += 4 * math.prod(dims)
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(pairs)) + b"".join(pairs) + b"".join(table)
    filler = hashlib.sha256(str(seed).encode()).digest() * (payload_bytes // 32 + 1)
    return header + filler[:payload_bytes]


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    authorization: str | None


@dataclass
class HubServer:
    """State of the fake Hub; tests add files and read the request log."""

    port: int = 0
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)
    #: sha256 to advertise instead of the real one, per (repo, filename)
    fake_etag: dict[tuple[str, str], str] = field(default_factory=dict)
    #: drop the connection after this many body bytes, on the first full GET of that file only
    cut_after: dict[str, int] = field(default_factory=dict)
    #: repos that answer 401 unless this exact bearer token is sent
    token_required: dict[str, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, repo: str, filename: str, data: bytes) -> str:
        """Serve ``data`` as ``repo``/``filename``; return its sha256."""
        self.files[(repo, filename)] = data
        return hashlib.sha256(data).hexdigest()

    def data_gets(self) -> list[Request]:
        return [r for r in self.requests if r.method == "GET" and r.path.startswith("/cdn/")]

    def blob(self, blob_id: str) -> tuple[str, bytes] | None:
        for (repo, filename), data in self.files.items():
            if hashlib.sha256(f"{repo}/{filename}".encode()).hexdigest()[:32] == blob_id:
                return filename, data
        return None


_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")


def _handler(state: HubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            return None

        def do_HEAD(self) -> None:
            self._handle(body=False)

        def do_GET(self) -> None:
            self._handle(body=True)

        def _handle(self, *, body: bool) -> None:
            with state.lock:
                state.requests.append(
                    Request(
                        self.command, self.path, self.headers.get("Range"), self.headers.get("Authorization")
                    )
                )
            if self.path.startswith("/cdn/"):
                self._serve_blob(self.path.removeprefix("/cdn/"), body=body)
                return
            match = _RESOLVE.match(self.path)
            if not match:
                self._error(404, "RepoNotFound", "not a resolve URL")
                return
            repo, filename = match["repo"], match["file"]
            if not any(r == repo for r, _ in state.files):
                self._error(404, "RepoNotFound", f"Repository {repo} not found")
                return
            required = state.token_required.get(repo)
            if required and self.headers.get("Authorization") != f"Bearer {required}":
                self._error(401, "GatedRepo", "Access to this repo is restricted")
                return
            data = state.files.get((repo, filename))
            if data is None:
                self._error(404, "EntryNotFound", f"{filename} does not exist", commit=True)
                return
            sha = state.fake_etag.get((repo, filename), hashlib.sha256(data).hexdigest())
            blob_id = hashlib.sha256(f"{repo}/{filename}".encode()).hexdigest()[:32]
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{state.port}/cdn/{blob_id}")
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", '"0000000000000000000000000000000000000000"')
            self.send_header("X-Linked-Etag", f'"{sha}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _serve_blob(self, blob_id: str, *, body: bool) -> None:
            found = state.blob(blob_id)
            if found is None:
                self._error(404, "EntryNotFound", "no such blob")
                return
            filename, data = found
            start = 0
            range_header = self.headers.get("Range")
            if range_header:
                match = re.fullmatch(r"bytes=(\d+)-", range_header.strip())
                assert match, f"unsupported Range {range_header!r}"
                start = int(match[1])
            chunk = data[start:]
            self.send_response(206 if range_header else 200)
            if range_header:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(chunk)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if not body:
                return
            cut = state.cut_after.get(filename)
            if cut is not None and not range_header:
                del state.cut_after[filename]
                self.wfile.write(chunk[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # the connection drops mid-file
                return
            self.wfile.write(chunk)

        def _error(self, status: int, code: str, message: str, *, commit: bool = False) -> None:
            payload = f'{{"error": "{message}"}}'.encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            if commit:
                self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

    return Handler


@pytest.fixture(name="hub")
def hub_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    """A running fake Hub, with HF_ENDPOINT pointing at it and every cache and config under tmp_path."""
    state = HubServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    isolate_env(tmp_path, monkeypatch)
    monkeypatch.setenv("HF_ENDPOINT", state.url)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def isolate_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every model, cache and config location at tmp_path; drop settings that would leak in."""
    monkeypatch.setenv("SPECDRAFT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # huggingface_hub falls back to a token file in the real home when HF_TOKEN is unset.
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "hf-home" / "token"))
    monkeypatch.setattr(hf_constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "hf-home" / "stored_tokens"))
    for name in (
        "SPECDRAFT_CONFIG",
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_HUB_CACHE",
        "HUGGINGFACE_HUB_CACHE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
