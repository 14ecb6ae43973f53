"""The lifecycle steps that add or supersede sign-off records: review, approve, reopen.

Which status each step may start from is the one lifecycle's rule (``agent.specdoc.lifecycle``: ``REVIEW``,
``APPROVE``, ``REOPEN``); this module adds what only sign-off knows: lint errors refuse a review or an
approval, an approval is a record (``agent.signoff.records``) and counts once per signer, reopening marks
every active record superseded. Each step returns the new document; the CLI writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from agent.checks.lint import Finding
from agent.errors import InputError, LifecycleError
from agent.io.validation import indexed, validation_message
from agent.signoff import sshsig
from agent.signoff.records import (
    APPROVALS_KEY,
    Person,
    Signoff,
    Superseded,
    approvals_required,
    front_matter_sha256,
    iso_utc,
    read_signoffs,
    record_fm_hash,
    short_section_hashes,
    utc_now,
)
from agent.signoff.verification import distinct_holding, holds_content
from agent.specdoc.document import SpecDocument
from agent.specdoc.lifecycle import APPROVE, REOPEN, REVIEW, Status, begin, set_status


def _with_records(doc: SpecDocument, records: list[Signoff]) -> SpecDocument:
    data = dict(doc.front_matter)
    data[APPROVALS_KEY] = [r.to_front_matter() for r in records]
    return doc.with_front_matter(data)


def _lint_errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def review(doc: SpecDocument, findings: list[Finding]) -> SpecDocument:
    """DRAFT -> REVIEW, refused while lint reports errors."""
    begin(doc, REVIEW)
    read_signoffs(doc)
    errors = _lint_errors(findings)
    if errors:
        raise LifecycleError(
            f"Review refused: {doc.source} has {len(errors)} lint error(s).",
            hint="Fix them (see `specdraft lint`) and run review again.",
        )
    return set_status(doc, Status.REVIEW)


@dataclass(frozen=True)
class Approval:
    doc: SpecDocument
    record: Signoff
    previous_status: Status
    status: Status
    holding: int
    required: int


def approve(
    doc: SpecDocument,
    findings: list[Finding],
    *,
    by: Person,
    role: str | None = None,
    note: str | None = None,
    force: bool = False,
    ssh_key: Path | None = None,
    now: datetime | None = None,
    context: dict[str, str] | None = None,
) -> Approval:
    """Add a sign-off record; the status becomes APPROVED once enough approvals hold.

    ``context`` (path -> sha256 of the spec's --context files now) is kept for ``specdraft drift``.
    """
    status = begin(doc, APPROVE)
    records = read_signoffs(doc)
    required = approvals_required(doc)
    errors = _lint_errors(findings)
    if errors and not force:
        raise LifecycleError(
            f"Approval refused: {doc.source} has {len(errors)} lint error(s).",
            hint="Fix them, or approve anyway with --force (recorded in the sign-off).",
        )
    body = doc.body_sha256()
    fm_hash = front_matter_sha256(doc, required=required)
    for existing in records:
        if (
            existing.identity == by.email.casefold()
            and existing.superseded is None
            and existing.body_sha256 == body
            and existing.front_matter_sha256 == record_fm_hash(existing, doc)
        ):
            raise LifecycleError(
                f"{existing.signer} already approved this version of {doc.source} "
                f"at {iso_utc(existing.signed_at)}.",
                hint="Each approval must come from a different person.",
            )
    try:
        record = Signoff(
            name=by.name,
            email=by.email,
            role=role or None,
            signed_at=now or utc_now(),
            body_sha256=body,
            front_matter_sha256=fm_hash,
            sections=short_section_hashes(doc),
            forced=bool(errors) and force,
            note=note or None,
            approvals_required=required,
            context=context or None,
        )
    except ValidationError as exc:
        raise InputError(f"Bad sign-off details: {validation_message(exc, where=indexed())}.") from None
    if ssh_key is not None:
        record = record.model_copy(update={"signature": sshsig.sign(record.payload(), ssh_key)})
    _check_room(doc, records, record, required)
    records.append(record)
    new = _with_records(doc, records)
    holding = len(distinct_holding([r for r in records if holds_content(r, new)]))
    new_status = Status.APPROVED if holding >= required else Status.REVIEW
    new = set_status(new, new_status)
    return Approval(new, record, status, new_status, holding, required)


def _check_room(doc: SpecDocument, records: list[Signoff], record: Signoff, required: int) -> None:
    """Refuse an approval when the records the spec still needs would not fit in its front matter:
    better the first approver hears it than the last, whose record would make the spec unreadable."""
    holding = len(distinct_holding([r for r in records if holds_content(r, doc)]))
    still = max(1, required - holding)
    try:
        _with_records(doc, [*records, *[record] * still])
    except InputError as exc:
        if still == 1:
            raise
        fit = next((n for n in range(still - 1, 0, -1) if _fits(doc, [*records, *[record] * n])), 0)
        raise InputError(
            f"{doc.source}: approval refused: the {still} approvals still required would not fit in its "
            f"front matter ({exc.message.split('(', 1)[-1].rstrip('.)')}); only {fit} more fit.",
            hint="Nothing was changed. Split the spec into smaller ones, or lower approvals_required "
            "before review.",
        ) from None


def _fits(doc: SpecDocument, records: list[Signoff]) -> bool:
    try:
        _with_records(doc, records)
    except InputError:
        return False
    return True


@dataclass(frozen=True)
class Reopened:
    doc: SpecDocument
    previous_status: Status
    #: approvals that were active and are now marked superseded
    superseded: int


def reopen(doc: SpecDocument, by: Person | str, *, now: datetime | None = None) -> Reopened:
    """Back to DRAFT for further edits: every active approval is marked superseded (kept as history).

    This is the one way an APPROVED spec becomes editable again (``agent.specdoc.lifecycle.ensure_editable``).
    """
    status = begin(doc, REOPEN)
    records = read_signoffs(doc)
    mark = Superseded(by=str(by), at=now or utc_now())
    active = sum(1 for r in records if r.superseded is None)
    updated = [r if r.superseded else r.model_copy(update={"superseded": mark}) for r in records]
    new = _with_records(doc, updated) if records else doc
    return Reopened(set_status(new, Status.DRAFT), status, active)
