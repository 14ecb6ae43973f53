"""`specdraft mcp` driven by the MCP SDK's own stdio client: a real session spawning `python -m agent mcp`.

The model calls go to the fault_server fixture (an OpenAI-compatible fake on 127.0.0.1) via base_url.
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
from helpers.lifecycle import approved_spec, still_approved
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent

ROOT = Path(__file__).resolve().parent.parent.parent
CLEAN = (ROOT / "tests" / "data" / "specs" / "clean.md").read_text(encoding="utf-8")
BRIEF = "# Team invitations\n\nAdmins invite people to a workspace by email; links expire after 7 days.\n"
TRANSCRIPT = os.environ.get("SPECDRAFT_MCP_TRANSCRIPT")  # docs: write the session's calls and results here


def _params(cwd: Path, env_extra: dict[str, str] | None = None) -> StdioServerParameters:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": "",
        "GITHUB_TOKEN": "",
        **(env_extra or {}),
    }
    return StdioServerParameters(command=sys.executable, args=["-m", "agent", "mcp"], env=env, cwd=str(cwd))


def _text(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


def _session(cwd: Path, body: Any, env: dict[str, str] | None = None) -> None:
    async def main() -> None:
        async with stdio_client(_params(cwd, env)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await body(session)

    anyio.run(main)


def test_agent_session_list_draft_lint_refine_verify(tmp_path: Path, fault_server: FaultServer) -> None:
    (tmp_path / "brief.md").write_text(BRIEF, encoding="utf-8")
    log: list[dict[str, Any]] = []
    progress: list[float] = []
    model = {
        "provider": "compatible",
        "base_url": fault_server.base_url,
        "model": "fault-model",
        "timeout": 10,
    }

    async def body(session: ClientSession) -> None:
        tools = await session.list_tools()
        names = sorted(t.name for t in tools.tools)
        log.append({"list_tools": names})
        assert names == [
            "draft_spec",
            "lint_spec",
            "list_templates",
            "refine_spec",
            "trace_spec",
            "verify_spec",
        ]
        assert all(t.inputSchema.get("type") == "object" for t in tools.tools)

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append(done)

        args = {"brief_path": "brief.md", "output": "spec.md", **model}
        drafted = await session.call_tool("draft_spec", args, progress_callback=on_progress)
        assert not drafted.isError, _text(drafted)
        assert drafted.structuredContent is not None
        log.append({"call": "draft_spec", "arguments": args, "result": drafted.structuredContent})
        assert drafted.structuredContent["path"] == "spec.md"
        assert drafted.structuredContent["usage"]
        assert (tmp_path / "spec.md").read_text(encoding="utf-8").startswith("---")
        assert progress and progress == sorted(progress)

        linted = await session.call_tool("lint_spec", {"path": "spec.md"})
        assert not linted.isError and linted.structuredContent is not None
        log.append(
            {"call": "lint_spec", "arguments": {"path": "spec.md"}, "result": linted.structuredContent}
        )
        assert {"errors", "warnings", "findings", "summary"} <= set(linted.structuredContent)

        traced = await session.call_tool("trace_spec", {"path": "spec.md"})
        assert not traced.isError and traced.structuredContent is not None, _text(traced)
        log.append(
            {"call": "trace_spec", "arguments": {"path": "spec.md"}, "result": traced.structuredContent}
        )
        requirement_ids = [r["id"] for r in traced.structuredContent["requirements"]]
        assert requirement_ids and all(i.startswith(("FR-", "NFR-", "QR-")) for i in requirement_ids)
        assert set(traced.structuredContent["uncovered"]) <= set(requirement_ids)

        before = (tmp_path / "spec.md").read_text(encoding="utf-8")
        refine_args = {"path": "spec.md", "instruction": "Make the Overview shorter", **model}
        refined = await session.call_tool("refine_spec", refine_args)
        assert not refined.isError, _text(refined)
        assert refined.structuredContent is not None and refined.structuredContent["applied"] is False
        log.append({"call": "refine_spec", "arguments": refine_args, "result": refined.structuredContent})
        assert (tmp_path / "spec.md").read_text(encoding="utf-8") == before  # apply defaults to false

        verified = await session.call_tool("verify_spec", {"path": "spec.md"})
        assert not verified.isError and verified.structuredContent is not None
        log.append(
            {"call": "verify_spec", "arguments": {"path": "spec.md"}, "result": verified.structuredContent}
        )
        assert verified.structuredContent["ok"] is False
        assert "not been signed off" in verified.structuredContent["problems"][0]

    _session(tmp_path, body)
    if TRANSCRIPT:
        Path(TRANSCRIPT).write_text(json.dumps(log, indent=2), encoding="utf-8")


def test_refine_spec_apply_refuses_an_approved_spec(tmp_path: Path, fault_server: FaultServer) -> None:
    """An agent cannot rewrite an APPROVED spec: refused, the file byte-identical, the approval holding."""
    spec = tmp_path / "spec.md"
    approved = approved_spec(spec)
    fault_server.choices = {"kind": "edit"}  # the router asks for an edit: without the guard it is applied
    model = {"provider": "compatible", "base_url": fault_server.base_url, "model": "fault-model"}

    async def body(session: ClientSession) -> None:
        args = {"path": "spec.md", "instruction": "Make the Overview shorter", "apply": True, **model}
        refused = await session.call_tool("refine_spec", args)
        assert refused.isError, _text(refused)
        assert "is APPROVED; it is not edited without reopening it." in _text(refused)
        assert "specdraft reopen" in _text(refused)
        preview = await session.call_tool("refine_spec", {**args, "apply": False})
        assert not preview.isError and preview.structuredContent is not None, _text(preview)
        assert preview.structuredContent["sections"], "a change was proposed, so apply had one to write"
        verified = await session.call_tool("verify_spec", {"path": "spec.md"})
        assert verified.structuredContent is not None and verified.structuredContent["ok"] is True

    _session(tmp_path, body)
    assert still_approved(spec, approved)


def test_errors_are_tool_errors_and_paths_are_confined(tmp_path: Path) -> None:
    (tmp_path / "spec.md").write_text(CLEAN, encoding="utf-8")

    async def body(session: ClientSession) -> None:
        outside = await session.call_tool("lint_spec", {"path": "../elsewhere/spec.md"})
        assert outside.isError and "outside the server's working directory" in _text(outside)
        missing = await session.call_tool("lint_spec", {"path": "nope.md"})
        assert missing.isError and "nope.md" in _text(missing)
        no_brief = await session.call_tool("draft_spec", {"output": "new.md"})
        assert no_brief.isError and "brief_path or brief_text" in _text(no_brief)
        exists = await session.call_tool("draft_spec", {"output": "spec.md", "brief_text": BRIEF})
        assert exists.isError and "already exists" in _text(exists)
        # the server is still alive and answers correctly after the errors
        linted = await session.call_tool("lint_spec", {"path": "spec.md"})
        assert not linted.isError and linted.structuredContent is not None
        assert linted.structuredContent["errors"] == 0
        templates = await session.call_tool("list_templates", {})
        assert "tech-spec" in _text(templates)

    _session(tmp_path, body)


def test_resources_list_templates_and_specs(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "spec.md").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "notes.md").write_text("# not a spec\n", encoding="utf-8")

    async def body(session: ClientSession) -> None:
        from pydantic import AnyUrl

        template = await session.read_resource(AnyUrl("specdraft://templates/tech-spec"))
        text = "".join(getattr(c, "text", "") for c in template.contents)
        assert "## Implementation Timeline" in text
        specs = await session.read_resource(AnyUrl("specdraft://specs"))
        listed = json.loads("".join(getattr(c, "text", "") for c in specs.contents))
        assert listed == ["docs/spec.md"]

    _session(tmp_path, body)


KEY = "sk-mcp-user-key-0123456789abcdef"


@pytest.mark.parametrize("configured", [False, True])
def test_the_users_key_goes_only_to_a_server_the_user_configured(
    tmp_path: Path, fault_server: FaultServer, configured: bool
) -> None:
    """An agent (or a prompt injected into it) naming base_url in a tool call got the user's
    OPENAI_API_KEY sent to that server; a server the user configured still gets it."""
    (tmp_path / "brief.md").write_text(BRIEF, encoding="utf-8")
    env = {"OPENAI_API_KEY": KEY, **({"SPECDRAFT_BASE_URL": fault_server.base_url} if configured else {})}
    args = {
        "brief_path": "brief.md",
        "output": "spec.md",
        "base_url": fault_server.base_url,
        "model": "fault-model",
    }

    async def body(session: ClientSession) -> None:
        drafted = await session.call_tool("draft_spec", args)
        assert not drafted.isError, _text(drafted)

    _session(tmp_path, body, env)
    sent = {
        r.headers.get("Authorization", r.headers.get("authorization", ""))
        for r in fault_server.chat_requests()
    }
    assert sent
    assert all((KEY in header) is configured for header in sent), sent


def _system_prompts(fault_server: FaultServer) -> list[str]:
    return [
        str(m.get("content", ""))
        for r in fault_server.chat_requests()
        for m in r.body.get("messages", [])
        if m.get("role") == "system"
    ]


def test_draft_spec_takes_a_language_and_refuses_an_unknown_one(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    """``language`` means what ``--language`` means: the spec's language, by code or name."""
    model = {
        "provider": "compatible",
        "base_url": fault_server.base_url,
        "model": "fault-model",
        "timeout": 10,
    }

    async def body(session: ClientSession) -> None:
        unknown = await session.call_tool(
            "draft_spec", {"brief_text": BRIEF, "output": "x.md", "language": "klingon", **model}
        )
        assert unknown.isError
        assert "language: 'klingon' is not a language specdraft knows" in _text(unknown)
        assert "de (German)" in _text(unknown) and "zh (Chinese)" in _text(unknown)
        assert not (tmp_path / "x.md").exists() and fault_server.chat_requests() == []
        drafted = await session.call_tool(
            "draft_spec", {"brief_text": BRIEF, "output": "de.md", "language": "Deutsch", **model}
        )
        assert not drafted.isError, _text(drafted)

    _session(tmp_path, body)
    text = (tmp_path / "de.md").read_text(encoding="utf-8")
    assert "\nlanguage: de\n" in text.split("\n---", 1)[0]
    # every section was asked for in German (the stand-in answers in English: the sections are marked)
    prompts = _system_prompts(fault_server)
    assert prompts and all("in German (Deutsch)" in p for p in prompts)


