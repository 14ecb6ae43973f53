"""The front matter points to the brief (relative to the spec), so chat and refine find it later."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.drafting.service import brief_reference
from agent.specdoc.document import load_spec

TEMPLATE = "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"
BRIEF = "# CSV export\n\nUsers export their invoices as CSV files from the billing page, by date range.\n"


def test_brief_reference_is_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "briefs").mkdir()
    brief = tmp_path / "briefs" / "a.md"
    brief.write_text(BRIEF)
    assert brief_reference(str(brief), tmp_path / "specs" / "a.md") == "../briefs/a.md"
    assert brief_reference(str(brief), tmp_path / "a.md") == "briefs/a.md"
    assert brief_reference("<stdin>", tmp_path / "a.md") is None
    assert brief_reference("rows.jsonl:3", tmp_path / "a.md") is None
    assert brief_reference(str(brief), None) is None


def test_draft_records_the_brief_and_refine_finds_it(fault_server: FaultServer, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # a repository: briefs/ beside specs/ stays inside its work tree
    (tmp_path / "briefs").mkdir()
    (tmp_path / "specs").mkdir()
    (tmp_path / "briefs" / "csv.md").write_text(BRIEF)
    (tmp_path / "small.md").write_text(TEMPLATE)
    spec = tmp_path / "specs" / "csv.md"
    common = ["--template", str(tmp_path / "small.md"), "--base-url", fault_server.base_url,
              "--model", "fault-model"]  # fmt: skip
    result = CliRunner().invoke(app, ["draft", str(tmp_path / "briefs" / "csv.md"), "-o", str(spec), *common])
    assert result.exit_code == 0, result.output
    meta = load_spec(spec).front_matter["specdraft"]
    assert meta["brief"] == "../briefs/csv.md"

    result = CliRunner().invoke(app, ["draft", str(tmp_path / "briefs" / "csv.md"), *common])
    assert result.exit_code == 0 and "brief: " not in result.stdout, "no path for a spec sent to stdout"

    # chat (refine of a named section), with neither --brief nor --template, reads both from the front matter
    before = len(fault_server.chat_requests())
    server = ["--base-url", fault_server.base_url, "--model", "fault-model"]
    result = CliRunner().invoke(
        app, ["chat", str(spec), *server], input="/edit Summary name the date range\n/quit\n"
    )
    assert result.exit_code == 0, result.output
    sent = [json.dumps(r.body) for r in fault_server.chat_requests()[before:]]
    assert sent, "refine asked the model nothing"
    assert any("Users export their invoices as CSV files" in body for body in sent), "the brief was not used"
