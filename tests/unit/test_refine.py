"""Refining a drafted spec with the embedded model, replayed from cassettes.

The 135M model is weak: these tests assert mechanics (what is written, journalled and shown), never
the quality of its prose. Record with ``SPECDRAFT_RECORD=1``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.drafting.refine import RefineOptions, Refiner
from agent.io.journal import journal_path
from agent.llm.providers import Endpoint, ModelSettings

CLEAN = Path(__file__).resolve().parent.parent / "data" / "specs" / "clean.md"


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.md"
    shutil.copyfile(CLEAN, path)
    return path


@pytest.fixture
def cli_endpoint(monkeypatch: pytest.MonkeyPatch, model_endpoint: Endpoint) -> Endpoint:
    """The CLI's open_endpoint yields the test's endpoint (the embedded model, or the cassette's)."""

    @contextmanager
    def opened(settings: ModelSettings) -> Iterator[Endpoint]:
        yield model_endpoint

    monkeypatch.setattr("agent.llm.providers.open_endpoint", opened)
    return model_endpoint


def _journal(spec: Path) -> list[dict[str, Any]]:
    path = journal_path(spec)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_engine_revises_one_section(cassette: Any, model_endpoint: Endpoint, spec: Path) -> None:
    refiner = Refiner(spec, model_endpoint, ModelSettings(), RefineOptions(max_retries=2))
    original = spec.read_bytes()
    proposal = refiner.propose("The invitation link is valid for 3 days, not 7.", sections=["Overview"])
    assert proposal.usage.calls == len(cassette.requests) >= 1
    assert spec.read_bytes() == original  # proposing writes nothing
    assert [c.title for c in proposal.changes] + [f.title for f in proposal.failures] == ["Overview"]
    for change in proposal.changes:
        assert change.before.startswith("## Overview\n") and change.after.startswith("## Overview\n")
        assert change.after.endswith("\n\n")  # the blank line before the next heading is kept
        diff = "".join(change.diff("spec.md"))
        assert diff.startswith("--- a/spec.md (Overview)\n+++ b/spec.md (Overview)\n")
        entry = refiner.apply(proposal)
        section = refiner.load().section("Overview")
        assert section is not None and section.text == change.after
        assert _journal(spec)[0]["sections"][0] == {
            "title": "Overview",
            "before": change.before,
            "after": change.after,
        }
        assert entry.id == 1
    # the request carries the section's current text, the instruction and the section's schema
    body = json.loads(cassette.requests[0].body)
    prompt = body["messages"][-1]["content"]
    assert "valid for 3 days, not 7" in prompt and "Workspace admins invite colleagues" in prompt
    assert body["response_format"]["json_schema"]["name"] == "Overview"


def test_chat_session_edit_question_undo(cassette: Any, cli_endpoint: Endpoint, spec: Path) -> None:
    original = spec.read_bytes()
    script = (
        "/edit Overview the link is valid for 3 days\ny\nwhat does the spec say about Redis?\n/undo\n/quit\n"
    )
    result = CliRunner().invoke(app, ["chat", str(spec)], input=script)
    assert result.exit_code == 0, result.output
    out = result.output
    # the first answer loops ("which can be done by anyone who has signed in ..."): re-asked, then applied
    assert "Applied change 1 to Overview" in out
    assert [e["op"] for e in _journal(spec)] == ["apply", "undo"]
    assert "Undid change 1 (Overview)" in out
    assert spec.read_bytes() == original
    # the question was routed (one structured call with the spec's titles) and answered, no diff
    names = [json.loads(r.body)["response_format"]["json_schema"]["name"] for r in cassette.requests]
    assert "route" in names
    assert names == ["Overview", "Overview", "route", "answer"]
    assert "Apply?" in out and out.count("Apply?") == 1


def test_refine_preview_then_apply(cassette: Any, cli_endpoint: Endpoint, spec: Path) -> None:
    original = spec.read_bytes()
    args = ["refine", str(spec), "-m", "add Okta single sign-on to the Overview", "--json"]
    preview = CliRunner().invoke(app, args)
    assert preview.exit_code in (0, 1), preview.output
    assert spec.read_bytes() == original
    data = json.loads(preview.stdout)
    assert data["applied"] is False and data["change_id"] is None
    applied = CliRunner().invoke(app, [*args, "--yes"])
    result = json.loads(applied.stdout)
    assert result["kind"] == data["kind"]
    if result["changes"]:
        assert applied.exit_code == 0 and result["applied"] is True
        assert spec.read_bytes() != original
        assert [s["title"] for s in _journal(spec)[0]["sections"]] == [c["title"] for c in result["changes"]]
    else:
        assert result["applied"] is False and spec.read_bytes() == original


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"answer": "Redis keeps counters."}', "Redis keeps counters."),
        (
            '{"answer": "Redis keeps the rate-limit\\ncounters and',
            "Redis keeps the rate-limit counters and ...",
        ),
        ("not json", ""),
        ('{"answer": "   "}', ""),
    ],
)
def test_answer_text_salvages_a_cut_off_answer(text: str, expected: str) -> None:
    from agent.drafting.refine import _answer_text

    assert _answer_text(text) == expected
