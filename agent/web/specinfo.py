"""What the review page shows of a spec: a row of the list, and everything the spec's own page needs.

Computed with the same functions as the CLI (``lint``'s lint with the recorded brief, ``verify``,
``trace``, ``drift``) so the page and the terminal never disagree. List rows are cached per file by
its modification time and size, so a list of hundreds of specs lints only what changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.checks.lint import Finding, count_errors, lint_document
from agent.context.known import context_entries
from agent.drafting.brief import recorded_brief
from agent.errors import SpecdraftError
from agent.io.redact import redact
from agent.signoff.drift import DriftReport, check_drift
from agent.signoff.records import approvals_required
from agent.signoff.steps import version_sha256
from agent.signoff.verification import VerifyReport, verify
from agent.specdoc.comments import Comment, CommentStore
from agent.specdoc.document import SpecDocument, load_spec
from agent.specdoc.grounding import BriefFacts, extract
from agent.specdoc.lifecycle import Status, status_of
from agent.specdoc.template_resolver import spec_outline
from agent.specdoc.trace import TraceMatrix, trace_document
from agent.web.roots import SpecRef

#: the status shown for an APPROVED spec whose approvals no longer hold
CHANGED = "CHANGED SINCE APPROVAL"


def is_spec(doc: SpecDocument) -> bool:
    """A Markdown file the list shows: one whose front matter has a status or specdraft's record."""
    return "status" in doc.front_matter or isinstance(doc.front_matter.get("specdraft"), dict)


def shown_status(doc: SpecDocument, report: VerifyReport) -> str:
    status = status_of(doc)
    if status is None:
        return str(doc.status or "NO STATUS")
    if status is Status.APPROVED and (not report.ok or report.holding < report.required):
        return CHANGED
    return status.value


def brief_of(path: Path, doc: SpecDocument) -> tuple[BriefFacts | None, str | None]:
    """The facts of the brief the spec records (None without one), and why it could not be read."""
    brief, notice = recorded_brief(path, doc)
    return (None if brief is None else extract(brief.body, brief.title)), notice


def lint_spec(path: Path, doc: SpecDocument, brief: BriefFacts | None) -> list[Finding]:
    """What `specdraft lint SPEC` reports: the spec's template, its recorded brief, its context files."""
    return lint_document(doc, spec_outline(None, doc, path), brief=brief, base=path.parent)


@dataclass(frozen=True)
class SpecRow:
    key: str
    rel: str
    title: str
    status: str
    holding: int = 0
    required: int = 0
    errors: int = 0
    warnings: int = 0
    coverage: float | None = None
    modified: float = 0.0
    #: why the file could not be read as a spec (the row shows it)
    problem: str | None = None

    @property
    def modified_text(self) -> str:
        return datetime.fromtimestamp(self.modified, UTC).strftime("%Y-%m-%d %H:%M UTC")

    @property
    def css(self) -> str:
        return self.status.lower().replace(" ", "-")


def _has_front_matter(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4).rstrip(b"\r\n") == b"---"
    except OSError:
        return False


def spec_row(ref: SpecRef) -> SpecRow | None:
    """The list's row for a spec (None for a Markdown file that is no spec)."""
    modified = ref.path.stat().st_mtime
    try:
        doc = load_spec(ref.path)
    except SpecdraftError as exc:
        if not _has_front_matter(ref.path):
            return None  # a README or notes: Markdown, but no spec
        return SpecRow(ref.key, ref.rel, ref.rel, "UNREADABLE", modified=modified, problem=redact(str(exc)))
    if not is_spec(doc):
        return None
    try:
        brief, _ = brief_of(ref.path, doc)
        errors, warnings = count_errors(lint_spec(ref.path, doc, brief))
        report = verify(doc)
    except SpecdraftError as exc:
        title = doc.title or ref.rel
        return SpecRow(ref.key, ref.rel, title, "UNREADABLE", modified=modified, problem=redact(str(exc)))
    return SpecRow(
        ref.key,
        ref.rel,
        doc.title or ref.rel,
        shown_status(doc, report),
        report.holding,
        report.required,
        errors,
        warnings,
        brief.coverage(doc.body)[0] if brief is not None else None,
        modified,
    )


class RowCache:
    """List rows by file, recomputed only when a file's modification time or size changes."""

    def __init__(self) -> None:
        self._rows: dict[Path, tuple[tuple[int, int], SpecRow | None]] = {}
        self._lock = threading.Lock()

    def row(self, ref: SpecRef) -> SpecRow | None:
        try:
            stat = ref.path.stat()
        except OSError:  # removed since the folder was walked
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._rows.get(ref.path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            row = spec_row(ref)
        except OSError:
            return None
        with self._lock:
            self._rows[ref.path] = (stamp, row)
        return row


@dataclass
class SpecView:
    """Everything the page of one spec shows."""

    ref: SpecRef
    doc: SpecDocument
    version: str
    findings: list[Finding]
    report: VerifyReport
    status: str
    matrix: TraceMatrix
    comments: list[Comment]
    coverage: float | None
    brief_notice: str | None
    provenance: dict[str, Any] = field(default_factory=dict)
    drift: DriftReport | None = None
    drift_problem: str | None = None

    @property
    def counts(self) -> tuple[int, int]:
        return count_errors(self.findings)

    @property
    def marked_sections(self) -> list[tuple[str, str, int]]:
        """(section, marker rule, line) of every NEEDS ATTENTION / NEEDS CLARIFICATION finding."""
        rules = ("needs-attention", "needs-clarification")
        return [(f.section, f.rule, f.line) for f in self.findings if f.rule in rules]

    @property
    def required(self) -> int:
        return approvals_required(self.doc)


def provenance(doc: SpecDocument) -> dict[str, Any]:
    """The model, provider, template, brief and context files the spec records (strings only)."""
    meta = doc.front_matter.get("specdraft")
    if not isinstance(meta, dict):
        return {}
    keys = ("model", "provider", "template", "version", "brief", "reask_policy")
    shown = {key: str(meta[key]) for key in keys if meta.get(key) is not None}
    files = [entry["path"] for entry in context_entries(doc.front_matter)]
    if files:
        shown["context files"] = ", ".join(files)
    return shown


def spec_view(ref: SpecRef) -> SpecView:
    """Load, lint, verify and trace the spec; SpecdraftError when it cannot be read as one."""
    doc = load_spec(ref.path)
    brief, notice = brief_of(ref.path, doc)
    report = verify(doc)
    view = SpecView(
        ref=ref,
        doc=doc,
        version=version_sha256(doc),
        findings=lint_spec(ref.path, doc, brief),
        report=report,
        status=shown_status(doc, report),
        matrix=trace_document(doc),
        comments=CommentStore(ref.path).load(),
        coverage=brief.coverage(doc.body)[0] if brief is not None else None,
        brief_notice=notice,
        provenance=provenance(doc),
    )
    if context_entries(doc.front_matter):
        try:
            view.drift = check_drift(doc, ref.path)
        except SpecdraftError as exc:
            view.drift_problem = str(exc)
    return view
