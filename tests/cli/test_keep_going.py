"""No run throws work away: a section that never validates is marked, usage is counted for every brief."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app

TEMPLATE = """# [FEATURE_NAME]

## Summary
[What the feature does and for whom]

## Risks
- [A risk and how it is handled]
"""
BRIEF = "# CSV {what}\n\nUsers {what} their invoices as CSV files from the billing page, by date range.\n"
ENV = {"COLUMNS": "120", "OPENAI_API_KEY": ""}
RISKS_FAIL = 'section "Risks"'


@pytest.fixture
def briefs(tmp_path: Path) -> Path:
    directory = tmp_path / "briefs"
    directory.mkdir()
    for what in ("export", "import", "archive"):
        (directory / f"{what}.md").write_text(BRIEF.format(what=what))
    (tmp_path / "small.md").write_text(TEMPLATE)
    return directory


def _common(server: FaultServer, template: Path) -> list[str]:
    return ["--template", str(template), "--base-url", server.base_url, "--model", "fault-model",
            "--timeout", "10", "--max-retries", "1", "--parallel", "1"]  # fmt: skip


def _batch(server: FaultServer, briefs: Path, *extra: str) -> tuple[int, str, Path]:
    out = briefs.parent / "specs"
    args = ["batch", str(briefs), "-o", str(out), "--jobs", "2", *_common(server, briefs.parent / "small.md")]
    result = CliRunner().invoke(app, [*args, *extra], env=ENV)
    return result.exit_code, result.stderr, out


def test_batch_writes_every_spec_when_one_section_never_validates(
    fault_server: FaultServer, briefs: Path
) -> None:
    fault_server.invalid_when = RISKS_FAIL
    code, err, out = _batch(fault_server, briefs)
    assert code == 3, err
    data = json.loads((out / "report.json").read_text())
    assert data["totals"]["attention"] == 3 and data["totals"]["failed"] == 0
    for entry in data["briefs"]:
        assert entry["status"] == "attention" and entry["needs_attention"] == ["Risks"]
        text = (out / f"{entry['id']}.md").read_text()
        assert text.count("[NEEDS ATTENTION: failed validation after 2 attempt(s)") == 1
        assert "## Summary" in text
        # one call for Summary, two for Risks
        assert entry["model_calls"] == 3 and entry["prompt_tokens"] > 0 and entry["completion_tokens"] > 0
    assert data["totals"]["model_calls"] == 9


def test_batch_strict_fails_the_briefs_but_still_counts_their_usage(
    fault_server: FaultServer, briefs: Path
) -> None:
    fault_server.invalid_when = RISKS_FAIL
    code, err, out = _batch(fault_server, briefs, "--strict")
    assert code == 1, err
    data = json.loads((out / "report.json").read_text())
    assert data["totals"]["failed"] == 3
    assert sorted(p.name for p in out.iterdir()) == ["report.json"], "--strict writes no spec"
    for entry in data["briefs"]:
        assert "Section 'Risks' failed validation" in entry["error"]
        assert entry["model_calls"] == 3 and entry["prompt_tokens"] > 0 and entry["completion_tokens"] > 0
        assert entry["seconds"] > 0
    assert data["totals"]["completion_tokens"] > 0


def test_batch_counts_usage_of_a_brief_whose_server_went_away(
    fault_server: FaultServer, briefs: Path
) -> None:
    fault_server.retry_after = 0.1
    # jobs 1: the first brief's Summary is answered, its Risks gets HTTP 500 on every transport retry
    fault_server.plan("valid", "500", "500", "500", "500")
    code, err, out = _batch(fault_server, briefs, "--jobs", "1")
    assert code == 3, err
    entries = json.loads((out / "report.json").read_text())["briefs"]
    failed = [e for e in entries if e["status"] == "failed"]
    assert len(failed) == 1 and "HTTP 500" in failed[0]["error"]
    assert failed[0]["model_calls"] == 1 and failed[0]["completion_tokens"] > 0
    assert all(e["model_calls"] > 0 for e in entries)


def test_batch_json_shows_usage_for_every_brief(fault_server: FaultServer, briefs: Path) -> None:
    fault_server.invalid_when = RISKS_FAIL
    out = briefs.parent / "specs"
    args = [
        "batch",
        str(briefs),
        "-o",
        str(out),
        "--json",
        *_common(fault_server, briefs.parent / "small.md"),
    ]
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 3, result.stderr
    data = json.loads(result.stdout)
    assert all(e["model_calls"] == 3 and e["completion_tokens"] > 0 for e in data["briefs"])


def test_draft_json_counts_the_calls_of_a_marked_section(fault_server: FaultServer, briefs: Path) -> None:
    fault_server.invalid_when = RISKS_FAIL
    spec = briefs.parent / "spec.md"
    args = ["draft", str(briefs / "export.md"), "-o", str(spec), "--json",
            *_common(fault_server, briefs.parent / "small.md")]  # fmt: skip
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 3, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "attention" and data["needs_attention"] == ["Risks"]
    assert data["tokens"]["model_calls"] == 3 and data["tokens"]["completion_tokens"] > 0
    assert spec.exists()


def test_draft_strict_json_still_reports_what_was_spent(fault_server: FaultServer, briefs: Path) -> None:
    fault_server.invalid_when = RISKS_FAIL
    spec = briefs.parent / "spec.md"
    args = ["draft", str(briefs / "export.md"), "-o", str(spec), "--json", "--strict",
            *_common(fault_server, briefs.parent / "small.md")]  # fmt: skip
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "failed" and "Risks" in data["error"]
    assert data["tokens"]["model_calls"] == 3 and data["tokens"]["completion_tokens"] > 0
    assert not spec.exists()
