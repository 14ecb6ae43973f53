"""The ONE lifecycle of a spec: its status (DRAFT -> REVIEW -> APPROVED), the steps between, and the guard.

Why in ``agent.specdoc`` and not in ``agent.signoff``: the status is a property of the spec document, and
two sibling layers need the same rules. ``agent.drafting`` rewrites specs (refine, the chat session,
undo and redo, which the MCP server and the CLI both drive) and ``agent.signoff`` moves them along
(review, approve, reopen). Siblings do not import each other (docs/architecture.md), so the rules sit
one layer below both, beside the document they are about, and every arrow still points down.

The guard is called by each writer itself, at write time, on the file as it is then
(``Refiner.apply``, undo, redo): no entry point (CLI, chat session, MCP tool, the Python API) can
rewrite an APPROVED spec, however it got there. The one way back is reopening
(``agent.signoff.transitions.reopen``: every approval is marked superseded, the status is DRAFT
again); `specdraft reopen`, or ``--reopen`` on chat and refine, do it. A spec in REVIEW stays editable:
an edit breaks no approval that holds, and ``verify`` names any that an edit breaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent.errors import InputError, LifecycleError, NotEditableError
from agent.specdoc.document import SpecDocument


class Status(StrEnum):
    """Where a spec is in review and sign-off (front matter ``status:`` and the footer's **Status**:)."""

    DRAFT = "DRAFT"
    REVIEW = "REVIEW"
    APPROVED = "APPROVED"


#: the status values, in lifecycle order (for messages and lint)
STATUSES: tuple[str, ...] = tuple(status.value for status in Status)

#: what the guard says when it refuses an edit; the CLI's chat and refine name their --reopen instead
REOPEN_HINT = (
    "Reopen it first: `specdraft reopen SPEC` sets it back to DRAFT (existing approvals then no longer hold)."
)


@dataclass(frozen=True)
class Step:
    """A lifecycle step: the statuses it may start from, and what it says when it may not."""

    name: str
    allowed: frozenset[Status]
    refusal: str  # formatted with {source}
    hint: str  # formatted with {source}


REVIEW = Step(
    "review",
    frozenset({Status.DRAFT, Status.REVIEW}),
    "{source} is already APPROVED.",
    "Reopen it before another review.",
)
APPROVE = Step(
    "approve",
    frozenset({Status.REVIEW, Status.APPROVED}),
    "{source} is a DRAFT; it goes to REVIEW before approval.",
    "Run `specdraft review {source}` first.",
)
REOPEN = Step("reopen", frozenset(Status), "", "")


def status_of(doc: SpecDocument) -> Status | None:
    """The status when it is a lifecycle value (any case, spaces around), else None; never raises."""
    if doc.status is None:
        return None
    try:
        return Status(doc.status.strip().upper())
    except ValueError:
        return None


def current_status(doc: SpecDocument) -> Status:
    """The lifecycle status from the front matter (InputError when absent or not a lifecycle value)."""
    if doc.status is None:
        raise InputError(
            f"{doc.source}: the front matter has no 'status'.",
            hint="A drafted spec starts with 'status: DRAFT'.",
        )
    status = status_of(doc)
    if status is None:
        raise InputError(
            f"{doc.source}: status '{doc.status}' is not one of {', '.join(STATUSES)}.",
            hint="Set 'status: DRAFT' in the front matter and the footer's **Status**: line.",
        )
    return status


def begin(doc: SpecDocument, step: Step) -> Status:
    """The status ``step`` starts from; LifecycleError when the step may not start from it."""
    status = current_status(doc)
    if status not in step.allowed:
        raise LifecycleError(step.refusal.format(source=doc.source), hint=step.hint.format(source=doc.source))
    return status


def set_status(doc: SpecDocument, status: Status | str) -> SpecDocument:
    """Set the status in the front matter and on the footer's **Status**: line (when there is one)."""
    value = Status(status).value  # a plain str in the YAML, never the enum
    data = dict(doc.front_matter)
    data["status"] = value
    new = doc.with_front_matter(data)
    if new.footer is not None and "Status" in new.footer.fields:
        new = new.with_footer_field("Status", value)
    return new


def is_editable(doc: SpecDocument) -> bool:
    """May a writer change this spec's text? Not while it is APPROVED (a missing or odd status may)."""
    return status_of(doc) is not Status.APPROVED


def ensure_editable(doc: SpecDocument) -> None:
    """The guard every writer calls before it rewrites a spec: NotEditableError for an APPROVED one."""
    if not is_editable(doc):
        raise NotEditableError(
            f"{doc.source} is APPROVED; it is not edited without reopening it.", hint=REOPEN_HINT
        )
