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


# ---------------------------------------------------------------- MCP: templates


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
    """the MCP tool and the CLI share the one output check (agent/io/output.py)."""
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


# ---------------------------------------------------------------- MCP: the specs resource


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


# ---------------------------------------------------------------- export over its own spec


def test_export_over_its_own_spec_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "spec.md"
    spec.write_text(CLEAN, encoding="utf-8")
    for to in ("markdown", "json", "jira-csv"):
        result = _invoke("export", spec, "--to", to, "-o", spec, "--force")
        assert result.exit_code == 2, result.output
        assert "is the input" in result.stderr and "Traceback" not in result.stderr
        assert spec.read_text(encoding="utf-8") == CLEAN


# ---------------------------------------------------------------- --context: globs and special files


def test_a_glob_does_not_follow_a_symlink_out_of_its_directory(tmp_path: Path) -> None:
    from agent.context.walk import walk_context

    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:QUOKKA-MARKER:/root:/bin/bash\n")
    docs = tmp_path / "repo" / "docs"
    docs.mkdir(parents=True)
    (docs / "guide.md").write_text("# Guide\n\nHow refunds work.\n")
    (docs / "passwd.txt").symlink_to(secret)
    walked = walk_context([f"{tmp_path}/repo/docs/*"])
    assert [f.path.name for f in walked.files] == ["guide.md"]
    assert walked.skipped["symlink outside the tree"] == 1
    walked = walk_context([f"{tmp_path}/repo/**/*.txt"])  # a recursive glob: the same rule
    assert walked.files == [] and walked.skipped["symlink outside the tree"] == 1


def test_a_glob_symlink_to_passwd_never_reaches_the_model(tmp_path: Path, fault_server: FaultServer) -> None:
    secret = tmp_path / "passwd"  # worded like the brief, so retrieval would pick it were it read
    secret.write_text("admins:x:0:0:QUOKKA-MARKER team invitations workspace email links expire:/root\n")
    docs = tmp_path / "repo" / "docs"
    docs.mkdir(parents=True)
    (docs / "orders.md").write_text("# Orders\n\nInvitations are stored per workspace.\n")
    (docs / "passwd.txt").symlink_to(secret)
    (tmp_path / "brief.md").write_text(BRIEF)
    (tmp_path / "small.md").write_text(SMALL_TEMPLATE)
    result = _invoke("draft", tmp_path / "brief.md", "-o", tmp_path / "spec.md", "-t", tmp_path / "small.md",
                     "--context", f"{tmp_path}/repo/docs/*", "--base-url", fault_server.base_url,
                     "--model", "fault-model")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert fault_server.chat_requests()
    assert "QUOKKA-MARKER" not in json.dumps([r.body for r in fault_server.chat_requests()])


