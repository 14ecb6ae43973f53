"""A local stand-in for a package index (PEP 503 "simple" pages) serving chunk wheels built by the tests.

``GET /simple/{project}/`` lists the project's wheels with their sha256 (as PyPI does); ``GET /files/{name}``
serves one. A wheel can be made to drop the connection part-way (``drop``), every time until the test
lifts it, so pip's own retries do not hide the fault. Every request is logged for the tests to count.

The ``package_index`` fixture runs the server and points pip at it with an isolated configuration: no
config file, no cache, no retries, none of the machine's ``PIP_*`` settings. ``write_entry`` puts a small
GGUF made here in a user catalogue, pinned by its sha256, with a carrier of chunk wheels.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers.hub_server import make_gguf


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def build_wheel(
    project: str, version: str, members: dict[str, bytes], *, filename: str | None = None
) -> tuple[str, bytes]:
    """A minimal ``py3-none-any`` wheel of ``members`` plus the metadata pip reads: its name and bytes."""
    dist = re.sub(r"[-_.]+", "_", project)
    info = f"{dist}-{version}.dist-info"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n")
        archive.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{info}/RECORD", "")
    return filename or f"{dist}-{version}-py3-none-any.whl", buffer.getvalue()


@dataclass
class Carrier:
    """A model file cut into chunk wheels, the way the catalogue's ``[models.pypi]`` describes them."""

    package: str = "tiny-model-part{n}"
    version: str = "1.0.0"
    parts: int = 3
    data_path: str = "tiny_model_part{n}/data/part{n:02}.bin"

    def name(self, n: int) -> str:
        return self.package.replace("{n}", str(n))

    def member(self, n: int) -> str:
        return self.data_path.replace("{n:02}", f"{n:02d}").replace("{n}", str(n))

    def chunks(self, data: bytes) -> list[bytes]:
        step = -(-len(data) // self.parts)
        return [data[i * step : (i + 1) * step] for i in range(self.parts)]

    def toml(self) -> str:
        return (
            f'[models.pypi]\npackage = "{self.package}"\nversion = "{self.version}"\n'
            f'parts = {self.parts}\ndata_path = "{self.data_path}"\n'
        )


@dataclass
class Request:
    path: str
    status: int


@dataclass
class PackageIndex:
    """State of the stand-in index; tests publish wheels and read the request log."""

    port: int = 0
    #: canonical project name -> {wheel file name: bytes}
    projects: dict[str, dict[str, bytes]] = field(default_factory=dict)
    #: wheel file name -> bytes after which the connection is dropped (on every request while set)
    drop: dict[str, int] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple"

    def publish(self, project: str, version: str, members: dict[str, bytes]) -> str:
        """Serve a wheel of ``project`` holding ``members``; return its file name."""
        filename, data = build_wheel(project, version, members)
        self.projects.setdefault(canonical(project), {})[filename] = data
        return filename

    def publish_carrier(self, carrier: Carrier, data: bytes, *, skip: tuple[int, ...] = ()) -> list[str]:
        """Cut ``data`` into the carrier's chunks and publish one wheel per part (but those in ``skip``)."""
        names = []
        for n, chunk in enumerate(carrier.chunks(data), start=1):
            if n in skip:
                continue
            names.append(
                self.publish(
                    carrier.name(n),
                    carrier.version,
                    {
                        f"{canonical(carrier.name(n)).replace('-', '_')}/__init__.py": b"",
                        carrier.member(n): chunk,
                    },
                )
            )
        return names

    def wheel_gets(self) -> list[str]:
        """File names of the wheels requested, one per request, in order."""
        return [r.path.rsplit("/", 1)[-1] for r in self.requests if r.path.startswith("/files/")]

    def page_gets(self) -> list[str]:
        return [r.path for r in self.requests if r.path.startswith("/simple/")]


def _handler(state: PackageIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            return None

        def do_GET(self) -> None:
            if self.path.startswith("/simple/"):
                self._page(self.path.removeprefix("/simple/").strip("/"))
            elif self.path.startswith("/files/"):
                self._file(self.path.removeprefix("/files/"))
            else:
                self._status(404)

        def _log(self, status: int) -> None:
            with state.lock:
                state.requests.append(Request(self.path, status))

        def _status(self, status: int) -> None:
            self._log(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _page(self, project: str) -> None:
            wheels = state.projects.get(canonical(project))
            if not wheels:
                self._status(404)
                return
            links = "".join(
                f'<a href="/files/{name}#sha256={hashlib.sha256(data).hexdigest()}">{name}</a><br>\n'
                for name, data in wheels.items()
            )
            body = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()
            self._log(200)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _file(self, name: str) -> None:
            data = next((w[name] for w in state.projects.values() if name in w), None)
            if data is None:
                self._status(404)
                return
            self._log(200)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            cut = state.drop.get(name)
            if cut is not None:
                self.wfile.write(data[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # the connection drops mid-file
                return
            self.wfile.write(data)

    return Handler


@pytest.fixture(name="package_index")
def package_index_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    """A running stand-in index, with pip (in subprocesses) pointed at it and at nothing else."""
    state = PackageIndex()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", state.url)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_RESUME_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "10")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------- a verified test model

NAME = "tiny-coder"
REPO = "me/tiny-coder-GGUF"
FILE = "tiny-coder-q4_k_m.gguf"
DATA = make_gguf(payload_bytes=300_000, context_length=32768, seed=7)
SHA = hashlib.sha256(DATA).hexdigest()


def write_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, carrier: Carrier, data: bytes = DATA
) -> None:
    """A user catalogue with one verified entry (``data`` is its file) carried by ``carrier``."""
    fields: dict[str, object] = {
        "name": NAME,
        "repo": REPO,
        "files": [FILE],
        "size_bytes": len(data),
        "size_exact": True,
        "sha256": [hashlib.sha256(data).hexdigest()],
        "context_length": 32768,
        "min_ram_gb": 0.5,
    }
    lines = ["[[models]]"]
    for key, value in fields.items():
        text = str(value).lower() if isinstance(value, bool) else repr(value).replace("'", '"')
        lines.append(f"{key} = {text}")
    path = tmp_path / "user-models.toml"
    path.write_text("\n".join(lines) + "\n" + carrier.toml(), encoding="utf-8")
    monkeypatch.setenv("SPECDRAFT_CONFIG", str(path))


def hub_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point HF_ENDPOINT at a closed port on this machine."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
