"""What guards the review page: the per-run token, the Host and Origin checks, CSRF, response headers.

* Every request carries the run's random token: in the URL ``specdraft serve`` prints (``?token=``, as
  Jupyter does), then in an HttpOnly, SameSite=Strict cookie set by a redirect to the same page without
  the token in its address. Without it: 403.
* The Host header must name the address served (a DNS-rebinding page cannot reach the server).
* A state-changing request is a POST with the page's CSRF token and an Origin (or Referer) of this
  server; anything else is refused before any file is read.
* Pages forbid scripts, styles and frames from anywhere else (Content-Security-Policy), are not cached and
  send a Referer only to this server (the token never leaks into another site's logs; a stricter
  policy would make the browser send `Origin: null` with the forms).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Guard:
    """The checks every request passes, for one run's token and the hosts it answers to."""

    def __init__(self, token: str, hosts: set[str]) -> None:
        self.token = token
        self.hosts = {host.lower() for host in hosts}
        digest = hashlib.sha256(token.encode()).hexdigest()
        #: one cookie per run, so two servers on one machine do not log each other out
        self.cookie = f"specdraft_{digest[:10]}"
        #: the CSRF token forms carry (derived, so it is stable for the run and never the token itself)
        self.csrf = hmac.new(token.encode(), b"csrf", hashlib.sha256).hexdigest()

    def host_ok(self, request: Request) -> bool:
        host = request.headers.get("host", "").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return host in self.hosts or name in self.hosts

    def token_ok(self, request: Request) -> tuple[bool, bool]:
        """(authorised, came in the URL: set the cookie)."""
        given = request.query_params.get("token")
        if given is not None and hmac.compare_digest(given.encode(), self.token.encode()):
            return True, True
        cookie = request.cookies.get(self.cookie, "")
        return hmac.compare_digest(cookie.encode(), self.token.encode()), False

    def origin_ok(self, request: Request) -> bool:
        """The POST comes from a page of this server (Origin, else Referer, names this host)."""
        origin = request.headers.get("origin") or request.headers.get("referer")
        if not origin or origin == "null":
            return False
        parts = urlsplit(origin)
        return (
            parts.scheme in ("http", "https")
            and parts.netloc.lower() == request.headers.get("host", "").lower()
        )

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


Handler = Callable[[Request], Awaitable[Response]]


def middleware(guard: Guard) -> Callable[[Request, Handler], Awaitable[Response]]:
    """The HTTP middleware: Host, token, then the response headers (and the cookie on first use)."""

    async def check(request: Request, call_next: Handler) -> Response:
        if not guard.host_ok(request):
            return _headed(PlainTextResponse("Unknown host.", status_code=400))
        authorised, from_url = guard.token_ok(request)
        if not authorised:
            text = "Forbidden: open the address `specdraft serve` printed (it ends with ?token=...)."
            return _headed(PlainTextResponse(text, status_code=403))
        if request.method not in ("GET", "HEAD", "POST"):
            return _headed(PlainTextResponse("Method not allowed.", status_code=405))
        if request.method == "POST" and not guard.origin_ok(request):
            return _headed(PlainTextResponse("Forbidden: the request did not come from this page.", 403))
        if from_url and request.method == "GET":
            # the token moves into the cookie and out of the address bar (and the browser's history)
            query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            response: Response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), 303)
        else:
            response = await call_next(request)
        if from_url:
            response.set_cookie(guard.cookie, guard.token, httponly=True, samesite="strict", path="/")
        return _headed(response)

    return check


def _headed(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