def _draft_with_context(tmp_path: Path, context: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "brief.md").write_text(BRIEF)
    (tmp_path / "small.md").write_text(SMALL_TEMPLATE)
    args = ["draft", "brief.md", "-o", "spec.md", "-t", "small.md", "--context", context,
            "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]  # fmt: skip
    return _specdraft(args, tmp_path)


def test_context_dev_zero_is_refused_not_read(tmp_path: Path) -> None:
    done = _draft_with_context(tmp_path, "/dev/zero")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "'/dev/zero' is not a regular file" in done.stderr and "unexpected" not in done.stderr
    assert not (tmp_path / "spec.md").exists()


def test_context_fifo_given_directly_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    done = _draft_with_context(tmp_path, "pipe.md")
    assert done.returncode == 2, done.stderr
    assert "'pipe.md' is not a regular file" in done.stderr


def test_context_fifo_matched_by_a_glob_is_skipped_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\ntext\n")
    os.mkfifo(tmp_path / "docs" / "b.md")
    code = (
        "from agent.context.walk import walk_context; "
        f"w = walk_context([{str(tmp_path / 'docs' / '*.md')!r}]); "
        "print([f.path.name for f in w.files], dict(w.skipped))"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['a.md'] {'special file': 1}"


def test_env_files_and_keys_in_a_context_directory_are_not_sent(tmp_path: Path) -> None:
    from agent.context.walk import walk_context

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text("def refund():\n    return 1\n")
    for name in (".env", ".env.production", "id_ed25519", "server.pem"):
        (repo / name).write_text("SECRET=QUOKKA-MARKER\n")
    walked = walk_context([str(repo)])
    assert [f.path.name for f in walked.files] == ["app.py"]
    assert walked.skipped["secret-bearing"] == 4


def test_the_context_limit_stops_reading_once_it_is_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.context import walk

    for number in range(100):
        (tmp_path / f"doc{number:03}.md").write_text("x" * 10_000)
    reads: list[Path] = []
    reader = walk.read_user_bytes

    def counting(path: Path, **kwargs: Any) -> bytes:
        reads.append(path)
        return reader(path, **kwargs)

    monkeypatch.setattr(walk, "read_user_bytes", counting)
    with pytest.raises(InputError, match="limit of 64 KiB"):
        walk.walk_context([str(tmp_path)], max_total_bytes=64 * 1024)
    assert len(reads) == 7  # 7 x 10,000 bytes is the first total over 64 KiB


def test_a_directory_that_cannot_be_examined_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--context /`` met directories it may not enter ("unexpected failure: PermissionError")."""
    from agent.context.walk import walk_context

    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.md").write_text("# A\n")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "b.md").write_text("# B\n")
    is_file = Path.is_file

    def denied(self: Path) -> bool:
        if self.parent.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return is_file(self)

    monkeypatch.setattr(Path, "is_file", denied)
    walked = walk_context([str(tmp_path)])
    assert [f.path.name for f in walked.files] == ["a.md"]
    assert walked.skipped["unreadable"] == 1


# ---------------------------------------------------------------- paths a spec's front matter records

RECORDED_CONTEXT = (
    "  context:\n    files:\n"
    "    - path: /dev/zero\n      sha256: '0'\n"
    "    - path: ctx.fifo\n      sha256: '0'\n"
    "    - path: ../outside/api.yaml\n      sha256: '0'\n"
)


@pytest.mark.parametrize(
    "command", [["lint"], ["review"], ["status"], ["approve", "--by", "Ana <ana@example.com>"]]
)
def test_recorded_context_special_files_are_not_read(tmp_path: Path, command: list[str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    spec = _spec_with_front_matter(project / "spec.md", RECORDED_CONTEXT)
    os.mkfifo(project / "ctx.fifo")
    done = _specdraft([command[0], "spec.md", *command[1:]], project)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "unexpected" not in done.stderr and "Traceback" not in done.stderr
    assert spec.exists()


def test_recorded_context_outside_the_spec_tree_is_not_read(tmp_path: Path) -> None:
    """lint's context rules use only files inside the spec's folder or work tree."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "api.yaml").write_text(
        "openapi: 3.0.0\npaths:\n  /api/v1/secret-admin:\n    get: {}\n"
    )
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "api.yaml").write_text("openapi: 3.0.0\npaths:\n  /api/v1/orders:\n    get: {}\n")
    extra = RECORDED_CONTEXT + "    - path: api.yaml\n      sha256: '0'\n"
    spec = _spec_with_front_matter(tmp_path / "project" / "spec.md", extra)
    code = (
        "from pathlib import Path; from agent.context.known import known_facts; "
        "from agent.specdoc.document import load_spec; "
        f"spec = Path({str(spec)!r}); facts = known_facts(load_spec(spec).front_matter, spec.parent); "
        "print(sorted(facts.endpoints))"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "/api/v1/orders" in done.stdout and "secret-admin" not in done.stdout


def test_mcp_lint_recorded_context_dev_zero_and_fifo(tmp_path: Path) -> None:
    _spec_with_front_matter(tmp_path / "spec.md", RECORDED_CONTEXT)
    os.mkfifo(tmp_path / "ctx.fifo")
    code = (
        "from pathlib import Path; from agent.integrations.mcp_server import Workspace, _lint; "
        f"print(_lint(Workspace(Path({str(tmp_path)!r})), 'spec.md', None).errors)"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "0"


def test_a_nul_in_the_recorded_brief_is_a_notice_not_a_crash(tmp_path: Path) -> None:
    spec = _spec_with_front_matter(tmp_path / "spec.md", '  brief: "a\\0b.md"\n')
    result = _invoke("lint", spec)
    assert result.exit_code == 0, result.output
    assert "was not read" in result.stderr and "NUL" in result.stderr


# ---------------------------------------------------------------- names with line breaks


def test_file_names_with_a_front_matter_line_round_trip(tmp_path: Path, fault_server: FaultServer) -> None:
    from agent.specdoc.document import load_spec

    odd = "a\n---\nb.md"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / odd).write_text("# Orders\n\nInvitations are stored per workspace.\n")
    brief = tmp_path / "x\n---\ny.md"
    brief.write_text(BRIEF)
    (tmp_path / "small.md").write_text(SMALL_TEMPLATE)
    spec = tmp_path / "spec.md"
    result = _invoke("draft", brief, "-o", spec, "-t", tmp_path / "small.md", "--context", repo,
                     "--base-url", fault_server.base_url, "--model", "fault-model")  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = load_spec(spec).front_matter["specdraft"]
    assert meta["brief"] == brief.name
    assert [f["path"] for f in meta["context"]["files"]] == [f"repo/{odd}"]
    for command in ("lint", "drift"):
        checked = _invoke(command, spec)
        assert checked.exit_code in (0, 1), checked.output  # lint: the small template has no footer
        assert "malformed front matter" not in checked.output


def test_a_brief_with_two_byte_order_marks_keeps_its_front_matter(tmp_path: Path) -> None:
    from agent.drafting.brief import load_brief

    path = tmp_path / "brief.md"
    path.write_bytes(b"\xef\xbb\xbf" * 2 + b"---\ntitle: Invitations\npriority: high\n---\nAdmins invite.\n")
    brief = load_brief(path)
    assert brief.title == "Invitations" and brief.priority.value == "high"


# ---------------------------------------------------------------- batch: its output directory


def _briefs(tmp_path: Path, names: tuple[str, ...] = ("alpha",)) -> Path:
    briefs = tmp_path / "briefs"
    briefs.mkdir()
    for name in names:
        (briefs / f"{name}.md").write_text(f"# {name.title()}\n\nUsers need {name} exports of invoices.\n")
    return briefs


@pytest.mark.parametrize("name", ["report.json", "report.jsonl"])
def test_batch_refuses_a_fifo_report_without_blocking(
    tmp_path: Path, fault_server: FaultServer, name: str
) -> None:
    briefs = _briefs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / name)
    args = ["batch", str(briefs), "-o", str(out), "--base-url", fault_server.base_url,
            "--model", "fault-model", "--template", "adr"]  # fmt: skip
    done = _specdraft(args, tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"'{out / name}' is a special file" in done.stderr and "Traceback" not in done.stderr
    assert fault_server.chat_requests() == [], "refused before any model work"


def test_batch_a_fifo_in_a_specs_place_costs_no_model_call(tmp_path: Path, fault_server: FaultServer) -> None:
    briefs = _briefs(tmp_path, ("alpha", "beta"))
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "alpha.md")
    result = _invoke("batch", briefs, "-o", out, "--base-url", fault_server.base_url,
                     "--model", "fault-model", "--template", "adr")  # fmt: skip
    assert result.exit_code == 3, result.output
    sent = json.dumps([r.body for r in fault_server.chat_requests()])
    assert "beta exports" in sent and "alpha exports" not in sent


