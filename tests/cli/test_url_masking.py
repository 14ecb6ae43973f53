"""A server URL with credentials in it never reaches the terminal, a report, a spec or an MCP answer.

Every way a URL is shown goes through the one masker (``agent.io.redact.display_url``): each error path
below is fed ``http://alice:<password>@127.0.0.1:PORT/v1?api_key=<token>`` and neither the password nor
the query token may appear in stdout, stderr or any file the command leaves. Where a server is needed it
is the scripted fault server (tests/helpers); connection refused is a closed local port.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from helpers.fault_server import FaultServer
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import TextContent
from typer.testing import CliRunner

from agent.cli.main import app
from agent.io.redact import display_url, redact

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "hunter2pass-5b1d"
TOKEN = "qtok-7f3a9c1e5b2d"
SECRETS = (PASSWORD, TOKEN)
MASKED = "alice:***@127.0.0.1"
TEMPLATE = "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"
BRIEF = "# Invoice export\n\nUsers export their invoices as CSV files from the billing page.\n"
SPEC = (ROOT / "tests" / "data" / "specs" / "clean.md").read_text(encoding="utf-8")


def secret_url(port: int, scheme: str = "http") -> str:
    return f"{scheme}://alice:{PASSWORD}@127.0.0.1:{port}/v1?api_key={TOKEN}"


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "briefs").mkdir()
    (tmp_path / "briefs" / "export.md").write_text(BRIEF, encoding="utf-8")
    (tmp_path / "briefs" / "import.md").write_text(BRIEF.replace("export", "import"), encoding="utf-8")
    (tmp_path / "small.md").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "spec.md").write_text(SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run specdraft in-process; the exit code and everything it printed (stdout and stderr)."""
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200", "NO_COLOR": "1", **(env or {})})
    return result.exit_code, result.stdout + result.stderr


def assert_masked(shown: str, workdir: Path, *, url_shown: bool = True) -> None:
    """Neither secret in the output nor in any file left behind; the URL itself was shown, masked."""
    for secret in SECRETS:
        assert secret not in shown, shown
        for path in workdir.rglob("*"):
            if path.is_file():
                assert secret not in path.read_text(encoding="utf-8", errors="replace"), path
    if url_shown:
        assert MASKED in shown, shown


def draft_args(url: str, *extra: str) -> list[str]:
    return ["draft", "briefs/export.md", "-o", "out.md", "--template", "small.md", "--base-url", url,
            "--timeout", "2", "--max-retries", "0", *extra]  # fmt: skip


# -- the model server's failures -------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("listing", [False, True], ids=["model-given", "model-listed"])
def test_connection_refused(workdir: Path, as_json: bool, listing: bool) -> None:
    model = [] if listing else ["--model", "m"]
    code, shown = invoke(draft_args(secret_url(closed_port()), *model, *(["--json"] if as_json else [])))
    assert code == 1, shown
    assert "Cannot reach the model server" in shown
    # the listing asks urllib, which takes user:password@ for part of the host name: it fails before
    # connecting, and says so without the URL's secrets
    assert_masked(shown, workdir, url_shown=not listing)


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        ("slow", 3, "timed out"),
        ("500", 1, "answered HTTP 500"),
        ("echo_auth", 2, "rejected the API key (HTTP 401)"),
        ("truncated", 3, "NEEDS ATTENTION"),
        ("empty_choices", 3, "NEEDS ATTENTION"),
    ],
)
def test_model_server_faults(
    workdir: Path, fault_server: FaultServer, fault: str, code: int, words: str
) -> None:
    fault_server.plan(default=fault)
    fault_server.echo_status, fault_server.retry_after, fault_server.slow_seconds = 401, 0.05, 4.0
    url = secret_url(fault_server.port)
    got, shown = invoke([*draft_args(url, "--model", "fault-model"), "--timeout", "1"])
    spec = (workdir / "out.md").read_text(encoding="utf-8") if (workdir / "out.md").exists() else ""
    assert got == code, shown
    assert words in shown + spec
    # the request reached the server (on a path the SDK builds by appending to the query string)
    assert any(r.method == "POST" for r in fault_server.received)
    assert_masked(shown, workdir, url_shown=fault in ("500", "echo_auth"))


@pytest.mark.parametrize("command", ["draft", "doctor"])
def test_a_gateway_url_without_a_port(workdir: Path, command: str) -> None:
    """urllib, asked for the server's models, reads ``alice:PASSWORD@gw.example`` as a host and a port
    named PASSWORD@gw.example; its error quoted it (an "unexpected failure" naming the password)."""
    url = f"https://alice:{PASSWORD}@gw.example/v1?api_key={TOKEN}"
    args = ["draft", "briefs/export.md", "-o", "out.md"] if command == "draft" else ["doctor"]
    code, shown = invoke(args, env={"SPECDRAFT_BASE_URL": url})
    assert code == 1 and "unexpected failure" not in shown, shown
    assert "cannot be opened to list the models" in shown
    for secret in SECRETS:
        assert secret not in shown
    assert "https://alice:***@gw.example/v1?api_key=***" in shown


def test_refine_connection_refused(workdir: Path) -> None:
    url = secret_url(closed_port())
    code, shown = invoke(["refine", "spec.md", "-m", "use Okta", "--base-url", url, "--model", "m",
                          "--timeout", "2"])  # fmt: skip
    assert code == 1, shown
    assert_masked(shown, workdir)


# -- settings: validation, config show, doctor ------------------------------------------------------


