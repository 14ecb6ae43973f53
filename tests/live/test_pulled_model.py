"""A model pulled over the Hub protocol is served by the embedded engine and drafts a spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.hub_server import HubServer
from typer.testing import CliRunner

from agent.models.bundled import bundled_model_path
from agent.models.catalog import find_model
from agent.models.store import pull

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.live
def test_pulled_model_drafts_with_model_name(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.cli.main import app

    data = bundled_model_path().read_bytes()
    hub.add("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "smollm2-135m-instruct-q4_1.gguf", data)
    config = tmp_path / "user-models.toml"
    config.write_text(
        '[[models]]\nname = "smollm2-from-hub"\nrepo = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"\n'
        'files = ["smollm2-135m-instruct-q4_1.gguf"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SPECDRAFT_CONFIG", str(config))
    pulled = pull(find_model("smollm2-from-hub"))
    assert pulled.path.is_file()

    out = tmp_path / "adr.md"
    result = CliRunner().invoke(
        app,
        [
            "draft",
            str(ROOT / "examples" / "briefs" / "csv-export.md"),
            "-o",
            str(out),
            "--template",
            "adr",
            "--model",
            "smollm2-from-hub",
            "--keep-going",
            "--max-retries",
            "0",
            "--parallel",
            "2",
            "--json",
        ],
        env={"COLUMNS": "120"},
    )
    assert result.exit_code in (0, 3), result.output
    summary = json.loads(result.stdout)
    assert (summary["provider"], summary["model"]) == ("local", "smollm2-from-hub")
    assert summary["tokens"]["completion_tokens"] > 0
    assert "model: smollm2-from-hub" in out.read_text()
