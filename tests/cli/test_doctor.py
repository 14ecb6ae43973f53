"""`specdraft doctor`: exit 0 when a draft can run, 1 with what to do otherwise; never shows a key."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from helpers.fault_server import MODEL_ID, FaultServer
from typer.testing import CliRunner

from agent.cli.main import app

SECRET = "sk-doctor-TOPSECRET-0123456789abcdef"


@pytest.fixture(autouse=True)
def _repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _doctor(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["doctor", *args], env={"COLUMNS": "200", "OPENAI_API_KEY": "", **env})
    return result.exit_code, result.stdout + result.stderr


def _json(env: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, dict[str, Any]]]:
    code, out = _doctor(env, "--json")
    report = json.loads(out)
    return code, report, {c["name"]: c for c in report["checks"]}


def test_live_compatible_server_is_ready(fault_server: FaultServer) -> None:
    env = {"SPECDRAFT_PROVIDER": "compatible", "SPECDRAFT_BASE_URL": fault_server.base_url}
    code, report, checks = _json(env)
    assert code == 0, checks
    assert report["ready"] is True
    assert checks["provider"]["status"] == "ok"
    assert "1 model(s) listed" in checks["provider"]["detail"]
    assert report["model"] == MODEL_ID  # what a draft would use: the first model the server lists
    assert checks["model"]["detail"] == f"{MODEL_ID}: the first model the server lists"
    assert [r.path for r in fault_server.received] == ["/v1/models"]
    assert fault_server.chat_requests() == []


def test_dead_server_fails_with_what_to_do() -> None:
    dead = f"http://127.0.0.1:{_closed_port()}/v1"
    code, output = _doctor({"SPECDRAFT_BASE_URL": dead})
    assert code == 1
    assert f"cannot reach {dead}" in output
    assert "Is the server running?" in output
    assert "Not ready" in output


def test_model_not_served_is_a_warning_not_a_failure(fault_server: FaultServer) -> None:
    env = {"SPECDRAFT_BASE_URL": fault_server.base_url, "SPECDRAFT_MODEL": "gpt-nope"}
    code, _, checks = _json(env)
    assert code == 0
    assert checks["provider"]["status"] == "warn"
    assert "'gpt-nope' is not among them (fault-model)" in checks["provider"]["detail"]


def test_key_presence_is_reported_never_its_value(fault_server: FaultServer) -> None:
    env = {"SPECDRAFT_BASE_URL": fault_server.base_url, "OPENAI_API_KEY": SECRET}
    for args in (["--json"], []):
        code, output = _doctor(env, *args)
        assert code == 0
        assert "OPENAI_API_KEY is set" in output
        assert SECRET not in output and "sk-doctor" not in output and SECRET[-8:] not in output
    # the key did go to the server, as a draft would send it
    assert fault_server.received[0].headers.get("authorization") == f"Bearer {SECRET}"


def test_openai_without_a_key_fails(fault_server: FaultServer) -> None:
    env = {"SPECDRAFT_PROVIDER": "openai", "SPECDRAFT_BASE_URL": fault_server.base_url}
    code, report, checks = _json(env)
    assert code == 1
    assert checks["api key"]["status"] == "fail"
    assert checks["api key"]["detail"] == "OPENAI_API_KEY is not set"
    assert "export OPENAI_API_KEY" in checks["api key"]["fix"]
    assert report["model"] == "gpt-4o-mini"


def test_local_provider_does_not_start_the_server() -> None:
    code, report, checks = _json({})
    assert checks["provider"]["status"] == "info"
    assert "starts on demand" in checks["provider"]["detail"]
    assert report["provider"] == "local"
    assert set(report["versions"]) >= {
        "specdraft",
        "openai",
        "langchain-core",
        "pydantic",
        "typer",
        "xllamacpp",
    }
    assert any(m["bundled"] for m in report["models"])
    assert code == (0 if report["ready"] else 1)
    assert report["model"] and report["model_reason"]


def test_a_bad_configuration_is_a_failure_naming_the_file(_repo: Path) -> None:
    (_repo / "specdraft.toml").write_text("temperature = 9\n")
    code, output = _doctor({})
    assert code == 1
    assert f"{_repo}/specdraft.toml:1" in output


def test_a_missing_model_path_fails(_repo: Path) -> None:
    (_repo / "specdraft.toml").write_text('model_path = "models/none.gguf"\n')
    code, _, checks = _json({})
    assert code == 1
    assert checks["model"]["status"] == "fail"
    assert str(_repo / "models" / "none.gguf") in checks["model"]["detail"]


def test_missing_context_paths_are_a_warning(_repo: Path, fault_server: FaultServer) -> None:
    (_repo / "docs").mkdir()
    (_repo / "specdraft.toml").write_text(
        f'base_url = "{fault_server.base_url}"\ncontext = ["docs", "api/openapi.yaml"]\n'
    )
    code, _, checks = _json({})
    assert code == 0
    assert checks["context"]["status"] == "warn"
    assert "1 of 2 context paths do not exist" in checks["context"]["detail"]
    assert f"{_repo}/specdraft.toml:2" in checks["context"]["fix"]


@pytest.mark.live
def test_probe_starts_and_stops_the_embedded_server() -> None:
    code, out = _doctor({}, "--json", "--probe")
    report = json.loads(out)
    checks = {c["name"]: c for c in report["checks"]}
    assert code == 0, checks
    assert checks["provider"]["status"] == "ok"
    assert "local (probe)" in checks["provider"]["detail"]
    assert "started and stopped" in checks["provider"]["detail"]
