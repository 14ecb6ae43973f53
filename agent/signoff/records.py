"""Sign-off records, their verification (the approved rule) and who is signing.

Sign-off records live in the spec's front matter under ``approvals``; ``approvals_required`` (default 1)
says how many must hold for APPROVED. Approvals are counted once per signer (email, and SSH key when
signed): a copied record does not count twice. A record made by this version also carries the
``approvals_required`` in force when it was signed, inside its front-matter hash and its signed
payload (v2), so lowering the number after sign-off breaks the record; records without it (v1,
written before) verify as before. A record keeps the sha256 of the body and of every section as they
were at signing, so ``verify`` can say which sections changed. The steps that add or supersede records
(review, approve, reopen) are in ``agent.signoff.transitions``; the status itself and the edit guard
in ``agent.specdoc.lifecycle``. Nothing here writes files or exits: the CLI does that.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.errors import InputError
from agent.io.validation import indexed, shown, validation_message
from agent.signoff import sshsig
from agent.signoff.sshsig import SshSignature
from agent.specdoc.document import SpecDocument
from agent.specdoc.lifecycle import Status, current_status

APPROVALS_KEY = "approvals"
REQUIRED_KEY = "approvals_required"
#: front-matter keys the lifecycle itself changes; all others are covered by front_matter_sha256
LIFECYCLE_KEYS = frozenset({"status", APPROVALS_KEY, REQUIRED_KEY})
SECTION_HASH_CHARS = 16

_SINGLE_LINE = r"^[^\n\r\t<>]*$"
_EMAIL = r"^[^@\s<>]+@[^@\s<>]+$"


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200, pattern=_SINGLE_LINE)
    email: str = Field(max_length=254, pattern=_EMAIL)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Superseded(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=300, pattern=r"^[^\n\r\t]*$")
    at: datetime

    @field_validator("at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _as_utc(value)


class Signoff(BaseModel):
    """One approval, as stored in the front matter."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=_SINGLE_LINE)
    email: str = Field(max_length=254, pattern=_EMAIL)
    role: str | None = Field(default=None, max_length=200, pattern=_SINGLE_LINE)
    signed_at: datetime
    body_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    front_matter_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    sections: dict[str, str] = Field(min_length=1)
    forced: bool = False
    note: str | None = Field(default=None, max_length=500, pattern=r"^[^\n\r]*$")
    signature: SshSignature | None = None
    superseded: Superseded | None = None
    #: approvals_required when signed (v2 records); None in v1 records, which did not cover it
    approvals_required: int | None = Field(default=None, ge=1, le=20)
    #: the spec's --context files as they were when approved (path -> sha256); drift compares against it
    context: dict[str, str] | None = None

    @field_validator("signed_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _as_utc(value)

    @field_validator("sections")
    @classmethod
    def _hashes(cls, value: dict[str, str]) -> dict[str, str]:
        for key, digest in value.items():
            if not re.fullmatch(rf"[0-9a-f]{{{SECTION_HASH_CHARS}}}", str(digest)):
                raise ValueError(f"section '{key}' has hash {digest!r}, not {SECTION_HASH_CHARS} hex digits")
        return value

    @property
    def signer(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def identity(self) -> str:
        """Who signed, for counting approvals once per signer."""
        return self.email.casefold()

    def payload(self) -> bytes:
        """The exact bytes an SSH signature covers: the hashes and who signed, when, in what role
        (v2 adds the approvals_required in force at signing)."""
        version = "v1" if self.approvals_required is None else "v2"
        lines = [
            f"specdraft sign-off {version}",
            f"body-sha256: {self.body_sha256}",
            f"front-matter-sha256: {self.front_matter_sha256}",
            f"name: {self.name}",
            f"email: {self.email}",
            f"role: {self.role or ''}",
            f"signed-at: {iso_utc(self.signed_at)}",
            f"forced: {'true' if self.forced else 'false'}",
            f"note: {self.note or ''}",
        ]
        if self.approvals_required is not None:
            lines.append(f"approvals-required: {self.approvals_required}")
        return ("\n".join(lines) + "\n").encode("utf-8")

    def to_front_matter(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=False)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time has no time zone; write it in UTC, e.g. 2026-11-25T19:30:00Z")
    return value.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# -- reading the lifecycle state --------------------------------------------------------------------


def read_signoffs(doc: SpecDocument) -> list[Signoff]:
    """The approvals in the front matter, validated (InputError quoting any bad value)."""
    raw = doc.front_matter.get(APPROVALS_KEY)
    if raw is None:
        return []
    hint = "Sign-off records are written by `specdraft approve`; restore the file or remove the bad record."
    if not isinstance(raw, list):
        raise InputError(
            f"{doc.source}: front matter '{APPROVALS_KEY}' must be a list of sign-off records "
            f"(got {shown(raw)}).",
            hint=hint,
        )
    records = []
    for index, item in enumerate(raw):
        try:
            records.append(Signoff.model_validate(item))
        except ValidationError as exc:
            problems = validation_message(exc, where=indexed(f"{APPROVALS_KEY}[{index}]"), first=5)
            raise InputError(f"{doc.source}: bad sign-off record: {problems}.", hint=hint) from None
    return records


def approvals_required(doc: SpecDocument, default: int = 1) -> int:
    value = doc.front_matter.get(REQUIRED_KEY, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 20:
        raise InputError(
            f"{doc.source}: front matter '{REQUIRED_KEY}' must be a whole number from 1 to 20 "
            f"(got {shown(value)})."
        )
    return value


def front_matter_sha256(doc: SpecDocument, *, required: int | None = None) -> str:
    """sha256 of the front matter without the keys the lifecycle changes (canonical JSON).

    With ``required`` (v2 records) the approvals_required in force is hashed too.
    """
    data: dict[str, Any] = {k: v for k, v in doc.front_matter.items() if k not in LIFECYCLE_KEYS}
    if required is not None:
        data[REQUIRED_KEY] = required
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def short_section_hashes(doc: SpecDocument) -> dict[str, str]:
    return {key: digest[:SECTION_HASH_CHARS] for key, digest in doc.section_hashes().items()}


# -- verification -----------------------------------------------------------------------------------

SignatureState = Literal["valid", "invalid", "unknown-key", "wrong-signer", "unsigned", "unchecked", "none"]


@dataclass
class ApprovalCheck:
    index: int
    record: Signoff
    holds: bool
    superseded: bool
    signature: SignatureState
    changed_sections: list[str] = field(default_factory=list)
    added_sections: list[str] = field(default_factory=list)
    removed_sections: list[str] = field(default_factory=list)
    order_changed: bool = False
    front_matter_changed: bool = False
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        r = self.record
        return {
            "index": self.index,
            "name": r.name,
            "email": r.email,
            "role": r.role,
            "signed_at": iso_utc(r.signed_at),
            "forced": r.forced,
            "note": r.note,
            "holds": self.holds,
            "superseded": self.superseded,
            "signature": self.signature,
            "signature_key": r.signature.key if r.signature else None,
            "changed_sections": self.changed_sections,
            "added_sections": self.added_sections,
            "removed_sections": self.removed_sections,
            "order_changed": self.order_changed,
            "front_matter_changed": self.front_matter_changed,
            "reasons": self.reasons,
        }


@dataclass
class VerifyReport:
    source: str
    status: str
    required: int
    checks: list[ApprovalCheck]
    problems: list[str]
    body_sha256: str

    @property
    def holding(self) -> int:
        """Approvals that hold, once per signer (check_approvals marks repeats as not holding)."""
        return len(distinct_holding([c.record for c in self.checks if c.holds]))

    @property
    def unknown_keys(self) -> bool:
        return any(c.signature == "unknown-key" for c in self.checks)

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.holds for c in self.checks if not c.superseded)

    @property
    def exit_code(self) -> int:
        if self.unknown_keys:
            return 2
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "specdraft.verify/1",
            "path": self.source,
            "status": self.status,
            "approvals_required": self.required,
            "approvals_holding": self.holding,
            "ok": self.ok,
            "body_sha256": self.body_sha256,
            "problems": self.problems,
            "approvals": [c.to_dict() for c in self.checks],
        }


def is_approved(doc: SpecDocument, report: VerifyReport | None = None) -> bool:
    """The lifecycle rule: APPROVED status and at least the required number of approvals holding."""
    report = report if report is not None else verify(doc)
    return current_status(doc) is Status.APPROVED and report.holding >= approvals_required(doc)


def record_fm_hash(record: Signoff, doc: SpecDocument) -> str:
    """The front-matter hash as ``record``'s version computes it (v2 covers approvals_required)."""
    if record.approvals_required is None:
        return front_matter_sha256(doc)
    return front_matter_sha256(doc, required=approvals_required(doc))


def _signer_keys(record: Signoff) -> set[str]:
    keys = {f"email:{record.identity}"}
    if record.signature is not None:
        keys.add(f"key:{record.signature.key}")
    return keys


def distinct_holding(records: list[Signoff]) -> list[Signoff]:
    """One record per signer: a record whose email or SSH key was already counted does not count."""
    seen: set[str] = set()
    kept: list[Signoff] = []
    for record in records:
        keys = _signer_keys(record)
        if keys & seen:
            continue
        seen |= keys
        kept.append(record)
    return kept


def holds_content(record: Signoff, doc: SpecDocument) -> bool:
    return (
        record.superseded is None
        and record.body_sha256 == doc.body_sha256()
        and record.front_matter_sha256 == record_fm_hash(record, doc)
    )


def check_approval(
    index: int, record: Signoff, doc: SpecDocument, *, allowed_signers: Path | None = None
) -> ApprovalCheck:
    check = ApprovalCheck(
        index, record, holds=True, superseded=record.superseded is not None, signature="none"
    )
    if record.superseded is not None:
        check.holds = False
        check.reasons.append(
            f"superseded: reopened by {record.superseded.by} at {iso_utc(record.superseded.at)}"
        )
    if record.body_sha256 != doc.body_sha256():
        check.holds = False
        now = short_section_hashes(doc)
        then = record.sections
        check.changed_sections = [k for k in now if k in then and now[k] != then[k]]
        check.added_sections = [k for k in now if k not in then]
        check.removed_sections = [k for k in then if k not in now]
        common_now = [k for k in now if k in then]
        common_then = [k for k in then if k in now]
        check.order_changed = common_now != common_then
        parts = []
        if check.changed_sections:
            parts.append("changed: " + ", ".join(check.changed_sections))
        if check.added_sections:
            parts.append("added: " + ", ".join(check.added_sections))
        if check.removed_sections:
            parts.append("removed: " + ", ".join(check.removed_sections))
        if check.order_changed:
            parts.append("sections reordered")
        check.reasons.append("body changed since signing" + (f" ({'; '.join(parts)})" if parts else ""))
    if record.front_matter_sha256 != record_fm_hash(record, doc):
        check.holds = False
        check.front_matter_changed = True
        if record.approvals_required is not None and record.approvals_required != approvals_required(doc):
            check.reasons.append(
                f"approvals_required changed since signing ({record.approvals_required} then, "
                f"{approvals_required(doc)} now)"
            )
        else:
            check.reasons.append("front matter changed since signing (keys other than status and approvals)")
    if record.signature is None:
        check.signature = "none"
        if allowed_signers is not None and not check.superseded:
            check.signature = "unsigned"
            check.holds = False
            check.reasons.append("not signed, but --allowed-signers requires an SSH signature")
    elif allowed_signers is None:
        check.signature = "unchecked"
    else:
        state, detail = sshsig.verify(record.payload(), record.signature, allowed_signers, record.email)
        check.signature = state
        if state != "valid":
            check.holds = False
            check.reasons.append(detail)
    return check


def verify(doc: SpecDocument, *, allowed_signers: Path | None = None) -> VerifyReport:
    """Check every approval against the spec as it is now (and its SSH signature with allowed_signers)."""
    status = current_status(doc)
    records = read_signoffs(doc)
    required = approvals_required(doc)
    if allowed_signers is not None:
        sshsig.check_allowed_signers(allowed_signers)
    checks = [check_approval(i + 1, r, doc, allowed_signers=allowed_signers) for i, r in enumerate(records)]
    counted: dict[str, int] = {}
    for check in checks:  # a second holding record of the same signer (a copy) does not count
        if not check.holds:
            continue
        earlier = next((counted[k] for k in sorted(_signer_keys(check.record)) if k in counted), None)
        if earlier is not None:
            check.holds = False
            check.reasons.append(
                f"repeats approval {earlier} by the same signer (same email or SSH key); counted once"
            )
            continue
        for key in _signer_keys(check.record):
            counted[key] = check.index
    report = VerifyReport(doc.source, status, required, checks, [], doc.body_sha256())
    active = [c for c in checks if not c.superseded]
    if not active:
        report.problems.append("no approvals to verify: the spec has not been signed off")
    if status is Status.APPROVED and report.holding < required:
        report.problems.append(
            f"status is APPROVED but only {report.holding} of {required} required approval(s) hold"
        )
    footer = doc.footer.status if doc.footer else None
    if footer is not None and footer.strip().upper() != status:
        report.problems.append(f"footer **Status** says '{footer}' but the front matter says '{status}'")
    return report


# -- who is signing ---------------------------------------------------------------------------------

_PERSON = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>]+)>\s*$")


