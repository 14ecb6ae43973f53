"""Sign-off records: the model of an approval as the front matter stores it, and reading it back.

Sign-off records live in the spec's front matter under ``approvals``; ``approvals_required`` (default 1)
says how many must hold for APPROVED. A record made by this version also carries the
``approvals_required`` in force when it was signed, inside its front-matter hash and its signed
payload (v2), so lowering the number after sign-off breaks the record; records without it (v1,
written before) verify as before. A record keeps the sha256 of the body and of every section as they
were at signing, so verification can say which sections changed. Checking records against the spec is
``agent.signoff.verification``; who signs, ``agent.signoff.identity``; the steps that add or supersede
records (review, approve, reopen), ``agent.signoff.transitions``; the status itself and the edit guard,
``agent.specdoc.lifecycle``. Nothing here writes files or exits: the CLI does that.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.errors import InputError
from agent.io.validation import indexed, shown, validation_message
from agent.signoff.sshsig import SshSignature
from agent.specdoc.document import SpecDocument

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


def record_fm_hash(record: Signoff, doc: SpecDocument) -> str:
    """The front-matter hash as ``record``'s version computes it (v2 covers approvals_required)."""
    if record.approvals_required is None:
        return front_matter_sha256(doc)
    return front_matter_sha256(doc, required=approvals_required(doc))
