"""Hostile paths and special files: the hostile corpus's cases for paths someone else wrote.

Every path from an MCP argument, a spec's front matter or a project file goes through the one
confinement (``agent/io/paths.py``); every read goes through the one bounded reader with its special-file
check (``agent/io/textinput.py``). A case that could hang or fill memory on a regression runs in a
subprocess limited in time and memory, so a regression fails instead of taking the suite down.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from helpers.fault_server import FaultServer
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent
from typer.testing import CliRunner

from agent.cli.main import app
from agent.errors import InputError, TemplateError

ROOT = Path(__file__).resolve().parents[2]
CLEAN = (ROOT / "tests" / "data" / "specs" / "clean.md").read_text(encoding="utf-8")
BRIEF = "# Team invitations\n\nAdmins invite people to a workspace by email; links expire after 7 days.\n"
SMALL_TEMPLATE = (
    "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"
)
MEMORY_LIMIT = 1_500_000_000  # bytes of address space a refused input may cost at most
ENV = {"COLUMNS": "200", "OPENAI_API_KEY": ""}


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _python(code: str, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with this checkout's agent in a subprocess limited in time and memory."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "OPENAI_API_KEY": ""}
    env.pop("SPECDRAFT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limited,
        check=False,
    )


def _specdraft(args: list[str], cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    code = f"import sys; from agent.cli.main import main; sys.argv = ['specdraft', *{args!r}]; main()"
    return _python(code, cwd, timeout)


def _invoke(*args: str | Path, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], env={**ENV, **(env or {})})


def _spec_with_front_matter(path: Path, specdraft_extra: str) -> Path:
    """The clean spec with extra lines under its ``specdraft:`` front-matter key."""
    text = CLEAN.replace("  version: 0.1.0\n", "  version: 0.1.0\n" + specdraft_extra, 1)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the one confinement


def test_confine_refuses_dotdot_absolute_symlinks_nul_and_huge_paths(tmp_path: Path) -> None:
    from agent.io.paths import confine

    root = tmp_path / "root"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "a.md").write_text("a")
    outside = tmp_path / "outside.md"
    outside.write_text("secret")
    (root / "link.md").symlink_to(outside)
    assert confine("docs/a.md", root, what="spec") == (root / "docs" / "a.md").resolve()
    assert confine(str(root / "docs" / "a.md"), root, what="spec") == (root / "docs" / "a.md").resolve()
    for value, why in (
        ("../outside.md", "'..' leads out of it"),
        (str(outside), "absolute path"),
        ("/etc/passwd", "absolute path"),
        ("link.md", "symlink"),
    ):
        with pytest.raises(InputError, match="is outside") as caught:
            confine(value, root, what="spec")
        assert why in caught.value.message
    with pytest.raises(InputError, match="NUL byte"):
        confine("a\x00b.md", root, what="brief")
    started = time.monotonic()
    with pytest.raises(InputError, match="characters long"):
        confine("a/" * 500_000, root, what="path")
    assert time.monotonic() - started < 1


# ---------------------------------------------------------------- MCP: templates (item 1)


@pytest.fixture
def server_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    (root / "spec.md").write_text(CLEAN, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "tpl.md").write_text("# T\n\n## Leaked Heading From Outside\n\n[x]\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("template", ["{outside}/tpl.md", "/etc/passwd", "../outside/tpl.md"])
def test_mcp_lint_template_argument_is_confined(server_root: Path, template: str) -> None:
    from agent.integrations.mcp_server import Workspace, _lint

    value = template.format(outside=server_root.parent / "outside")
    with pytest.raises(InputError, match="outside the server's working directory"):
        _lint(Workspace(server_root), "spec.md", value)


def test_mcp_lint_a_front_matter_template_outside_the_root_is_refused(server_root: Path) -> None:
    from agent.integrations.mcp_server import Workspace, _lint

    _spec_with_front_matter(server_root / "spec.md", "")
    text = (server_root / "spec.md").read_text().replace("template: tech-spec", "template: ../outside/tpl.md")
    (server_root / "spec.md").write_text(text)
    with pytest.raises(TemplateError) as caught:
        _lint(Workspace(server_root), "spec.md", None)
    assert "was not read" in caught.value.message and "'..' leads out of it" in caught.value.message
    assert "Leaked Heading" not in str(caught.value)


def test_mcp_lint_builtin_template_names_still_work(server_root: Path) -> None:
    from agent.integrations.mcp_server import Workspace, _lint

    assert _lint(Workspace(server_root), "spec.md", "tech-spec").errors == 0


def _text(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


def _mcp_session(root: Path, cwd: Path, body: Any) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": ""}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "agent", "mcp", "--root", str(root)], env=env, cwd=str(cwd)
    )

    async def main() -> None:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            with anyio.fail_after(60):
                await body(session)

    anyio.run(main)


def test_mcp_draft_template_resolves_against_the_root_not_the_servers_cwd(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    root, cwd = tmp_path / "root", tmp_path / "cwd"
    root.mkdir()
    cwd.mkdir()
    (root / "brief.md").write_text(BRIEF)
    (root / "cwdtpl.md").write_text(SMALL_TEMPLATE.replace("## Risks", "## Root Risks"))
    (cwd / "cwdtpl.md").write_text(SMALL_TEMPLATE.replace("## Risks", "## Working Directory Risks"))
    model = {"provider": "compatible", "base_url": fault_server.base_url, "model": "fault-model"}

    async def body(session: ClientSession) -> None:
        args = {"brief_path": "brief.md", "output": "spec.md", "template": "cwdtpl.md", **model}
        drafted = await session.call_tool("draft_spec", args)
        assert not drafted.isError, _text(drafted)

    _mcp_session(root, cwd, body)
    spec = (root / "spec.md").read_text()
    assert "## Root Risks" in spec and "Working Directory" not in spec


def test_mcp_draft_over_its_own_brief_is_refused(server_root: Path) -> None:
    """Item 3: the MCP tool and the CLI share the one output check (agent/io/output.py)."""
    from agent.integrations.mcp_server import DraftRequest, ModelArguments, Workspace, _draft

    (server_root / "brief.md").write_text(BRIEF)
    settings = ModelArguments("compatible", "m", "http://127.0.0.1:9/v1", 2)
    request = DraftRequest("brief.md", "brief.md", None, None, True, settings)
    with pytest.raises(InputError, match="is the input"):
        _draft(Workspace(server_root), None, request)  # type: ignore[arg-type]
    assert (server_root / "brief.md").read_text() == BRIEF


def test_mcp_path_arguments_of_a_megabyte_are_refused_at_once(server_root: Path) -> None:
    from agent.integrations.mcp_server import Workspace, _lint, _trace

    started = time.monotonic()
    for call in (lambda: _lint(Workspace(server_root), "a/" * 500_000, None),
                 lambda: _trace(Workspace(server_root), "b" * 1_000_000)):  # fmt: skip
        with pytest.raises(InputError, match="characters long"):
            call()
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------- MCP: the specs resource (item 2)


def _specs_resource(root: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import json; from pathlib import Path; "
        "from agent.integrations.mcp_server import Workspace, _specs_under; "
        f"print(json.dumps(_specs_under(Workspace(Path({str(root)!r})))))"
    )
    return _python(code, root, timeout=20)


def test_mcp_specs_resource_skips_a_fifo(server_root: Path) -> None:
    os.mkfifo(server_root / "zz.md")
    done = _specs_resource(server_root)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["spec.md"]


def test_mcp_specs_resource_does_not_read_dev_zero(server_root: Path) -> None:
    (server_root / "big.md").symlink_to("/dev/zero")
    (server_root / "sub").mkdir()
    (server_root / "sub" / "out.md").symlink_to(server_root.parent / "outside" / "tpl.md")
    done = _specs_resource(server_root)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == ["spec.md"]


def test_the_bounded_reader_reads_only_the_head_it_is_asked_for(tmp_path: Path) -> None:
    from agent.errors import InputTooLargeError, NotRegularFileError
    from agent.io.textinput import read_user_bytes

    big = tmp_path / "big.md"
    big.write_bytes(b"---\nspecdraft: {}\n---\n" + b"x" * 3_000_000)
    assert len(read_user_bytes(big, what="Spec", max_bytes=2000, head=True)) == 2000
    with pytest.raises(InputTooLargeError):
        read_user_bytes(big, what="Spec", max_bytes=2000)
    os.mkfifo(tmp_path / "fifo")
    for special in (tmp_path / "fifo", Path("/dev/zero"), tmp_path):
        with pytest.raises(NotRegularFileError):
            read_user_bytes(special, what="Spec", max_bytes=2000, head=True)


# ---------------------------------------------------------------- export over its own spec (item 8)


def test_export_over_its_own_spec_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "spec.md"
    spec.write_text(CLEAN, encoding="utf-8")
    for to in ("markdown", "json", "jira-csv"):
        result = _invoke("export", spec, "--to", to, "-o", spec, "--force")
        assert result.exit_code == 2, result.output
        assert "is the input" in result.stderr and "Traceback" not in result.stderr
        assert spec.read_text(encoding="utf-8") == CLEAN
