"""`specdraft draft` picks the re-ask policy from the model's size and records both in the front matter.

The embedded engine is stood in for by the scripted fault server (a GGUF made here has a tensor table
but no weights, so llama.cpp could not load it): everything else, from ``--model-path`` through the
header read, the policy, the requests and the front matter, is the code the CLI runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.fault_server import FaultServer
from helpers.hub_server import make_gguf
from typer.testing import CliRunner

from agent.cli.main import app
from agent.specdoc.document import load_spec

TEMPLATE = (
    "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n"
    "## Risks\n- [A risk]\n\n## Rollout\n[How it ships]\n"
)
BRIEF = "# CSV export\n\nUsers export their invoices as CSV files from the billing page, by date range.\n"
#: 1024 x 250,000 token embeddings and an output matrix of the same shape: 512M parameters
HALF_BILLION = [("token_embd.weight", (1024, 250_000)), ("output.weight", (1024, 250_000))]


@pytest.fixture
def served_by(monkeypatch: pytest.MonkeyPatch, fault_server: FaultServer) -> FaultServer:
    """The embedded engine replaced by the fault server: ``--model-path`` is resolved as usual."""

    class Served:
        def __init__(self, settings: Any) -> None:
            self.settings = settings
            self.base_url = fault_server.base_url
            self.load_seconds = 0.0

        def start(self) -> Served:
            return self

        def close(self) -> None:
            return None

    monkeypatch.setattr("agent.llm.embedded.EmbeddedServer", Served)
    return fault_server


def _draft(tmp_path: Path, *model: str) -> tuple[Any, dict[str, Any]]:
    (tmp_path / "brief.md").write_text(BRIEF)
    (tmp_path / "small.md").write_text(TEMPLATE)
    spec = tmp_path / "spec.md"
    result = CliRunner().invoke(
        app,
        [
            "draft",
            str(tmp_path / "brief.md"),
            "-o",
            str(spec),
            "--template",
            str(tmp_path / "small.md"),
            *model,
        ],
    )
    meta = load_spec(spec).front_matter["specdraft"] if spec.exists() else {}
    return result, meta


def _attempts(server: FaultServer, section: str) -> int:
    return sum(section in r.body["messages"][-1]["content"] for r in server.chat_requests())


def _first_request(server: FaultServer, section: str) -> dict[str, Any]:
    """The first request for ``section`` (the speed probe and the other sections left aside)."""
    return next(r.body for r in server.chat_requests() if section in r.body["messages"][-1]["content"])


def test_a_model_path_gguf_of_half_a_billion_parameters_gets_the_small_policy(
    served_by: FaultServer, tmp_path: Path
) -> None:
    """The file's name says nothing of its size (it used to get the classic policy: two re-asks)."""
    model = tmp_path / "anything.gguf"
    model.write_bytes(make_gguf(tensors=HALF_BILLION, payload_bytes=64))
    served_by.invalid_when = "Rollout"  # one section never validates: its attempts are counted
    result, meta = _draft(tmp_path, "--model-path", str(model))
    assert result.exit_code == 3, result.output  # written, with Rollout marked
    assert meta["model_params"] == 512_000_000
    assert meta["model_params_from"] == "gguf tensors"
    assert meta["reask_policy"] == "small"
    assert _attempts(served_by, "Rollout") == 2  # one re-ask
    first = _first_request(served_by, "Summary")
    assert first["repeat_penalty"] == pytest.approx(1.1)  # the light first request of small models
    assert "Its template:" not in first["messages"][-1]["content"]
    assert "could not be read" not in result.stderr


def test_a_gguf_without_a_readable_count_gets_the_large_policy_and_says_so(
    served_by: FaultServer, tmp_path: Path
) -> None:
    model = tmp_path / "mystery-0.5b.gguf"  # a name is not a count: the file is asked, and says nothing
    model.write_bytes(make_gguf(payload_bytes=64))
    result, meta = _draft(tmp_path, "--model-path", str(model))
    assert result.exit_code == 0, result.output
    assert "The parameter count of mystery-0.5b could not be read from its GGUF header" in result.stderr
    assert "model_params" not in meta
    assert (meta["model_params_from"], meta["reask_policy"]) == ("unknown", "large")
    first = _first_request(served_by, "Summary")
    assert "Its template:" in first["messages"][-1]["content"] and "repeat_penalty" not in first


@pytest.mark.parametrize(
    ("model", "params", "source", "policy"),
    [
        ("qwen2.5-0.5b-instruct", 500_000_000, "model name", "small"),
        ("smollm2-135m-instruct", 135_000_000, "model name", "tiny"),
        ("gpt-4o-mini", None, "unknown", "large"),
    ],
)
def test_a_remote_model_is_sized_by_its_name(
    fault_server: FaultServer, tmp_path: Path, model: str, params: int | None, source: str, policy: str
) -> None:
    result, meta = _draft(tmp_path, "--base-url", fault_server.base_url, "--model", model)
    assert result.exit_code == 0, result.output
    assert meta.get("model_params") == params
    assert (meta["model_params_from"], meta["reask_policy"]) == (source, policy)
    assert "could not be read" not in result.stderr  # only a local file's missing count is worth a notice


def test_the_json_summary_and_an_older_spec(fault_server: FaultServer, tmp_path: Path) -> None:
    (tmp_path / "brief.md").write_text(BRIEF)
    common = ["--template", str(tmp_path / "small.md"), "--base-url", fault_server.base_url]
    (tmp_path / "small.md").write_text(TEMPLATE)
    spec = tmp_path / "spec.md"
    result = CliRunner().invoke(
        app,
        ["draft", str(tmp_path / "brief.md"), "-o", str(spec), "--json", *common, "--model", "llama-3.1-8b"],
    )
    summary = json.loads(result.stdout)
    assert (summary["model_params"], summary["reask_policy"]) == (8_000_000_000, "large")

    # a spec drafted before these keys existed is read and linted as before
    lint = ["lint", str(spec), "--template", str(tmp_path / "small.md")]
    now = CliRunner().invoke(app, lint)
    text = spec.read_text()
    for key in ("model_params", "model_params_from", "reask_policy"):
        text = "\n".join(line for line in text.split("\n") if not line.strip().startswith(f"{key}:"))
    spec.write_text(text)
    assert "reask_policy" not in load_spec(spec).front_matter["specdraft"]
    before = CliRunner().invoke(app, lint)
    assert before.exit_code == now.exit_code and now.exit_code != 2, now.output
    # the findings are those of the body: three lines fewer in the front matter move them up by three
    assert before.stdout.count("needs-clarification") == now.stdout.count("needs-clarification") == 1
