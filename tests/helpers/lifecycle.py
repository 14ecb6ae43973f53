"""An APPROVED spec on disk, signed off the way `specdraft review` and `approve` do it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from agent.io.atomic import atomic_write_text
from agent.signoff.records import Person
from agent.signoff.transitions import approve, review
from agent.signoff.verification import verify
from agent.specdoc.document import load_spec

CLEAN = Path(__file__).resolve().parents[1] / "data" / "specs" / "clean.md"
ANA = Person(name="Ana Lima", email="ana@example.com")


def approved_spec(path: Path) -> bytes:
    """Copy the clean fixture to ``path``, review and approve it (verify holds); return its bytes."""
    shutil.copyfile(CLEAN, path)
    return approve_file(path)


def approve_file(path: Path) -> bytes:
    """Review and approve the spec at ``path`` in place (verify holds); return its bytes."""
    doc = review(load_spec(path), [])
    result = approve(doc, [], by=ANA, now=datetime(2026, 11, 25, 19, 30, tzinfo=UTC))
    atomic_write_text(path, result.doc.serialise())
    assert verify(load_spec(path)).ok
    return path.read_bytes()


def still_approved(path: Path, approved: bytes) -> bool:
    """The file is byte-identical to the approved one and its approval still holds."""
    return path.read_bytes() == approved and verify(load_spec(path)).ok
