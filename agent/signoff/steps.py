"""The sign-off steps on a spec file, as `specdraft review`, `approve` and the review page run them.

Each step reads the file, lints it (``agent.checks.lint.lint_path``), runs the lifecycle step
(``agent.signoff.transitions``) and writes the result atomically. ``expected_sha256`` is the version the
caller saw (the review page sends the hash of the text it rendered): when the file no longer has that
hash, because someone edited, reviewed or approved it since, the step is refused with the reason and
nothing is written. The hash is checked again right before the write. An approval also keeps the text
approved beside the spec (``spec.md.approved``) so the diff to it can be shown once ``verify`` fails.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import Path

from agent.checks.lint import Finding, lint_path
from agent.errors import ChangedOnDiskError, InputError
from agent.io.atomic import atomic_write_text
from agent.signoff.drift import current_hashes
from agent.signoff.records import Person, read_signoffs
from agent.signoff.transitions import Approval, approve, review
from agent.specdoc.document import SpecDocument, load_spec, parse_spec
from agent.specdoc.lifecycle import Status, current_status

APPROVED_SUFFIX = ".approved"


def version_sha256(doc: SpecDocument) -> str:
    """The sha256 of the whole file as read (front matter included): which version someone saw."""
    return hashlib.sha256(doc.serialise().encode("utf-8")).hexdigest()


def ensure_version(doc: SpecDocument, expected_sha256: str | None) -> None:
    """ChangedOnDiskError when ``expected_sha256`` is given and is not the document's version."""
    if expected_sha256 is None or version_sha256(doc) == expected_sha256:
        return
    status = doc.status or "no status"
    raise ChangedOnDiskError(
        f"{doc.source} changed since you opened it (it is {status} now); nothing was written.",
        hint="Reload it, read what changed, and try again.",
    )


def _write(path: Path, new: SpecDocument, read: SpecDocument) -> None:
    ensure_version(load_spec(path), version_sha256(read))  # nobody wrote between our read and now
    atomic_write_text(path, new.serialise())


@dataclass(frozen=True)
class Reviewed:
    previous_status: Status
    findings: list[Finding]
    #: False when the spec was in REVIEW already and nothing was written
    written: bool


def review_file(path: Path, *, template: str | None = None, expected_sha256: str | None = None) -> Reviewed:
    """DRAFT -> REVIEW on disk; LifecycleError while lint reports errors (``findings`` of the refusal:
    run ``lint_path`` first to show them)."""
    doc, _, findings = lint_path(path, template)
    ensure_version(doc, expected_sha256)
    before = current_status(doc)
    new = review(doc, findings)
    if before is Status.REVIEW and new.serialise() == doc.serialise():
        return Reviewed(before, findings, written=False)
    _write(path, new, doc)
    return Reviewed(before, findings, written=True)


@dataclass(frozen=True)
class Approved:
    approval: Approval
    findings: list[Finding]


def approve_file(
    path: Path,
    *,
    by: Person,
    role: str | None = None,
    note: str | None = None,
    ssh_key: Path | None = None,
    force: bool = False,
    template: str | None = None,
    expected_sha256: str | None = None,
) -> Approved:
    """Add a sign-off record (signed with ``ssh_key`` when given) and write the spec."""
    doc, _, findings = lint_path(path, template)
    ensure_version(doc, expected_sha256)
    context = current_hashes(doc, path.parent)
    result = approve(
        doc, findings, by=by, role=role, note=note, force=force, ssh_key=ssh_key, context=context
    )
    _write(path, result.doc, doc)
    # the text approved, so a reviewer can see what changed once verify fails (sha256 in the record);
    # the approval itself is written already, so a copy that cannot be written only loses that view
    with contextlib.suppress(OSError, InputError):
        atomic_write_text(approved_copy_path(path), result.doc.serialise())
    return Approved(result, findings)


def approved_copy_path(spec: Path) -> Path:
    """``spec.md.approved``: the text of the spec when it was last approved (not a ``.md``: not a spec)."""
    return spec.with_name(spec.name + APPROVED_SUFFIX)


def approved_text(spec: Path, doc: SpecDocument) -> str | None:
    """The text last approved, when its copy is there and an approval record holds its body's hash."""
    copy = approved_copy_path(spec)
    try:
        text = copy.read_text(encoding="utf-8")
        body = parse_spec(text, source=str(copy)).body_sha256()
    except (OSError, UnicodeDecodeError, InputError):
        return None
    return text if any(r.body_sha256 == body for r in read_signoffs(doc)) else None
