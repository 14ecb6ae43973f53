"""Rendering the review page's templates, and the page of one spec (shown again after a refused action)."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from agent.errors import SpecdraftError
from agent.io.redact import redact
from agent.signoff.verification import verify
from agent.web.rendering import render_spec
from agent.web.roots import SpecRef
from agent.web.specinfo import spec_view
from agent.web.state import AppState

HERE = Path(__file__).parent
#: what the page says after an action succeeded (?done=...), never text from the request
DONE = {
    "comment": "Comment added.",
    "resolve": "Comment resolved.",
    "review": "The spec is in REVIEW.",
    "approve": "Approval recorded.",
    "apply": "Change applied and recorded in the history.",
}


@functools.cache
def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["url"] = lambda key: quote(key, safe="/")
    env.filters["percent"] = lambda value: "-" if value is None else f"{value:.0%}"
    return env


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    state: AppState = request.app.state.review
    context.setdefault("events", "")
    for key in ("error", "message"):  # an error's text may quote a configured key or a URL with one
        if isinstance(context.get(key), str):
            context[key] = redact(context[key])
    html = templates().get_template(template).render(csrf=state.guard.csrf, **context)
    return HTMLResponse(html, status_code=status_code)


def spec_ref(request: Request) -> SpecRef | None:
    state: AppState = request.app.state.review
    return state.roots.resolve(int(request.path_params["root"]), str(request.path_params["rel"]))


def not_found() -> Response:
    return PlainTextResponse("Not found.", status_code=404)


async def render_spec_page(
    request: Request,
    ref: SpecRef,
    *,
    error: str | None = None,
    status_code: int = 200,
    verify_signatures: bool = False,
    form: dict[str, str] | None = None,
) -> Response:
    state: AppState = request.app.state.review
    try:
        view = await asyncio.to_thread(spec_view, ref)
    except SpecdraftError as exc:
        return page(request, "error.html", 400, message=str(exc))
    signers = state.settings.allowed_signers
    checked = None
    if verify_signatures:
        checked = await asyncio.to_thread(verify, view.doc, allowed_signers=signers)
    identity = state.settings.identity
    return page(
        request,
        "spec.html",
        status_code,
        view=view,
        rendered=render_spec(view.doc, view.findings),
        error=error,
        done=DONE.get(request.query_params.get("done", "")),
        checked=checked,
        signers=signers,
        keys=[key.name for key in state.settings.ssh_keys],
        can_refine=state.refining is not None,
        name=(form or {}).get("name", identity.name if identity else ""),
        email=(form or {}).get("email", identity.email if identity else ""),
        events=f"/events/{quote(ref.key, safe='/')}?since={view.version}",
    )
