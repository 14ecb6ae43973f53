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


def test_approve_keeps_the_approved_text_for_a_later_diff(spec: Path) -> None:
    from agent.signoff.steps import approved_copy_path, approved_text

    review_file(spec)
    approve_file(spec, by=ANA)
    approved = spec.read_text(encoding="utf-8")
    assert approved_copy_path(spec).read_text(encoding="utf-8") == approved
    spec.write_text(approved.replace("valid for 7 days", "valid for 9 days"), encoding="utf-8")
    assert approved_text(spec, load_spec(spec)) == approved
    # a copy no record approved is not shown as "the approved text"
    approved_copy_path(spec).write_text(approved.replace("7 days", "8 days"), encoding="utf-8")
    assert approved_text(spec, load_spec(spec)) is None


def test_an_approved_copy_that_cannot_be_written_does_not_fail_the_approval(spec: Path) -> None:
    from agent.signoff.steps import approved_copy_path

    approved_copy_path(spec).mkdir()  # something in the way
    review_file(spec)
    assert approve_file(spec, by=ANA).approval.status == "APPROVED"
    assert verify(load_spec(spec)).ok
