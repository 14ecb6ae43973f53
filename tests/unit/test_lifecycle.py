"""The one lifecycle (agent.specdoc.lifecycle): statuses, which step may start where, and the edit guard."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.errors import InputError, LifecycleError, NotEditableError
from agent.specdoc import lifecycle as lc
from agent.specdoc.document import SpecDocument, parse_spec

CLEAN = (Path(__file__).parent.parent / "data" / "specs" / "clean.md").read_text(encoding="utf-8")


def with_status(status: str | None) -> SpecDocument:
    text = CLEAN.replace("status: DRAFT\n", "" if status is None else f"status: {status}\n")
    return parse_spec(text, source="spec.md")


def test_statuses_in_lifecycle_order() -> None:
    assert lc.STATUSES == ("DRAFT", "REVIEW", "APPROVED")
    assert lc.current_status(with_status(" approved ")) is lc.Status.APPROVED


@pytest.mark.parametrize("status", [None, "planned"])
def test_a_missing_or_odd_status_is_input_for_the_steps_but_editable(status: str | None) -> None:
    doc = with_status(status)
    with pytest.raises(InputError, match="status"):
        lc.current_status(doc)
    assert lc.status_of(doc) is None
    lc.ensure_editable(doc)  # lint reports the status; editing it is not refused


@pytest.mark.parametrize(
    ("step", "refused", "message"),
    [
        (lc.REVIEW, "APPROVED", "spec.md is already APPROVED."),
        (lc.APPROVE, "DRAFT", "spec.md is a DRAFT; it goes to REVIEW before approval."),
    ],
)
def test_steps_start_only_where_the_lifecycle_allows(step: lc.Step, refused: str, message: str) -> None:
    with pytest.raises(LifecycleError, match=re.escape(message)):
        lc.begin(with_status(refused), step)
    for status in lc.Status:
        assert (status in step.allowed) == (status.value != refused)
    assert all(lc.begin(with_status(s), lc.REOPEN) is lc.Status(s) for s in lc.STATUSES)


def test_set_status_writes_plain_text_in_front_matter_and_footer() -> None:
    text = lc.set_status(with_status("DRAFT"), lc.Status.REVIEW).serialise()
    assert "status: REVIEW\n" in text and "**Status**: REVIEW\n" in text
    assert "!!python" not in text


def test_only_an_approved_spec_is_not_editable() -> None:
    for status in ("DRAFT", "REVIEW"):
        lc.ensure_editable(with_status(status))
    with pytest.raises(
        NotEditableError, match=re.escape("spec.md is APPROVED; it is not edited without reopening it.")
    ):
        lc.ensure_editable(with_status("APPROVED"))