def test_a_second_batch_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    from agent.io.dirlock import directory_lock

    with directory_lock(tmp_path, what="specdraft batch"):
        code = (
            "from pathlib import Path; from agent.io.dirlock import directory_lock; "
            f"ctx = directory_lock(Path({str(tmp_path)!r}), what='specdraft batch'); ctx.__enter__()"
        )
        done = _python(code, tmp_path)
        assert done.returncode == 1 and "Another specdraft batch is writing to" in done.stderr
    assert _python(code, tmp_path).returncode == 0, "released when the first one ends"
    assert list(tmp_path.iterdir()) == [], "no lock file is left behind"


# ---------------------------------------------------------------- a cloned repository's specdraft.toml

KEY = "sk-test-QUOKKA0123456789abcdef"


@pytest.fixture
def cloned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository someone else wrote, checked out; the user's home holds an SSH key."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nQUOKKA-SSH\n")
    monkeypatch.setenv("HOME", str(home))
    repo = tmp_path / "cloned"
    (repo / ".git").mkdir(parents=True)
    (repo / "brief.md").write_text(BRIEF)
    (repo / "small.md").write_text(SMALL_TEMPLATE)
    monkeypatch.chdir(repo)
    return repo


def _draft_here(*extra: str, env: dict[str, str] | None = None) -> Any:
    return _invoke("draft", "brief.md", "-o", "spec.md", "--force", "--model", "fault-model", *extra,
                   env={"OPENAI_API_KEY": KEY, **(env or {})})  # fmt: skip


def test_project_file_context_outside_the_project_is_refused(cloned: Path, fault_server: FaultServer) -> None:
    (cloned / "specdraft.toml").write_text(
        f'base_url = "{fault_server.base_url}"\ntemplate = "small.md"\n'
        'context = ["~/.ssh/id_ed25519", "/etc/passwd"]\n'
    )
    result = _draft_here()
    assert result.exit_code == 2, result.output
    assert f"{cloned / 'specdraft.toml'}:3: The context path" in result.stderr
    assert "outside the project" in result.stderr and "--context" in result.stderr
    assert fault_server.received == [] and not (cloned / "spec.md").exists()
    for setting in ('template = "../elsewhere.md"', 'output_dir = "/tmp"'):
        (cloned / "specdraft.toml").write_text(setting + "\n")
        refused = _invoke("config", "show")
        assert refused.exit_code == 2 and "outside the project" in refused.stderr, refused.output


def _authorizations(server: FaultServer) -> list[str]:
    return [r.headers.get("authorization", "") for r in server.chat_requests()]


