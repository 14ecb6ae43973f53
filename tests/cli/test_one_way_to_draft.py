"""`draft`, `batch` and the MCP tool `draft_spec` draft through one service (agent.drafting.service).

The MCP tool reads the project's specdraft.toml as the CLI does (its template and context apply), and a
draft extracts its brief's facts once, however many sections check against them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from helpers.fault_server import FaultServer
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent
from typer.testing import CliRunner

import agent.drafting.brief
from agent.cli.main import app
from agent.specdoc.document import load_spec

ROOT = Path(__file__).resolve().parent.parent.parent
BRIEF = "# Team invitations\n\nAdmins invite people to a workspace by email; links expire after 7 days.\n"


def _text(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


def _session(cwd: Path, body: Any) -> None:
    """A real MCP session with `python -m agent mcp` started in ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": ""}
    params = StdioServerParameters(command=sys.executable, args=["-m", "agent", "mcp"], env=env, cwd=str(cwd))

    async def main() -> None:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await body(session)

    anyio.run(main)


def _project(root: Path, server: FaultServer) -> None:
    (root / "docs").mkdir()
    (root / "docs" / "storage.md").write_text(
        "# Storage\n\nInvitations live in the `invitations` table (PostgreSQL), keyed by token.\n",
        encoding="utf-8",
    )
    (root / "specdraft.toml").write_text(
        f'provider = "compatible"\nbase_url = "{server.base_url}"\nmodel = "fault-model"\ntimeout = 10\n'
        'template = "adr"\ncontext = ["docs"]\n',
        encoding="utf-8",
    )


def test_mcp_draft_honours_the_project_configuration(tmp_path: Path, fault_server: FaultServer) -> None:
    """No model, template or context arguments: specdraft.toml's apply, as they would for `draft`."""
    _project(tmp_path, fault_server)

    async def body(session: ClientSession) -> None:
        drafted = await session.call_tool("draft_spec", {"brief_text": BRIEF, "output": "spec.md"})
        assert not drafted.isError, _text(drafted)
        assert drafted.structuredContent is not None
        assert drafted.structuredContent["lint"]

    _session(tmp_path, body)
    doc = load_spec(tmp_path / "spec.md")
    provenance = doc.front_matter["specdraft"]
    assert provenance["template"] == "adr"
    assert [f["path"] for f in provenance["context"]["files"]] == ["docs/storage.md"]
    assert fault_server.chat_requests()  # the configured server answered


def _counting_extract(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = agent.drafting.brief.extract

    def counted(body: str, title: str | None = None) -> Any:
        calls.append(title or "")
        return real(body, title)

    monkeypatch.setattr(agent.drafting.brief, "extract", counted)
    return calls


def _model(server: FaultServer) -> list[str]:
    return [
        "--provider",
        "compatible",
        "--base-url",
        server.base_url,
        "--model",
        "fault-model",
        "--timeout",
        "10",
    ]


def test_draft_extracts_the_brief_facts_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer
) -> None:
    """Copy checks, off-topic checks of every section and the brief coverage share one extraction."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "brief.md").write_text(BRIEF, encoding="utf-8")
    calls = _counting_extract(monkeypatch)
    args = ["draft", "brief.md", "-o", "spec.md", "--json", *_model(fault_server)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code in (0, 3), result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["brief_coverage"] is not None and summary["lint"]
    assert len(summary["sections"]) > 1
    assert calls == ["Team invitations"]


def test_batch_extracts_each_brief_facts_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer
) -> None:
    monkeypatch.chdir(tmp_path)
    briefs = tmp_path / "briefs"
    briefs.mkdir()
    for name in ("alpha", "beta"):
        (briefs / f"{name}.md").write_text(f"# {name.capitalize()} export\n\nUsers export {name} data.\n")
    calls = _counting_extract(monkeypatch)
    args = ["batch", "briefs", "-o", "specs", "--quiet", *_model(fault_server)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code in (0, 3), result.stdout + result.stderr
    assert sorted(calls) == ["Alpha export", "Beta export"]
