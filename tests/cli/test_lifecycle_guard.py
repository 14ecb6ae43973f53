"""No entry point edits an APPROVED spec: the one lifecycle guard (``agent.specdoc.lifecycle``) refuses it.

Each way in is driven against a spec approved the way `review` and `approve` do it: the refine and chat
commands, the chat session itself (a spec approved after the command's own check), the Refiner API
(apply, undo, redo) and, in test_mcp.py, the MCP tool ``refine_spec`` with ``apply=true``. Each is
refused with a clear error and leaves the file byte-identical, its approval still holding. Reopening
(`specdraft reopen`, or --reopen) is the one way back.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from helpers.fault_server import FaultServer
from helpers.lifecycle import CLEAN, approve_file, approved_spec, still_approved
from pydantic import SecretStr
from rich.console import Console
from typer.testing import CliRunner

from agent.cli.main import app
from agent.drafting.chat import ChatSession, PipeReader
from agent.drafting.refine import Proposal, Refiner, Route, SectionChange
from agent.errors import NotEditableError
from agent.llm.providers import Endpoint, ModelSettings, Provider
from agent.signoff.records import read_signoffs
from agent.specdoc.document import load_spec

REFUSED = "is APPROVED; it is not edited without reopening it."
#: the CLI's chat and refine keep their own wording: their --reopen flag
CLI_HINT = "Pass --reopen to set it back to DRAFT (existing approvals then no longer hold)."


def _model(server: FaultServer) -> list[str]:
    return ["--base-url", server.base_url, "--model", "fault-model", "--timeout", "10"]


def _settings(server: FaultServer) -> ModelSettings:
    return ModelSettings(
        provider=Provider.compatible, base_url=(server.base_url,), model="fault-model", timeout=10, slots=1
    )


def _endpoint(server: FaultServer) -> Endpoint:
    return Endpoint(Provider.compatible, server.base_url, "fault-model", SecretStr("no-key-needed"))


def _overview_change(spec: Path) -> Proposal:
    """A proposal made by hand (no model): shorten the Overview's first sentence."""
    section = load_spec(spec).section("Overview")
    assert section is not None
    after = section.text.replace("Workspace admins invite colleagues", "Admins invite people")
    change = SectionChange("Overview", "shorter", section.text, after)
    return Proposal("make the overview shorter", Route("edit", [("Overview", "shorter")]), [change])


def test_refine_command_refuses_an_approved_spec(tmp_path: Path, fault_server: FaultServer) -> None:
    spec = tmp_path / "spec.md"
    approved = approved_spec(spec)
    result = CliRunner().invoke(app, ["refine", str(spec), "-m", "use Okta", "--yes", *_model(fault_server)])
    assert result.exit_code == 2, result.output
    assert REFUSED in result.output and CLI_HINT in result.output
    assert still_approved(spec, approved)
    assert fault_server.chat_requests() == []  # refused before any model work


def test_chat_command_refuses_an_approved_spec(tmp_path: Path, fault_server: FaultServer) -> None:
    spec = tmp_path / "spec.md"
    approved = approved_spec(spec)
    result = CliRunner().invoke(
        app, ["chat", str(spec), *_model(fault_server)], input="/edit Overview use Okta\ny\n"
    )
    assert result.exit_code == 2, result.output
    assert REFUSED in result.output and CLI_HINT in result.output
    assert still_approved(spec, approved)
    assert fault_server.chat_requests() == []


def test_the_chat_session_refuses_to_apply_to_an_approved_spec(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    """The session's own apply checks the file when it writes (approved after the command's check)."""
    spec = tmp_path / "spec.md"
    approved = approved_spec(spec)
    out = io.StringIO()
    console = Console(file=out, width=120, highlight=False, soft_wrap=True)
    refiner = Refiner(spec, _endpoint(fault_server), _settings(fault_server))
    reader = PipeReader(io.StringIO("/edit Overview make it shorter\ny\n"), lambda text: None)
    ChatSession(refiner, reader, console).run()
    shown = out.getvalue()
    assert fault_server.chat_requests(), "the model proposed a change: the refusal came at apply time"
    assert "+Admins" in shown or "@@" in shown  # the diff was shown, then refused
    assert REFUSED in shown and "specdraft reopen" in shown
    assert "0 change(s) accepted" in shown
    assert still_approved(spec, approved)


def test_the_refiner_api_refuses_apply_undo_and_redo(tmp_path: Path, fault_server: FaultServer) -> None:
    spec = tmp_path / "spec.md"
    shutil.copyfile(CLEAN, spec)
    refiner = Refiner(spec, _endpoint(fault_server), _settings(fault_server))
    refiner.apply(_overview_change(spec))  # a DRAFT is edited as before: one journalled change
    assert refiner.undo() is not None and refiner.redo() is not None
    approved = approve_file(spec)
    for step in (lambda: refiner.apply(_overview_change(spec)), refiner.undo):
        with pytest.raises(NotEditableError, match=re.escape(REFUSED)) as refused:
            step()
        assert "specdraft reopen" in str(refused.value)
        assert still_approved(spec, approved)
    refiner.journal.record_undo(1)  # as if undone before the approval: redo is refused the same way
    with pytest.raises(NotEditableError, match=re.escape(REFUSED)):
        refiner.redo()
    assert still_approved(spec, approved)


def test_reopen_is_the_way_back(tmp_path: Path, fault_server: FaultServer) -> None:
    spec = tmp_path / "spec.md"
    approved_spec(spec)
    result = CliRunner().invoke(app, ["reopen", str(spec), "--by", "Ben Okafor <ben@example.com>"])
    assert result.exit_code == 0, result.output
    assert "Reopened" in result.output and "the 1 existing approval(s) no longer hold" in result.output
    doc = load_spec(spec)
    assert doc.status == "DRAFT" and doc.footer is not None and doc.footer.status == "DRAFT"
    [record] = read_signoffs(doc)
    assert record.superseded is not None and record.superseded.by == "Ben Okafor <ben@example.com>"
    refiner = Refiner(spec, _endpoint(fault_server), _settings(fault_server))
    refiner.apply(_overview_change(spec))
    assert "Admins invite people" in spec.read_text(encoding="utf-8")
    before = spec.read_bytes()
    again = CliRunner().invoke(app, ["reopen", str(spec), "--by", "Ben Okafor <ben@example.com>"])
    assert again.exit_code == 0 and "nothing to reopen" in again.output
    assert spec.read_bytes() == before