def test_the_key_goes_to_a_project_files_server_only_once_trusted(
    cloned: Path, fault_server: FaultServer
) -> None:
    project_file = cloned / "specdraft.toml"
    project_file.write_text(f'base_url = "{fault_server.base_url}"\ntemplate = "small.md"\n')
    result = _draft_here()
    assert result.exit_code == 0, result.output
    assert "No API key sent" in result.stderr and "specdraft config trust" in result.stderr
    sent = _authorizations(fault_server)
    assert sent and not any(KEY in header for header in sent)
    shown = _invoke("config", "show")
    assert "not trusted" in shown.stdout

    trusted = _invoke("config", "trust")
    assert trusted.exit_code == 0 and str(project_file) in trusted.stdout, trusted.output
    fault_server.received.clear()
    assert _draft_here().exit_code == 0
    assert all(header == f"Bearer {KEY}" for header in _authorizations(fault_server))

    project_file.write_text(project_file.read_text() + "# changed\n")  # a changed file: trusted no more
    fault_server.received.clear()
    result = _draft_here()
    assert result.exit_code == 0 and "No API key sent" in result.stderr
    assert not any(KEY in header for header in _authorizations(fault_server))

    # a server the user names with a flag or a variable is the user's own choice: it gets the key
    for extra, env in (
        (["--base-url", fault_server.base_url], {}),
        ([], {"SPECDRAFT_BASE_URL": fault_server.base_url}),
    ):
        fault_server.received.clear()
        result = _draft_here(*extra, env=env)
        assert result.exit_code == 0 and "No API key sent" not in result.stderr, result.output
        assert all(header == f"Bearer {KEY}" for header in _authorizations(fault_server))


def test_openai_with_an_untrusted_project_server_is_refused(cloned: Path, fault_server: FaultServer) -> None:
    (cloned / "specdraft.toml").write_text(
        f'provider = "openai"\nbase_url = "{fault_server.base_url}"\ntemplate = "small.md"\n'
    )
    result = _draft_here()
    assert result.exit_code == 2, result.output
    assert "Not sending OPENAI_API_KEY" in result.stderr and "specdraft config trust" in result.stderr
    assert fault_server.received == []


def test_doctor_does_not_send_the_key_to_an_untrusted_project_server(
    cloned: Path, fault_server: FaultServer
) -> None:
    (cloned / "specdraft.toml").write_text(f'base_url = "{fault_server.base_url}"\n')
    _invoke("doctor", env={"OPENAI_API_KEY": KEY})
    probes = [r for r in fault_server.received if r.path.endswith("/models")]
    assert probes and not any(KEY in r.headers.get("authorization", "") for r in probes)


# ---------------------------------------------------------------- files read beside the ones named


def _sparse(path: Path, size: int = 3_000_000_000) -> Path:
    """A file of ``size`` bytes that costs no disk (a read of it whole costs ``size`` of memory)."""
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def test_a_huge_project_file_is_refused_not_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "specdraft.toml").symlink_to(_sparse(tmp_path / "huge.bin"))
    done = _specdraft(["config", "show"], tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "is larger than 1,000,000 bytes" in done.stderr


def test_a_huge_gitignore_costs_its_first_megabyte(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n")
    (tmp_path / "docs" / ".gitignore").symlink_to(_sparse(tmp_path / "huge.bin"))
    code = (
        "from agent.context.walk import walk_context; "
        f"print([f.path.name for f in walk_context([{str(tmp_path / 'docs')!r}]).files])"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "['a.md']"


def test_a_fifo_in_the_history_journals_place_is_moved_aside(tmp_path: Path) -> None:
    spec = tmp_path / "spec.md"
    spec.write_text(CLEAN)
    code = (
        "from pathlib import Path; import os; from agent.io.journal import Journal, journal_path; "
        f"spec = Path({str(spec)!r}); os.mkfifo(journal_path(spec)); journal = Journal(spec); "
        "history = journal.load(); print(journal.warning is not None, journal_path(spec).exists())"
    )
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True False"


def test_eval_draft_checks_its_outputs_before_any_model_call(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    (tmp_path / "brief.md").write_text(BRIEF)
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "brief.md")
    args = ["eval", "--draft", "brief.md", "--output-dir", "out", "--template", "adr",
            "--base-url", fault_server.base_url, "--model", "fault-model"]  # fmt: skip
    done = _specdraft(args, tmp_path)
    assert done.returncode == 2 and "special file" in done.stderr, done.stderr
    assert fault_server.chat_requests() == []
    # an output directory holding the brief: the spec would replace the brief it is drafted from
    done = _specdraft([*args[:3], "--output-dir", ".", *args[5:]], tmp_path)
    assert done.returncode == 2 and "is the input" in done.stderr, done.stderr
    assert (tmp_path / "brief.md").read_text() == BRIEF and fault_server.chat_requests() == []
