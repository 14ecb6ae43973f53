"""The sign-off steps on a file (what `review`, `approve` and the review page run): the version check."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ChangedOnDiskError
from agent.signoff.records import Person
from agent.signoff.steps import approve_file, review_file, version_sha256
from agent.signoff.verification import verify
from agent.specdoc.document import load_spec

ANA = Person(name="Ana Lima", email="ana@example.com")


def test_a_step_on_the_version_seen_is_written(spec: Path) -> None:
    seen = version_sha256(load_spec(spec))
    assert review_file(spec, expected_sha256=seen).written
    approved = approve_file(spec, by=ANA, expected_sha256=version_sha256(load_spec(spec)))
    assert approved.approval.status == "APPROVED" and verify(load_spec(spec)).ok


def test_a_step_on_a_version_changed_since_is_refused_and_writes_nothing(spec: Path) -> None:
    seen = version_sha256(load_spec(spec))
    spec.write_text(spec.read_text(encoding="utf-8").replace("## Overview", "## Overview\n\nEdited.", 1))
    edited = spec.read_bytes()
    with pytest.raises(ChangedOnDiskError, match=r"changed since you opened it \(it is DRAFT now\)"):
        review_file(spec, expected_sha256=seen)
    assert spec.read_bytes() == edited
    review_file(spec)
    reviewed = version_sha256(load_spec(spec))
    approve_file(spec, by=ANA, expected_sha256=reviewed)
    before = spec.read_bytes()
    # a second reviewer whose page showed the REVIEW version: the spec is APPROVED by now
    with pytest.raises(ChangedOnDiskError, match="it is APPROVED now"):
        approve_file(spec, by=Person(name="Bo", email="bo@example.com"), expected_sha256=reviewed)
    assert spec.read_bytes() == before
