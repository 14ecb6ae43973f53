"""API keys come only from the environment and never appear in any output, file, log or cassette."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.app import app as root_app
from agent.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
FAKE_KEY = "sk-specdraft-FAKE-KEY-7f3a9c1e5b2d4e6f8a0b"
# the tail alone is recognisable too: a key printed shortened or wrapped still counts as a leak
NEEDLES = [FAKE_KEY, FAKE_KEY[-16:]]
TEMPLATE = "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"
BRIEF = "# Invoice export\n\nUsers export their invoices as CSV files from the billing page.\n"


def _leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in text]


def _all_files(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "briefs").mkdir()
    (tmp_path / "briefs" / "export.md").write_text(BRIEF)
    (tmp_path / "briefs" / "import.md").write_text(BRIEF.replace("export", "import"))
    (tmp_path / "small.md").write_text(TEMPLATE)
    return tmp_path


def _run(
    args: list[str], cwd: Path, server: FaultServer, key: str = FAKE_KEY
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": key, "COLUMNS": "120", "HOME": str(cwd), "PYTHONPATH": str(ROOT)}
    env.pop("SPECDRAFT_DEBUG", None)
    # this checkout's code (`python -m agent`), whichever specdraft is installed
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _common(server: FaultServer, workdir: Path) -> list[str]:
    return ["--template", str(workdir / "small.md"), "--base-url", server.base_url, "--model", "fault-model",
            "--timeout", "2", "--max-retries", "1"]  # fmt: skip


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("fault", ["valid", "500", "invalid"])
def test_fake_key_never_in_draft_output_or_files(
    fault_server: FaultServer, workdir: Path, debug: bool, fault: str
) -> None:
    fault_server.retry_after = 0.1
    fault_server.plan(default=fault)
    flags = ["--debug"] if debug else []
    out = workdir / "spec.md"
    args = [*flags, "draft", "briefs/export.md", "-o", str(out), "--json", *_common(fault_server, workdir)]
    result = _run(args, workdir, fault_server)
    # a section that never validates is marked (exit 3, spec written); a server gone fails (exit 1)
    assert result.returncode == {"valid": 0, "500": 1, "invalid": 3}[fault], result.stderr
    if debug and fault == "500":
        assert "Traceback" in result.stderr, "--debug shows the traceback, so the check below means something"
    assert not _leaks(result.stdout) and not _leaks(result.stderr)
    for path, data in _all_files(workdir).items():
        assert not _leaks(data.decode("utf-8", "replace")), path
    # the key was really in use: it went to the server in the Authorization header, and only there
    chat = fault_server.chat_requests()
    assert chat and chat[0].headers.get("authorization") == f"Bearer {FAKE_KEY}"
    assert all(not _leaks(str(r.body)) for r in chat)


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_fake_key_never_in_batch_output_or_files(
    fault_server: FaultServer, workdir: Path, debug: bool
) -> None:
    fault_server.plan("invalid", "invalid")  # one brief fails, the other is drafted
    flags = ["--debug"] if debug else []
    result = _run([*flags, "batch", "briefs", "-o", "specs", "--jobs", "1", "--parallel", "1",
                   *_common(fault_server, workdir)], workdir, fault_server)  # fmt: skip
    assert result.returncode in (0, 3), result.stderr
    written = _all_files(workdir / "specs")
    assert written, "batch wrote specs and its report"
    assert not _leaks(result.stdout) and not _leaks(result.stderr)
    for path, data in _all_files(workdir).items():
        assert not _leaks(data.decode("utf-8", "replace")), path
    assert fault_server.chat_requests()[0].headers.get("authorization") == f"Bearer {FAKE_KEY}"


# a gateway key with no recognisable shape: only the configured value can find it
GATEWAY_KEY = "gw-7f3a9c1e5b2d4e6f8a0b1c2d"


@pytest.mark.parametrize("key", [FAKE_KEY, GATEWAY_KEY], ids=["sk-key", "gateway-key"])
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("status", [403, 400, 422])
def test_a_server_error_repeating_the_key_is_redacted(
    fault_server: FaultServer, workdir: Path, debug: bool, status: int, key: str
) -> None:
    """Some gateways put the Authorization header into their error message: it is never shown or stored."""
    fault_server.echo_status = status
    fault_server.plan(default="echo_auth")
    flags = ["--debug"] if debug else []
    result = _run([*flags, "draft", "briefs/export.md", "-o", "spec.md", *_common(fault_server, workdir)],
                  workdir, fault_server, key)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert f"HTTP {status}" in result.stderr and "[REDACTED]" in result.stderr, result.stderr
    result_batch = _run([*flags, "batch", "briefs", "-o", "specs", "--jobs", "1",
                         *_common(fault_server, workdir)], workdir, fault_server, key)  # fmt: skip
    assert result_batch.returncode == 1, result_batch.stderr
    report = (workdir / "specs" / "report.json").read_text()
    assert "[REDACTED]" in report
    for text in (result.stdout, result.stderr, result_batch.stdout, result_batch.stderr, report):
        assert key not in text and key[-12:] not in text
    for path, data in _all_files(workdir).items():
        assert key not in data.decode("utf-8", "replace"), path
    assert fault_server.chat_requests()[0].headers.get("authorization") == f"Bearer {key}"


def test_redact_finds_configured_values_and_token_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.io.redact import redact

    monkeypatch.setenv("MY_GATEWAY_TOKEN", GATEWAY_KEY)
    text = (
        f"key {GATEWAY_KEY}; Bearer abc.def-123456; sk-proj-{'a' * 30}; AKIAIOSFODNN7EXAMPLE; ghp_" + "b" * 36
    )
    cleaned = redact(text)
    assert cleaned.count("[REDACTED]") == 5, cleaned
    assert redact("a plain sentence about keys and tokens") == "a plain sentence about keys and tokens"


def test_key_is_read_only_from_the_environment(
    fault_server: FaultServer, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No option takes a key, and a key in the brief's folder or config is not picked up."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    (workdir / ".env").write_text(f"OPENAI_API_KEY={FAKE_KEY}\n")
    monkeypatch.chdir(workdir)
    result = CliRunner().invoke(app, ["draft", "--help"], env={"COLUMNS": "200"})
    assert "api-key" not in result.stdout and "--key" not in result.stdout
    result = CliRunner().invoke(
        app, ["draft", "briefs/export.md", "--provider", "openai", "--model", "x"], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 2
    assert "OPENAI_API_KEY is not set" in result.stderr


def test_unexpected_failure_shows_no_locals(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer
) -> None:
    """An unexpected exception: a message without the key; with --debug a plain traceback, never locals."""
    assert root_app.pretty_exceptions_enable is False
    assert not getattr(root_app, "pretty_exceptions_show_locals", False)

    import agent.drafting.service

    def boom(endpoint, *args, **kwargs):  # type: ignore[no-untyped-def]
        api_key = endpoint.api_key.get_secret_value()  # a local holding the key, as in a real failure
        raise RuntimeError(f"something broke after {len(api_key)} characters")

    monkeypatch.setattr(agent.drafting.service, "draft_with_endpoint", boom)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.delenv("SPECDRAFT_DEBUG", raising=False)
    args = ["draft", str(workdir / "briefs" / "export.md"), *_common(fault_server, workdir)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code == 1
    assert "unexpected failure: RuntimeError" in result.stderr and "--debug" in result.stderr
    assert not _leaks(result.stdout + result.stderr)

    env = {**os.environ, "OPENAI_API_KEY": FAKE_KEY, "COLUMNS": "120"}
    code = (
        "import sys, agent.drafting.service, agent.cli.main\n"
        "def boom(endpoint, *a, **k):\n"
        "    api_key = endpoint.api_key.get_secret_value()\n"
        "    raise RuntimeError('boom')\n"
        "agent.drafting.service.draft_with_endpoint = boom\n"
        "sys.argv = ['specdraft', '--debug'] + sys.argv[1:]\n"
        "agent.cli.main.main()\n"
    )
    script = workdir / "crash.py"
    script.write_text(code)
    proc = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "RuntimeError: boom" in proc.stderr
    assert "in boom" in proc.stderr  # the frame holding the key in a local is shown ...
    assert not _leaks(proc.stderr + proc.stdout)  # ... but not the value of any local


def test_no_cassette_holds_a_credential() -> None:
    cassettes = list((ROOT / "cassettes").rglob("*.yaml"))
    assert cassettes, "cassettes exist to check"
    for path in cassettes:
        text = path.read_text(encoding="utf-8")
        assert "sk-" not in text, f"{path} holds something that looks like an OpenAI key"
        assert "Bearer" not in text, f"{path} holds an Authorization header"


def test_endpoint_repr_hides_the_key() -> None:
    from pydantic import SecretStr

    from agent.llm.providers import Endpoint, Provider

    endpoint = Endpoint(Provider.openai, "https://api.openai.com/v1", "gpt", SecretStr(FAKE_KEY))
    assert not _leaks(repr(endpoint)) and not _leaks(str(endpoint))
