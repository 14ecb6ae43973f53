"""Refining a drafted spec: the embedded model's traffic replayed from cassettes, and the apply path
driven by the scripted fake server.

These tests assert mechanics (what is written, journalled and shown), never the quality of the
model's prose. Record with ``make cassettes``. Whether the recorded model routes a message as an edit
or a question decides what a test can assert, so the recorded messages are ones whose form decides it
(:func:`agent.drafting.intent.plain_kind`); the apply path of every edit is also driven by the fake
server (``fault_server`` with ``choices``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from helpers.endpoint_patch import patch_open_endpoint
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.drafting.refine import RefineOptions, Refiner
from agent.io.journal import journal_path
from agent.llm.providers import Endpoint, ModelSettings
from agent.specdoc.document import load_spec


@pytest.fixture
def cli_endpoint(monkeypatch: pytest.MonkeyPatch, model_endpoint: Endpoint) -> Endpoint:
    """The CLI's open_endpoint yields the test's endpoint (the embedded model, or the cassette's)."""

    @contextmanager
    def opened(settings: ModelSettings) -> Iterator[Endpoint]:
        yield model_endpoint

    patch_open_endpoint(monkeypatch, opened)
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
    assert "Applied change 1 to Overview" in out
    assert [e["op"] for e in _journal(spec)] == ["apply", "undo"]
    assert "Undid change 1 (Overview)" in out
    assert spec.read_bytes() == original
    # /edit asks for the Overview (again while an answer fails a check); the question is routed (one
    # structured call with the spec's titles) and answered, with no diff and no second "Apply?"
    names = [json.loads(r.body)["response_format"]["json_schema"]["name"] for r in cassette.requests]
    assert names[-2:] == ["route", "answer"] and set(names[:-2]) == {"Overview"}
    assert "Apply?" in out and out.count("Apply?") == 1


def test_refine_of_a_question_writes_nothing(cassette: Any, cli_endpoint: Endpoint, spec: Path) -> None:
    """A question is answered from the spec and writes nothing, with or without --yes."""
    original = spec.read_bytes()
    args = ["refine", str(spec), "-m", "How long is the invitation link valid?", "--json"]
    for extra in ([], ["--yes"]):
        result = CliRunner().invoke(app, [*args, *extra])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["kind"] == "question" and data["changes"] == [] and data["failed"] == []
        assert data["answer"] and data["applied"] is False and data["change_id"] is None
        assert spec.read_bytes() == original
    assert _journal(spec) == []
    # the second run's identical requests may be answered again or from the response cache
    names = [json.loads(r.body)["response_format"]["json_schema"]["name"] for r in cassette.requests]
    assert names[:2] == ["route", "answer"] and set(names) == {"route", "answer"}


def test_an_edit_the_model_does_not_make_is_reported_and_nothing_written(
    cassette: Any, cli_endpoint: Endpoint, spec: Path
) -> None:
    """What the recorded 1.5B does with this request: it routes it to Technical Requirements and then
    returns that section without Okta in it, three times. The revision check re-asks and refine
    reports the section as failed (exit 1) rather than applying a rewrite that lacks the change."""
    original = spec.read_bytes()
    args = ["refine", str(spec), "-m", "Mention that invitees can sign in with Okta single sign-on", "--json"]
    result = CliRunner().invoke(app, [*args, "--yes"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["kind"] == "edit" and data["applied"] is False and data["changes"] == []
    [failed] = data["failed"]
    assert failed["attempts"] == 3
    assert failed["problems"] == [
        "the change is not in the section: it never names Okta; write the change in"
    ]
    assert "never validated" in result.output
    assert spec.read_bytes() == original and _journal(spec) == []
    names = [json.loads(r.body)["response_format"]["json_schema"]["name"] for r in cassette.requests]
    assert names[0] == "route" and len(names) == 1 + failed["attempts"]


def _section(spec: Path, title: str) -> str:
    section = load_spec(spec).section(title)
    assert section is not None
    return section.text


def test_refine_applies_a_routed_edit_to_that_section_only(spec: Path, fault_server: FaultServer) -> None:
    """The router asks for an edit of Technology Stack: the preview writes nothing, --yes rewrites that
    section and nothing else, and the journal records its text before and after."""
    fault_server.choices = {"kind": "edit", "title": "Technology Stack"}
    original = spec.read_text(encoding="utf-8")
    before = _section(spec, "Technology Stack")
    args = ["refine", str(spec), "-m", "use Okta for sign-in", "--json", "--base-url", fault_server.base_url]

    preview = CliRunner().invoke(app, args)
    assert preview.exit_code == 0, preview.output
    data = json.loads(preview.stdout)
    assert data["kind"] == "edit" and data["applied"] is False and data["change_id"] is None
    assert [c["title"] for c in data["changes"]] == ["Technology Stack"]
    assert spec.read_text(encoding="utf-8") == original and _journal(spec) == []

    applied = CliRunner().invoke(app, [*args, "--yes"])
    assert applied.exit_code == 0, applied.output
    result = json.loads(applied.stdout)
    assert result["applied"] is True and result["change_id"] == 1
    assert [c["title"] for c in result["changes"]] == ["Technology Stack"]
    after = _section(spec, "Technology Stack")
    assert after != before and after.startswith("## Technology Stack\n")
    # exactly the targeted section changed: the rest of the file is byte-identical
    assert original.count(before) == 1
    assert spec.read_text(encoding="utf-8") == original.replace(before, after)
    [entry] = _journal(spec)
    assert entry["op"] == "apply" and entry["instruction"] == "use Okta for sign-in"
    assert entry["sections"] == [{"title": "Technology Stack", "before": before, "after": after}]
    # the edit was asked of the model: routed, then the section's own schema
    assert fault_server.schema_names()[:2] == ["route", "TechnologyStack"]


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