def test_refine_spec_takes_a_language_and_refuses_one_the_spec_does_not_record(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    (tmp_path / "en.md").write_text(CLEAN, encoding="utf-8")  # records no language: English by its text
    german = (ROOT / "tests" / "data" / "specs" / "clean-de.md").read_text(encoding="utf-8")
    (tmp_path / "de.md").write_text(german, encoding="utf-8")  # records language: de
    model = {
        "provider": "compatible",
        "base_url": fault_server.base_url,
        "model": "fault-model",
        "timeout": 10,
    }
    fault_server.choices = {"kind": "edit"}

    async def body(session: ClientSession) -> None:
        ask = {"instruction": "Make the Overview shorter", **model}
        unknown = await session.call_tool("refine_spec", {"path": "en.md", "language": "xx", **ask})
        assert unknown.isError and "language: 'xx' is not a language specdraft knows" in _text(unknown)
        other = await session.call_tool("refine_spec", {"path": "de.md", "language": "es", **ask})
        assert other.isError, _text(other)
        assert "written in German" in _text(other) and "not in Spanish" in _text(other)
        assert fault_server.chat_requests() == []  # both refused before any model call
        same = await session.call_tool("refine_spec", {"path": "de.md", "language": "Deutsch", **ask})
        assert not same.isError, _text(same)
        fault_server.received.clear()
        revised = await session.call_tool("refine_spec", {"path": "en.md", "language": "de", **ask})
        assert not revised.isError, _text(revised)

    _session(tmp_path, body)
    # the English-looking spec that records no language was revised in German, as asked
    assert any("in German (Deutsch)" in p for p in _system_prompts(fault_server))
    assert (tmp_path / "en.md").read_text(encoding="utf-8") == CLEAN  # apply defaults to false
