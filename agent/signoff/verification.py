"""Verification: does each sign-off record still hold for the spec as it is now (the approved rule)?

A record holds while the body and the front matter (but the lifecycle keys) hash as they did at
signing and, with allowed_signers, its SSH signature checks out. Approvals are counted once per signer
(email, and SSH key when signed): a copied record does not count twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent.signoff import sshsig
from agent.signoff.records import (
    Signoff,
    approvals_required,
    iso_utc,
    read_signoffs,
    record_fm_hash,
    short_section_hashes,
)
from agent.specdoc.document import SpecDocument
from agent.specdoc.lifecycle import Status, current_status

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


def _signer_keys(record: Signoff) -> set[str]:
    """What identifies the signer: the email, and the key inside the SSH signature (never only the
    record's ``key`` field, which the signature does not cover)."""
    keys = {f"email:{record.identity}"}
    if record.signature is not None:
        keys.add(f"key:{sshsig.embedded_fingerprint(record.signature) or record.signature.key}")
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
    elif sshsig.embedded_fingerprint(record.signature) != record.signature.key:
        check.signature = "invalid"  # found without ssh-keygen: the record's key field was edited
        check.holds = False
        check.reasons.append(
            f"the record names key {record.signature.key}, which is not the key inside its signature"
        )
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
