"""What the review page changes, each through the code the CLI command runs (no second implementation).

* comment: ``CommentStore.add`` (as ``specdraft comments --add``); resolve: ``CommentStore.resolve``
* review: ``agent.signoff.steps.review_file`` (as ``specdraft review``)
* propose and apply a refine instruction: ``agent.web.refining`` (``Refiner``, as ``specdraft refine``:
  the diff first, written only when applied)
* approve: ``agent.signoff.steps.approve_file`` (as ``specdraft approve``), signed with a key the server
  was given; the browser picks it by position and never sees it

Each form carries the CSRF token and the version (sha256) of the text the page showed: a spec edited or
approved since is refused with the reason (409) and nothing is written.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from agent.drafting.refine import check_instruction
from agent.errors import ChangedOnDiskError, InputError, LifecycleError, SpecdraftError
from agent.io.redact import redact
from agent.io.validation import indexed, validation_message
from agent.signoff.records import Person
from agent.signoff.steps import approve_file, ensure_version, review_file
from agent.specdoc.comments import CommentStore
from agent.specdoc.document import load_spec
from agent.web.history import side_by_side
from agent.web.roots import SpecRef
from agent.web.state import AppState
from agent.web.views import DONE, not_found, page, render_spec_page, spec_ref

MAX_FIELD = 4000


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    text = value if isinstance(value, str) else ""
    if len(text) > MAX_FIELD:
        raise InputError(f"The field '{name}' has {len(text):,} characters; the limit is {MAX_FIELD:,}.")
    return text


def _number(form: FormData, name: str) -> int | None:
    text = _field(form, name).strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputError(f"'{name}' must be a number (got '{text[:20]}').")
    return int(text)


def _person(form: FormData) -> Person:
    try:
        return Person(name=_field(form, "name").strip(), email=_field(form, "email").strip())
    except ValidationError as exc:
        raise InputError(f"Who approves: {validation_message(exc, where=indexed())}.") from None


def _run(action: str, state: AppState, ref: SpecRef, form: FormData) -> None:
    version = _field(form, "version") or None
    if action == "comment":
        doc = load_spec(ref.path)
        ensure_version(doc, version)  # the line a comment points at is a line of the text shown
        by = _field(form, "name") or "reviewer"
        CommentStore(ref.path).add(
            doc,
            _field(form, "text"),
            by=by,
            section=_field(form, "section") or None,
            line=_number(form, "line"),
        )
    elif action == "resolve":
        ident = _number(form, "comment")
        if ident is None:
            raise InputError("Which comment? The form named none.")
        CommentStore(ref.path).resolve(ident, by=_field(form, "name") or "reviewer")
    elif action == "apply":
        if state.refining is None:
            raise InputError("This server was started without a model to refine with.")
        state.refining.apply(ref, _field(form, "proposal"))
    elif action == "review":
        review_file(ref.path, expected_sha256=version)
    elif action == "approve":
        key = _number(form, "key")
        keys = state.settings.ssh_keys
        if key is not None and not 0 <= key < len(keys):
            raise InputError("That SSH key is not one this server was given.")
        approve_file(
            ref.path,
            by=_person(form),
            role=_field(form, "role").strip() or None,
            note=_field(form, "note").strip() or None,
            ssh_key=keys[key] if key is not None else None,
            expected_sha256=version,
        )


def _status_for(exc: SpecdraftError) -> int:
    if isinstance(exc, ChangedOnDiskError | LifecycleError):
        return 409
    return 400 if isinstance(exc, InputError) else 500


async def act(request: Request) -> Response:
    state: AppState = request.app.state.review
    action = str(request.path_params["action"])
    form = await request.form()
    if not state.guard.csrf_ok(form.get("csrf") if isinstance(form.get("csrf"), str) else None):  # type: ignore[arg-type]
        return PlainTextResponse(
            "Forbidden: the form's CSRF token is missing or wrong. Reload the page.", 403
        )
    ref = spec_ref(request)
    if ref is None or action not in (*DONE, "propose"):
        return not_found()
    if action == "propose":
        return await _propose(request, state, ref, form)
    try:
        try:
            await asyncio.to_thread(_run, action, state, ref, form)
        except OSError as exc:  # a disk full or a folder made read-only: said, not a traceback
            raise SpecdraftError(f"Could not write next to {ref.rel}: {exc.strerror or exc}.") from None
    except SpecdraftError as exc:
        # what the reviewer typed is given back, secrets masked like the error that may quote them
        kept: dict[str, Any] = {
            k: redact(_field(form, k)) for k in ("name", "email") if isinstance(form.get(k), str)
        }
        return await render_spec_page(request, ref, error=str(exc), status_code=_status_for(exc), form=kept)
    anchor = {"comment": "comments", "resolve": "comments", "apply": "refine"}.get(action, "actions")
    return RedirectResponse(f"/spec/{quote(ref.key, safe='/')}?done={action}#{anchor}", status_code=303)


async def _propose(request: Request, state: AppState, ref: SpecRef, form: FormData) -> Response:
    """Ask the model for the change and show its diff; nothing is written until it is applied."""
    try:
        if state.refining is None:
            raise InputError("This server was started without a model to refine with.")
        refining = state.refining
        instruction = check_instruction(_field(form, "instruction"))
        pending = await asyncio.to_thread(refining.propose, ref, instruction, _field(form, "version") or None)
    except SpecdraftError as exc:
        return await render_spec_page(request, ref, error=str(exc), status_code=_status_for(exc))
    changes = [(c.title, side_by_side(c.before, c.after)) for c in pending.proposal.changes]
    return page(
        request,
        "proposal.html",
        ref=ref,
        pending=pending,
        changes=changes,
        events=f"/events/{quote(ref.key, safe='/')}",
    )