def parse_person(text: str) -> Person:
    """``"Ana Lima <ana@example.com>"`` -> Person (InputError otherwise)."""
    match = _PERSON.match(text)
    if not match or not match.group("name"):
        raise InputError(
            f"--by '{text}' is not 'Name <email>'.",
            hint='Write it like --by "Ana Lima <ana@example.com>".',
        )
    try:
        return Person(name=match.group("name"), email=match.group("email").strip())
    except ValidationError as exc:
        raise InputError(f"--by '{text}': {validation_message(exc, where=indexed())}.") from None


def git_identity(cwd: Path | None = None) -> Person | None:
    """git's user.name and user.email, when both are set (None otherwise, or without git)."""
    values = []
    for key in ("user.name", "user.email"):
        try:
            result = subprocess.run(
                ["git", "config", "--get", key],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        if result.returncode != 0 or not result.stdout.strip():
            return None
        values.append(result.stdout.strip())
    try:
        return Person(name=values[0], email=values[1])
    except ValidationError:
        return None


def resolve_person(by: str | None, cwd: Path | None = None) -> Person:
    if by is not None:
        return parse_person(by)
    person = git_identity(cwd)
    if person is None:
        raise InputError(
            "Who is approving? Neither --by nor git's user.name and user.email are set.",
            hint='Pass --by "Name <email>".',
        )
    return person


def reopener(by: str | None, cwd: Path | None = None) -> str:
    """Who reopens a spec: ``--by``, else git's identity, else the login name (reopening signs nothing)."""
    if by:
        return str(parse_person(by))
    person = git_identity(cwd)
    return str(person) if person is not None else f"{getpass.getuser()} (local user)"
