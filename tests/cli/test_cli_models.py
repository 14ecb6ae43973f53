"""`specdraft models` through typer's CliRunner, against the local Hub server."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from helpers.hub_server import HubServer, make_gguf
from typer.testing import CliRunner

import agent.cli.models
from agent.cli.app import app
from agent.models import select as model_select
from agent.models.bundled import bundled_model_path
from agent.models.select import GIB

Q05 = ("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf")
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(model_select, "memory_available", lambda: 20 * GIB)
    monkeypatch.setattr(model_select, "memory_total", lambda: 24 * GIB)
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


def test_models_lists_the_catalogue(hub: HubServer, run: CliRunner) -> None:
    code, out, _ = invoke(run, "models")
    assert code == 0, out
    for name in (
        "smollm2-135m-instruct",
        "qwen2.5-0.5b-instruct",
        "qwen2.5-7b-instruct",
        "llama-3.2-3b-instruct",
    ):
        assert name in out
    assert "~1.12 GB" in out and "98 MB" in out and "bundled" in out
    assert "Recommended for this machine (24 GiB" in out and "specdraft models pull qwen2.5-" in out
    smollm_row = next(line for line in out.splitlines() if "smollm2-135m-instruct" in line)
    assert "*" in smollm_row  # the default while nothing is pulled
    assert invoke(run, "models", "list")[1] == out


def test_list_json_shows_pulled_models_and_default(hub: HubServer, run: CliRunner, tmp_path: Path) -> None:
    hub.add(*Q05, make_gguf(payload_bytes=5000))
    hub.add("me/extra-GGUF", "extra.gguf", make_gguf(payload_bytes=100))
    assert invoke(run, "models", "pull", "qwen2.5-0.5b-instruct")[0] == 0
    assert invoke(run, "models", "pull", "hf://me/extra-GGUF/extra.gguf")[0] == 0

    code, out, _ = invoke(run, "models", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["default"] == "qwen2.5-0.5b-instruct"
    assert data["models_dir"] == str(tmp_path / "models")
    rows = {row["name"]: row for row in data["models"]}
    assert rows["qwen2.5-0.5b-instruct"]["installed"] and rows["qwen2.5-0.5b-instruct"]["default"]
    assert rows["qwen2.5-0.5b-instruct"]["size_bytes"] == len(make_gguf(payload_bytes=5000))
    assert not rows["qwen2.5-3b-instruct"]["installed"] and rows["qwen2.5-3b-instruct"]["path"] is None
    assert rows["hf://me/extra-GGUF/extra.gguf"]["installed"]
    assert rows["smollm2-135m-instruct"]["path"] == str(bundled_model_path())


def test_pull_path_rm(hub: HubServer, run: CliRunner, tmp_path: Path) -> None:
    hub.add(*Q05, make_gguf(payload_bytes=5000))
    code, out, err = invoke(run, "models", "pull", "qwen2.5-0.5b-instruct")
    assert code == 0, err
    assert "Pulled qwen2.5-0.5b-instruct" in out and "sha256 (Hub ETag)" in out
    assert "specdraft draft brief.md --model qwen2.5-0.5b-instruct" in out

    code, out, _ = invoke(run, "models", "path", "qwen2.5-0.5b-instruct")
    path = Path(out.strip())
    assert code == 0 and path.is_file() and path.is_relative_to(tmp_path / "models")
    assert invoke(run, "models", "path")[1].strip() == str(tmp_path / "models")

    code, out, _ = invoke(run, "models", "pull", "qwen2.5-0.5b-instruct")
    assert code == 0 and "already downloaded" in out

    code, out, _ = invoke(run, "models", "rm", "qwen2.5-0.5b-instruct")
    assert code == 0 and "Removed qwen2.5-0.5b-instruct" in out and not path.exists()

    code, _, err = invoke(run, "models", "path", "qwen2.5-0.5b-instruct")
    assert code == 2 and "not downloaded" in err and "specdraft models pull qwen2.5-0.5b-instruct" in err
    code, _, err = invoke(run, "models", "rm", "qwen2.5-0.5b-instruct")
    assert code == 0 and "nothing to remove" in err


def test_pull_json(hub: HubServer, run: CliRunner) -> None:
    data = make_gguf(payload_bytes=5000)
    hub.add(*Q05, data)
    code, out, _ = invoke(run, "models", "pull", "qwen2.5-0.5b-instruct", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["downloaded"] and result["size_bytes"] == len(data) and Path(result["path"]).is_file()


def test_bundled_model_needs_no_pull_and_cannot_be_removed(hub: HubServer, run: CliRunner) -> None:
    code, out, _ = invoke(run, "models", "pull", "smollm2-135m-instruct")
    assert code == 0 and "bundled with specdraft" in out
    assert invoke(run, "models", "path", "smollm2-135m-instruct")[1].strip() == str(bundled_model_path())
    code, _, err = invoke(run, "models", "rm", "smollm2-135m-instruct")
    assert code == 2 and "cannot be removed" in err


def test_errors_are_one_message_and_an_exit_code(
    hub: HubServer, run: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = invoke(run, "models", "pull", "qwen-1.5b")
    assert code == 2 and err.startswith("Error: Unknown model 'qwen-1.5b'. Did you mean:")
    assert "qwen2.5-1.5b-instruct" in err and "Traceback" not in err

    hub.add(*Q05, b"not a model at all" * 10)
    code, _, err = invoke(run, "models", "pull", "qwen2.5-0.5b-instruct")
    assert code == 1 and "not a GGUF model file" in err

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    code, _, err = invoke(run, "models", "pull", "qwen2.5-3b-instruct")
    assert code == 1 and "Cannot reach the Hugging Face Hub" in err and "bundled model still works" in err


def test_big_model_warns_about_memory(
    hub: HubServer, run: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add(
        "bartowski/Qwen2.5-7B-Instruct-GGUF", "Qwen2.5-7B-Instruct-Q4_K_M.gguf", make_gguf(payload_bytes=10)
    )
    monkeypatch.setattr(model_select, "memory_total", lambda: 4 * GIB)
    monkeypatch.setattr(agent.cli.models, "memory_total", lambda: 4 * GIB)
    code, out, err = invoke(run, "models", "pull", "qwen2.5-7b-instruct")
    assert code == 0 and "Pulled qwen2.5-7b-instruct" in out
    assert "Warning: qwen2.5-7b-instruct needs about 9 GB of memory" in err
