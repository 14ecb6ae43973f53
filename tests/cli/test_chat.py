"""Scripted ``specdraft chat`` and ``specdraft refine`` sessions through piped stdin.

The model is the suite's fake OpenAI-compatible server (``fault_server``, its answers scripted by
schema name with ``replies``): these tests check mechanics (the file, its journal, exit codes, diffs),
so what the model says does not matter, only which request it answers.
Sessions against the real embedded model (cassettes) are in test_refine.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.io.journal import journal_path

ROOT = Path(__file__).resolve().parents[2]

NEW_OVERVIEW = (
    "Workspace admins invite colleagues by email; sign-in goes through Okta single sign-on. "
    "Each invitation link is valid for 7 days."
)


@pytest.fixture
def fake_model(fault_server: FaultServer) -> FaultServer:
    """The suite's fake server, scripted as a model that takes every routed message for a question,
    answers it with one sentence, and rewrites the Overview as NEW_OVERVIEW."""
    fault_server.replies.update(
        {
            "route": json.dumps({"kind": "question", "sections": []}),
            "answer": json.dumps({"answer": "Redis holds the rate-limit counters."}),
            "Overview": json.dumps({"what_are_we_building": NEW_OVERVIEW}),
        }
    )
    return fault_server


def run(args: list[str], fake: FaultServer, stdin: str = "") -> Any:
    runner = CliRunner()
    return runner.invoke(app, [*args, "--base-url", fake.base_url, "--timeout", "20"], input=stdin)


def journal(spec: Path) -> list[dict[str, Any]]:
    path = journal_path(spec)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def overview(path: Path) -> str:
    from agent.specdoc.document import load_spec

    section = load_spec(path).section("Overview")
    assert section is not None
    return section.text


# -- chat ---------------------------------------------------------------------------------------------


def test_edit_accepted_is_written_and_journalled(spec: Path, fake_model: FaultServer) -> None:
    original = spec.read_text(encoding="utf-8")
    before = overview(spec)
    result = run(["chat", str(spec)], fake_model, "/edit Overview use Okta single sign-on\ny\n/quit\n")
    assert result.exit_code == 0, result.output
    assert "Apply? [y/n/e]" in result.output
    assert "+Workspace admins invite colleagues by email; sign-in goes through Okta" in result.output
    text = spec.read_text(encoding="utf-8")
    assert NEW_OVERVIEW in overview(spec)
    # only the Overview section changed: everything after it is byte-identical
    assert text.replace(overview(spec), "") == original.replace(before, "")
    [entry] = journal(spec)
    assert entry["op"] == "apply" and entry["instruction"] == "use Okta single sign-on"
    assert entry["sections"][0]["title"] == "Overview"
    assert entry["sections"][0]["before"] == before
    assert entry["sections"][0]["after"] == overview(spec)
    assert fake_model.schema_names() == ["Overview"]  # /edit forces the section: no routing call


def test_routed_edit_uses_the_model_choice(spec: Path, fake_model: FaultServer) -> None:
    fake_model.replies["route"] = json.dumps(
        {"kind": "edit", "sections": [{"title": "Overview", "reason": "the sign-in changes"}]}
    )
    result = run(["chat", str(spec), "--yes"], fake_model, "sign in with Okta\n")
    assert result.exit_code == 0, result.output
    assert "Overview: the sign-in changes" in result.output
    assert NEW_OVERVIEW in overview(spec)
    assert fake_model.schema_names() == ["route", "Overview"]
    route_request = fake_model.chat_requests()[0].body
    enum = route_request["response_format"]["json_schema"]["schema"]["properties"]["sections"]["items"]
    assert "Technology Stack" in enum["properties"]["title"]["enum"]


def test_rejection_leaves_the_file_byte_identical(spec: Path, fake_model: FaultServer) -> None:
    original = spec.read_bytes()
    result = run(["chat", str(spec)], fake_model, "/edit Overview use Okta\nn\n")
    assert result.exit_code == 0, result.output
    assert "Discarded" in result.output
    assert spec.read_bytes() == original
    assert journal(spec) == []


def test_question_is_answered_without_an_edit(spec: Path, fake_model: FaultServer) -> None:
    original = spec.read_bytes()
    result = run(["chat", str(spec)], fake_model, "why did you choose Redis?\n")
    assert result.exit_code == 0, result.output
    assert "Redis holds the rate-limit counters." in result.output
    assert "Apply?" not in result.output
    assert spec.read_bytes() == original
    assert fake_model.schema_names() == ["route", "answer"]


def test_an_edit_touching_no_section_gets_an_answer(spec: Path, fake_model: FaultServer) -> None:
    fake_model.replies["route"] = json.dumps({"kind": "edit", "sections": []})
    result = run(["chat", str(spec)], fake_model, "make it better\n")
    assert result.exit_code == 0, result.output
    assert fake_model.schema_names() == ["route", "answer"]
    assert "Apply?" not in result.output


def test_undo_and_redo_restore_exact_bytes(spec: Path, fake_model: FaultServer) -> None:
    original = spec.read_bytes()
    run(["chat", str(spec), "--yes"], fake_model, "/edit Overview use Okta\n")
    changed = spec.read_bytes()
    assert changed != original
    # a new session: undo works from the journal
    result = run(["chat", str(spec)], fake_model, "/undo\n")
    assert "Undid change 1 (Overview)" in result.output
    assert spec.read_bytes() == original
    result = run(["chat", str(spec)], fake_model, "/undo\n/redo\n")
    assert "Nothing to undo." in result.output and "Redid change 1" in result.output
    assert spec.read_bytes() == changed
    assert [e["op"] for e in journal(spec)] == ["apply", "undo", "redo"]


def test_hand_edit_between_turns_is_preserved(spec: Path, fake_model: FaultServer) -> None:
    calls = {"n": 0}
    hand = "- Invitations by domain (anyone at example.com may join).\n"

    def second_turn_edits_by_hand(body: dict[str, Any]) -> str:
        calls["n"] += 1
        if calls["n"] == 2:  # a person saves the file in an editor before the second turn
            text = spec.read_text(encoding="utf-8")
            spec.write_text(
                text.replace(hand, "- Invitations by domain, edited by hand.\n"), encoding="utf-8"
            )
        overview_text = (
            NEW_OVERVIEW if calls["n"] == 1 else NEW_OVERVIEW + " Admins may resend an invitation."
        )
        return json.dumps({"what_are_we_building": overview_text})

    fake_model.replies["Overview"] = second_turn_edits_by_hand
    result = run(["chat", str(spec), "--yes"], fake_model, "/edit Overview okta\n/edit Overview resend\n")
    assert result.exit_code == 0, result.output
    text = spec.read_text(encoding="utf-8")
    assert "- Invitations by domain, edited by hand.\n" in text
    assert "Admins may resend an invitation." in text
    assert len(journal(spec)) == 2


def test_hand_edit_of_the_proposed_section_is_not_overwritten(spec: Path, fake_model: FaultServer) -> None:
    def edits_the_same_section(body: dict[str, Any]) -> str:
        text = spec.read_text(encoding="utf-8")
        spec.write_text(text.replace("Workspace admins invite", "Admins invite"), encoding="utf-8")
        return json.dumps({"what_are_we_building": NEW_OVERVIEW})

    fake_model.replies["Overview"] = edits_the_same_section
    result = run(["chat", str(spec)], fake_model, "/edit Overview okta\ny\n")
    assert "changed on disk since the change was proposed" in result.output
    assert "Admins invite colleagues" in spec.read_text(encoding="utf-8")
    assert journal(spec) == []


def _approve(spec: Path) -> None:
    text = spec.read_text(encoding="utf-8")
    spec.write_text(
        text.replace("status: DRAFT", "status: APPROVED").replace(
            "**Status**: DRAFT", "**Status**: APPROVED"
        ),
        encoding="utf-8",
    )


def test_approved_spec_is_refused_then_reopened(spec: Path, fake_model: FaultServer) -> None:
    _approve(spec)
    approved = spec.read_bytes()
    result = run(["chat", str(spec)], fake_model, "/edit Overview okta\ny\n")
    assert result.exit_code == 2
    assert "APPROVED" in result.output and "--reopen" in result.output
    assert spec.read_bytes() == approved
    assert fake_model.chat_requests() == []
    result = run(
        ["chat", str(spec), "--reopen", "--by", "Ana Lima <ana@example.com>"],
        fake_model,
        "/edit Overview okta\ny\n",
    )
    assert result.exit_code == 0, result.output
    assert "Ana Lima <ana@example.com>" in result.output and "no longer hold" in result.output
    text = spec.read_text(encoding="utf-8")
    assert "status: DRAFT" in text and "**Status**: DRAFT" in text
    assert NEW_OVERVIEW in text


def test_sections_show_diff_help_and_unknown(spec: Path, fake_model: FaultServer) -> None:
    script = "".join(
        f"{line}\n"
        for line in [
            "/help",
            "/sections",
            "/show tech",
            "/show technology",
            "/diff",
            "/edit Overview okta",
            "y",
            "/diff",
            "/nope",
            "/edit",
            "/quit",
            "ignored",
        ]
    )
    result = run(["chat", str(spec)], fake_model, script)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "/undo" in out and "  Database Design" in out
    assert "No single section called 'tech'" in out  # ambiguous
    assert "## Technology Stack" in out  # /show with a unique prefix
    assert "No changes accepted in this session." in out
    assert out.count("+Workspace admins invite colleagues by email; sign-in") == 2  # proposal and /diff
    assert "Unknown command /nope" in out and "Usage: /edit" in out
    assert "> ignored" not in out  # /quit ended the session


def test_end_of_input_at_apply_discards(spec: Path, fake_model: FaultServer) -> None:
    original = spec.read_bytes()
    result = run(["chat", str(spec)], fake_model, "/edit Overview okta\n")
    assert result.exit_code == 0, result.output
    assert spec.read_bytes() == original


def test_editor_answer_writes_the_edited_text(
    spec: Path, fake_model: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agent.drafting.chat.default_editor", lambda text: text.replace("Okta", "Auth0"))
    result = run(["chat", str(spec)], fake_model, "/edit Overview okta\ne\ny\n")
    assert result.exit_code == 0, result.output
    assert "sign-in goes through Auth0" in overview(spec)


def test_model_output_that_never_validates_leaves_the_section(spec: Path, fake_model: FaultServer) -> None:
    original = spec.read_bytes()
    fake_model.replies["Overview"] = json.dumps({"what_are_we_building": "TBD"})
    result = run(["chat", str(spec), "--max-retries", "1"], fake_model, "/edit Overview okta\n")
    assert result.exit_code == 0, result.output
    assert "left as it was" in result.output and "2 attempt(s)" in result.output
    assert spec.read_bytes() == original
    assert fake_model.schema_names() == ["Overview", "Overview"]


def test_corrupt_journal_is_moved_aside(spec: Path, fake_model: FaultServer) -> None:
    original = spec.read_bytes()
    journal_path(spec).write_text("{not json\n", encoding="utf-8")
    result = run(["chat", str(spec)], fake_model, "/undo\n")
    assert result.exit_code == 0, result.output
    assert "could not be read" in result.output and "Nothing to undo." in result.output
    assert spec.read_bytes() == original
    assert not journal_path(spec).exists()
    [aside] = list(spec.parent.glob("spec.md.history.jsonl.corrupt-*"))
    assert aside.read_text(encoding="utf-8") == "{not json\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.write_text("just some notes\n", encoding="utf-8"), "is not a spec"),
    ],
)
def test_bad_spec_is_refused(tmp_path: Path, fake_model: FaultServer, make: Any, message: str) -> None:
    path = tmp_path / "spec.md"
    make(path)
    for args in (["chat", str(path)], ["refine", str(path), "-m", "x"]):
        result = run(args, fake_model, "")
        assert result.exit_code == 2
        assert message in result.output and "Traceback" not in result.output
    assert fake_model.chat_requests() == []


# -- refine ---------------------------------------------------------------------------------------------


def test_refine_previews_without_yes_and_applies_with_it(spec: Path, fake_model: FaultServer) -> None:
    fake_model.replies["route"] = json.dumps(
        {"kind": "edit", "sections": [{"title": "Overview", "reason": "sign-in"}]}
    )
    original = spec.read_bytes()
    preview = run(["refine", str(spec), "-m", "use Okta"], fake_model)
    assert preview.exit_code == 0, preview.output
    assert "+Workspace admins invite colleagues by email; sign-in" in preview.output
    assert "Nothing written" in preview.output
    assert spec.read_bytes() == original
    result = run(["refine", str(spec), "-m", "use Okta", "--yes", "--json"], fake_model)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["applied"] is True and data["change_id"] == 1
    assert data["changes"][0]["title"] == "Overview" and "+Workspace" in data["changes"][0]["diff"]
    assert NEW_OVERVIEW in overview(spec)
    assert journal(spec)[0]["instruction"] == "use Okta"


def test_refine_empty_instruction_and_approved(spec: Path, fake_model: FaultServer) -> None:
    result = run(["refine", str(spec), "-m", "   "], fake_model)
    assert result.exit_code == 2 and "instruction is empty" in result.output
    _approve(spec)
    result = run(["refine", str(spec), "-m", "use Okta", "--yes"], fake_model)
    assert result.exit_code == 2 and "--reopen" in result.output
    assert fake_model.chat_requests() == []


def test_refine_never_validating_exits_1(spec: Path, fake_model: FaultServer) -> None:
    fake_model.replies["route"] = json.dumps(
        {"kind": "edit", "sections": [{"title": "Overview", "reason": "sign-in"}]}
    )
    fake_model.replies["Overview"] = "{}"
    original = spec.read_bytes()
    result = run(["refine", str(spec), "-m", "use Okta", "--yes", "--max-retries", "0"], fake_model)
    assert result.exit_code == 1
    assert "never validated" in result.output
    assert spec.read_bytes() == original


# -- a killed process ---------------------------------------------------------------------------------


def test_killed_after_an_accepted_change_keeps_it(spec: Path, fake_model: FaultServer) -> None:
    before = overview(spec)
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from agent.cli.main import main; main()",
            "chat",
            str(spec),
            "--base-url",
            fake_model.base_url,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("/edit Overview okta\ny\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(line)
        if "Applied change 1" in line or not line:
            break
    # the session now waits for the next line: kill it without any chance to clean up
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert any("Applied change 1" in line for line in seen), "".join(seen)
    assert NEW_OVERVIEW in overview(spec)
    [entry] = journal(spec)
    assert entry["sections"][0]["before"] == before
    assert entry["sections"][0]["after"] == overview(spec)
    assert not list(spec.parent.glob(".spec.md.*.tmp"))


def test_ctrl_c_cancels_the_model_call_and_returns_to_the_prompt(spec: Path, fake_model: FaultServer) -> None:
    original = spec.read_bytes()
    fake_model.slow_seconds = 8.0
    fake_model.plan("slow")  # the first answer takes 8 s
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from agent.cli.main import main; main()",
            "chat",
            str(spec),
            "--base-url",
            fake_model.base_url,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=ROOT,
    )
    assert proc.stdin is not None
    proc.stdin.write("/edit Overview okta\n")
    proc.stdin.flush()
    assert fake_model.wait_for_request(30), "the model was never asked"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate("/sections\n/quit\n", timeout=30)
    assert proc.returncode == 0, out
    assert "Cancelled; nothing was changed." in out
    assert "  Database Design" in out and "Session ended" in out  # the session went on
    assert spec.read_bytes() == original
    assert journal(spec) == []


def test_sigterm_ends_the_session_and_leaves_the_spec_alone(spec: Path, fake_model: FaultServer) -> None:
    """Unlike Ctrl-C (cancel the request, go on), SIGTERM ends chat: exit 130, nothing written."""
    original = spec.read_bytes()
    fake_model.slow_seconds = 8.0
    fake_model.plan("slow")  # the first answer takes 8 s
    proc = subprocess.Popen(
        [sys.executable, "-c", "from agent.cli.main import main; main()", "chat", str(spec),
         "--base-url", fake_model.base_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=ROOT,
    )  # fmt: skip
    assert proc.stdin is not None
    proc.stdin.write("/edit Overview okta\n")
    proc.stdin.flush()
    assert fake_model.wait_for_request(30), "the model was never asked"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate("/sections\n", timeout=30)
    assert proc.returncode == 130, out
    assert "Interrupted; nothing half-written was left behind." in out
    assert "Traceback" not in out and "  Database Design" not in out  # the session did not go on
    assert spec.read_bytes() == original
    assert journal(spec) == []


# -- the brief recorded in the spec -------------------------------------------------------------------

BRIEF_TEXT = (
    "# Team invitations\n\nAdmins invite colleagues by email; QUOKKA-MARKER links expire in 7 days.\n"
)


def _route_to_overview(fake: FaultServer) -> None:
    fake.replies["route"] = json.dumps(
        {"kind": "edit", "sections": [{"title": "Overview", "reason": "sign-in"}]}
    )


def _record_brief(spec: Path, reference: str, sha256: str | None = None) -> None:
    extra = f"  brief: {reference}\n" + (f"  brief_sha256: '{sha256}'\n" if sha256 else "")
    text = spec.read_text(encoding="utf-8").replace(
        "  template: tech-spec\n", "  template: tech-spec\n" + extra, 1
    )
    spec.write_text(text, encoding="utf-8")


def test_refine_uses_the_brief_recorded_in_the_spec(spec: Path, fake_model: FaultServer) -> None:
    from agent.drafting.brief import load_brief

    briefs = spec.parent / "briefs"
    briefs.mkdir()
    (briefs / "invites.md").write_text(BRIEF_TEXT)
    _record_brief(spec, "briefs/invites.md", load_brief(briefs / "invites.md").sha256)
    _route_to_overview(fake_model)
    result = run(["refine", str(spec), "-m", "use Okta"], fake_model)
    assert result.exit_code == 0, result.output
    assert "(recorded in the spec)" in result.stderr
    last = fake_model.chat_requests()[-1].body["messages"]
    assert "QUOKKA-MARKER" in json.dumps(last), "the brief reaches the model"


def test_a_changed_or_missing_recorded_brief_is_a_notice(spec: Path, fake_model: FaultServer) -> None:
    (spec.parent / "invites.md").write_text(BRIEF_TEXT)
    _record_brief(spec, "invites.md", "0" * 64)
    _route_to_overview(fake_model)
    result = run(["refine", str(spec), "-m", "use Okta"], fake_model)
    assert result.exit_code == 0, result.output
    assert "it has changed since the spec was drafted" in result.stderr
    assert "QUOKKA-MARKER" in json.dumps(fake_model.chat_requests()[-1].body["messages"])

    (spec.parent / "invites.md").unlink()
    before = len(fake_model.chat_requests())
    result = run(["refine", str(spec), "-m", "use Okta"], fake_model)
    assert result.exit_code == 0, result.output
    assert "The brief recorded in the spec (invites.md) was not used" in result.stderr
    assert "Pass --brief" in result.stderr
    assert "QUOKKA-MARKER" not in json.dumps([r.body for r in fake_model.chat_requests()[before:]])


@pytest.mark.parametrize("where", ["parent", "absolute", "symlink-out", "not-a-brief"])
def test_a_recorded_brief_outside_the_spec_folder_is_not_sent(
    spec: Path, fake_model: FaultServer, tmp_path_factory: pytest.TempPathFactory, where: str
) -> None:
    """The front matter is only text: it cannot make refine send any file on the machine to the model."""
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.md"
    outside.write_text("# Secret\n\nDB_PASSWORD=QUOKKA-MARKER\n")
    if where == "parent":
        (spec.parent.parent / "secret.md").write_text(outside.read_text())
        reference = "../secret.md"
    elif where == "absolute":
        reference = str(outside)
    elif where == "symlink-out":
        (spec.parent / "brief.md").symlink_to(outside)
        reference = "brief.md"
    else:
        (spec.parent / "secret.env").write_text(outside.read_text())
        reference = "secret.env"
    _record_brief(spec, reference)
    _route_to_overview(fake_model)
    result = run(["refine", str(spec), "-m", "use Okta"], fake_model)
    assert result.exit_code == 0, result.output
    assert "was not read" in result.stderr and "Pass --brief" in result.stderr, result.stderr
    assert "QUOKKA-MARKER" not in json.dumps([r.body for r in fake_model.chat_requests()])
    # given on the command line, the same file is used: the user chose it
    result = run(["refine", str(spec), "-m", "use Okta", "--brief", str(outside)], fake_model)
    assert "QUOKKA-MARKER" in json.dumps(fake_model.chat_requests()[-1].body["messages"]), result.output
