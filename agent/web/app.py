"""The review page's ASGI app: ``create_app(settings)`` -> a Starlette application.

Pages (GET): ``/`` the list of specs, ``/spec/<root>/<path>`` one spec, ``/history/<root>/<path>`` its
diffs, ``/events...`` their live updates. Actions (POST ``/act/<action>/<root>/<path>``,
``agent.web.actions``): comment, resolve, propose and apply a refine instruction, review, approve.
Every request passes ``agent.web.security`` first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from agent.errors import SpecdraftError
from agent.signoff.steps import approved_text, version_sha256
from agent.specdoc.document import load_spec
from agent.web import actions, live
from agent.web.history import revisions, side_by_side
from agent.web.refining import Refining
from agent.web.roots import SpecRoots
from agent.web.security import Guard, middleware
from agent.web.specinfo import RowCache, SpecRow, spec_view
from agent.web.state import AppState, ServeSettings
from agent.web.views import HERE, not_found, page, render_spec_page, spec_ref

__all__ = ["ServeSettings", "create_app"]


def list_rows(state: AppState) -> tuple[list[SpecRow], bool]:
    refs, cut = state.roots.walk()
    rows = [row for ref in refs if (row := state.rows.row(ref)) is not None]
    return rows, cut


async def list_page(request: Request) -> Response:
    state: AppState = request.app.state.review
    rows, cut = await asyncio.to_thread(list_rows, state)
    folders = [str(folder) for folder in state.roots.folders]
    return page(request, "list.html", rows=rows, cut=cut, folders=folders, events="/events")


async def spec_page(request: Request) -> Response:
    ref = spec_ref(request)
    if ref is None:
        return not_found()
    return await render_spec_page(request, ref, verify_signatures="verify" in request.query_params)


async def history_page(request: Request) -> Response:

    ref = spec_ref(request)
    if ref is None:
        return not_found()
    try:
        view = await asyncio.to_thread(spec_view, ref)
    except SpecdraftError as exc:
        return page(request, "error.html", 400, message=str(exc))
    found, problem = revisions(ref)
    approved = approved_text(ref.path, view.doc) if not view.report.ok else None
    since = side_by_side(approved, view.doc.serialise()) if approved is not None else None
    return page(
        request,
        "history.html",
        view=view,
        revisions=found,
        problem=problem,
        since_approval=since,
        events=f"/events/{quote(ref.key, safe='/')}",
    )


async def list_events(request: Request) -> Response:
    state: AppState = request.app.state.review
    stream = live.events(
        state.roots.folders, lambda p: p.suffix == ".md", state.stream_stop(), recursive=True
    )
    return _sse(stream)


async def spec_events(request: Request) -> Response:
    state: AppState = request.app.state.review
    ref = spec_ref(request)
    if ref is None:
        return not_found()
    watched = live.spec_files(ref.path)
    since = request.query_params.get("since")

    def changed() -> bool:
        """The spec is no longer the version the page shows."""
        try:
            return since is not None and version_sha256(load_spec(ref.path)) != since
        except SpecdraftError:
            return True

    stream = live.events(
        [ref.path.parent], lambda p: p in watched, state.stream_stop(), recursive=False, changed=changed
    )
    return _sse(stream)


def _sse(stream: AsyncIterator[str]) -> Response:
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


def create_app(settings: ServeSettings) -> Starlette:

    guard = Guard(settings.token, settings.hosts)
    state = AppState(settings, SpecRoots(settings.folders), guard, RowCache())
    if settings.model is not None:
        state.refining = Refining(settings.model, settings.refine_options)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        state.shut_down()  # open event streams end, so the server stops at once
        if state.refining is not None:
            await asyncio.to_thread(state.refining.close)  # the embedded engine, when it was started

    routes = [
        Route("/", list_page),
        Route("/spec/{root:int}/{rel:path}", spec_page),
        Route("/history/{root:int}/{rel:path}", history_page),
        Route("/events", list_events),
        Route("/events/{root:int}/{rel:path}", spec_events),
        Route("/act/{action:str}/{root:int}/{rel:path}", actions.act, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=middleware(guard))],
        lifespan=lifespan,
    )
    app.state.review = state
    return app