def test_a_bad_url_is_refused_without_its_secrets(workdir: Path) -> None:
    ftp = secret_url(closed_port(), scheme="ftp")
    code, shown = invoke(["draft", "briefs/export.md", "--base-url", ftp, "--model", "m"])
    assert code == 2 and "http(s) URL" in shown, shown
    assert_masked(shown, workdir, url_shown=False)
    code, shown = invoke(["draft", "briefs/export.md", "--model", "m"], env={"SPECDRAFT_BASE_URL": ftp})
    assert code == 2 and "SPECDRAFT_BASE_URL" in shown, shown
    assert_masked(shown, workdir, url_shown=False)
    (workdir / "specdraft.toml").write_text(f'base_url = "{ftp}"\n', encoding="utf-8")
    code, shown = invoke(["config", "show"])
    assert code == 2 and "specdraft.toml" in shown, shown
    (workdir / "specdraft.toml").unlink()
    assert_masked(shown, workdir, url_shown=False)
    url = secret_url(closed_port())
    code, shown = invoke(["draft", "briefs/export.md", "--base-url", url, "--base-url", url])
    assert code == 2 and "listed twice" in shown, shown
    assert_masked(shown, workdir)


def test_config_show_and_doctor(workdir: Path) -> None:
    env = {"SPECDRAFT_BASE_URL": secret_url(closed_port())}
    for args in (["config", "show"], ["config", "show", "--json"], ["doctor"], ["doctor", "--json"]):
        _code, shown = invoke(args, env)
        assert_masked(shown, workdir)


# -- batch: the report and the server list ----------------------------------------------------------


def test_batch_report(workdir: Path, fault_server: FaultServer) -> None:
    fault_server.retry_after = 0.05
    fault_server.plan("500", "500", "500", "500")  # the first brief fails, the second is drafted
    url = secret_url(fault_server.port)
    code, shown = invoke(["batch", "briefs", "-o", "specs", "--template", "small.md", "--base-url", url,
                          "--model", "fault-model", "--jobs", "1", "--parallel", "1", "--timeout", "5",
                          "--max-retries", "0"])  # fmt: skip
    assert code == 3, shown  # one brief failed, the other was drafted
    report = json.loads((workdir / "specs" / "report.json").read_text(encoding="utf-8"))
    assert any(MASKED in str(entry.get("error")) for entry in report["briefs"]), report
    assert_masked(shown, workdir, url_shown=False)


def test_batch_with_replicas_lists_the_servers_masked(workdir: Path, fault_server: FaultServer) -> None:
    down, up = secret_url(closed_port()), secret_url(fault_server.port)
    code, shown = invoke(["batch", "briefs", "-o", "specs", "--template", "small.md", "--base-url", down,
                          "--base-url", up, "--model", "fault-model", "--jobs", "1", "--parallel", "1",
                          "--timeout", "10"])  # fmt: skip
    assert code == 0, shown
    assert "Servers:" in shown
    assert_masked(shown, workdir)


# -- MCP and the GitHub exporter --------------------------------------------------------------------


def test_mcp_tool_error(workdir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": ""}
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "agent", "mcp"], env=env, cwd=str(workdir)
    )
    texts: list[str] = []

    async def main() -> None:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            url = secret_url(closed_port())
            model: dict[str, Any] = {"provider": "compatible", "base_url": url, "timeout": 5}
            for tool, args in (
                ("draft_spec", {"brief_path": "briefs/export.md", "output": "new.md", "model": "m", **model}),
                ("refine_spec", {"path": "spec.md", "instruction": "use Okta", **model}),  # lists models
            ):
                result = await session.call_tool(tool, args)
                assert result.isError
                texts.append("".join(c.text for c in result.content if isinstance(c, TextContent)))

    anyio.run(main)
    assert "Cannot reach the model server" in texts[0] and "Cannot reach the model server" in texts[1]
    assert_masked(texts[0], workdir)
    assert_masked(texts[1], workdir, url_shown=False)


def test_github_export(workdir: Path) -> None:
    env = {"GITHUB_TOKEN": "ghp_testtoken_0123456789abcdef", "GH_TOKEN": "",
           "GITHUB_API_URL": secret_url(closed_port()).replace("/v1", "")}  # fmt: skip
    code, shown = invoke(["export", "spec.md", "--to", "github", "--repo", "acme/widgets"], env)
    assert code != 0 and "Cannot reach the GitHub API" in shown, shown
    assert_masked(shown, workdir)


# -- the masker itself ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@h.test/v1", "https://u:***@h.test/v1"),
        ("https://tok@h.test/v1", "https://***@h.test/v1"),
        ("https://h.test/v1?api_key=abc&api-version=2024", "https://h.test/v1?api_key=***&api-version=***"),
        ("https://h.test/v1?abc", "https://h.test/v1?***"),
        ("https://h.test/v1#frag", "https://h.test/v1#***"),
        ("https://h.test/v1", "https://h.test/v1"),
        ("not a url", "not a url"),
        ("http://[::1/v1?k=v", "http://[::1/v1?***"),  # urlsplit refuses it: masked all the same
        ("http://a:b@[::1/v1", "http://a:***@[::1/v1"),
    ],
)
def test_display_url(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_redact_masks_urls_in_any_text() -> None:
    text = f"failed: GET {secret_url(8000)}/models ('{secret_url(9000)}'), see http://h.test/ok."
    masked = redact(text)
    assert PASSWORD not in masked and TOKEN not in masked
    assert "GET http://alice:***@127.0.0.1:8000/v1?api_key=*** (" in masked  # the value ran to "/models"
    assert "see http://h.test/ok." in masked
