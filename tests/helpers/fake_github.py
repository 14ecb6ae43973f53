"""A fake GitHub REST API on 127.0.0.1 for export tests: issues with Link pagination, milestones, faults.

``fake_github.fail`` is a queue of faults for the next requests: "401", "422", "ratelimit" (403 with
x-ratelimit-remaining 0 and a reset time), "retry" (429 with retry-after 0), "echo-token" (a 500 whose
message repeats the Authorization header). ``echo_token_in_url`` makes every issue's ``html_url`` carry
the request's token; ``next_base`` replaces the API base in ``Link`` next-page URLs (a hostile server).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest


@dataclass
class FakeGithub:
    repo: str = "acme/widgets"
    token: str = "ghp_testtoken_0123456789abcdef"
    per_page: int = 2
    issues: list[dict[str, Any]] = field(default_factory=list)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    fail: deque[str] = field(default_factory=deque)
    requests: list[tuple[str, str]] = field(default_factory=list)
    echo_token_in_url: bool = False
    next_base: str | None = None
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_issue(self, title: str, body: str | None = None) -> dict[str, Any]:
        number = len(self.issues) + 1
        url = f"https://github.example/{self.repo}/issues/{number}"
        issue = {
            "number": number,
            "title": title,
            "html_url": url + (f"?t={self.token}" if self.echo_token_in_url else ""),
            "state": "open",
        }
        if body is not None:
            issue["body"] = body
        self.issues.append(issue)
        return issue

    @property
    def created(self) -> list[dict[str, Any]]:
        return [i for i in self.issues if "labels" in i]


def _handler(fake: FakeGithub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _fault(self) -> bool:
            with fake._lock:
                fault = fake.fail.popleft() if fake.fail else None
            if fault is None:
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self._send(401, {"message": "Bad credentials"})
                    return True
                return False
            if fault == "401":
                self._send(401, {"message": "Bad credentials"})
            elif fault == "422":
                self._send(422, {"message": "Validation Failed", "errors": [{"code": "invalid"}]})
            elif fault == "ratelimit":
                self._send(
                    403,
                    {"message": "API rate limit exceeded"},
                    {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"},
                )
            elif fault == "retry":
                self._send(429, {"message": "slow down"}, {"retry-after": "0"})
            elif fault == "echo-token":
                self._send(500, {"message": f"internal error for {self.headers.get('Authorization')}"})
            return True

        def do_GET(self) -> None:
            url = urlparse(self.path)
            fake.requests.append(("GET", self.path))
            if self._fault():
                return
            base = f"/repos/{fake.repo}"
            if url.path == f"{base}/issues":
                query = parse_qs(url.query)
                page = int(query.get("page", ["1"])[0])
                start = (page - 1) * fake.per_page
                chunk = fake.issues[start : start + fake.per_page]
                headers = {}
                if start + fake.per_page < len(fake.issues):
                    headers["Link"] = (
                        f'<{fake.next_base or fake.api}{base}/issues?state=all&page={page + 1}>; rel="next"'
                    )
                self._send(200, chunk, headers)
            elif url.path == f"{base}/milestones":
                self._send(200, fake.milestones)
            else:
                self._send(404, {"message": "Not Found"})

        def do_POST(self) -> None:
            url = urlparse(self.path)
            fake.requests.append(("POST", self.path))
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length) or b"{}")
            if self._fault():
                return
            base = f"/repos/{fake.repo}"
            if url.path == f"{base}/issues":
                with fake._lock:
                    issue = fake.add_issue(payload["title"])
                    issue.update(body=payload.get("body", ""), labels=payload.get("labels", []))
                    if "milestone" in payload:
                        issue["milestone"] = payload["milestone"]
                self._send(201, issue)
            elif url.path == f"{base}/milestones":
                milestone = {"number": len(fake.milestones) + 1, "title": payload["title"]}
                fake.milestones.append(milestone)
                self._send(201, milestone)
            else:
                self._send(404, {"message": "Not Found"})

    return Handler


@pytest.fixture(name="fake_github")
def fake_github_fixture() -> Iterator[FakeGithub]:
    """A loopback fake of the GitHub issues API for one test."""
    fake = FakeGithub()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
