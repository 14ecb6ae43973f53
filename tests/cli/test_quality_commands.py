"""``specdraft trace``, ``eval``, ``lint --brief`` and the drafter's off-topic re-ask (fake server)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers.cli import invoke
from helpers.fault_server import FaultServer

ROOT = Path(__file__).resolve().parents[2]
CLEAN = ROOT / "tests" / "data" / "specs" / "clean.md"
BRIEFS = ROOT / "examples" / "briefs"


def spec_with_recorded_brief(tmp_path: Path, brief: str) -> Path:
    shutil.copy(BRIEFS / f"{brief}.md", tmp_path / "brief.md")
    text = CLEAN.read_text(encoding="utf-8").replace(
        "  version: 0.1.0\n", "  version: 0.1.0\n  brief: brief.md\n"
    )
    spec = tmp_path / "spec.md"
    spec.write_text(text, encoding="utf-8")
    return spec


def test_trace_json_lists_the_matrix_and_exits_1_on_uncovered() -> None:
    code, out, _ = invoke("trace", CLEAN, "--json")
    data = json.loads(out)
    assert data["schema"] == "specdraft.trace/1"
    assert [r["id"] for r in data["requirements"]][:3] == ["FR-001", "FR-002", "FR-003"]
    assert data["requirements"][0]["tasks"]
    assert code == (1 if data["uncovered"] else 0)
    code, out, _ = invoke("trace", CLEAN)
    assert "FR-001" in out and "traced" in out


def test_trace_of_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    code, _, err = invoke("trace", tmp_path / "nope.md")
    assert code == 2 and "Error" in err


def test_lint_uses_the_brief_recorded_in_the_spec(tmp_path: Path) -> None:
    own = spec_with_recorded_brief(tmp_path, "team-invitations")
    _, out, _ = invoke("lint", own, "--json")
    rules = {f["rule"] for f in json.loads(out)["files"][0]["findings"]}
    assert "brief-uncovered" not in rules and "off-topic" not in rules
    _, out, _ = invoke("lint", own, "--json", "--brief", BRIEFS / "csv-export.md")
    rules = {f["rule"] for f in json.loads(out)["files"][0]["findings"]}
    assert "brief-uncovered" in rules and "off-topic" in rules


def test_lint_says_why_a_recorded_brief_was_not_used(tmp_path: Path) -> None:
    """A brief outside the spec's folder (no git work tree around it) is refused, and lint says so."""
    spec = spec_with_recorded_brief(tmp_path, "csv-export")
    (tmp_path / "specs").mkdir()
    moved = tmp_path / "specs" / "spec.md"
    moved.write_text(spec.read_text(encoding="utf-8").replace("brief: brief.md", "brief: ../brief.md"))
    _, out, err = invoke("lint", moved, "--json")
    rules = {f["rule"] for f in json.loads(out)["files"][0]["findings"]}
    assert "brief-uncovered" not in rules  # the brief's rules did not run ...
    assert "../brief.md" in err and "Pass --brief" in err  # ... and the user is told why
    _, out, _ = invoke("lint", moved, "--json", "--brief", tmp_path / "brief.md")
    assert "brief-uncovered" in {f["rule"] for f in json.loads(out)["files"][0]["findings"]}


def test_eval_json_own_brief_scores_high_and_another_low(tmp_path: Path) -> None:
    spec = spec_with_recorded_brief(tmp_path, "team-invitations")
    code, out, _ = invoke("eval", spec, "--json")
    assert code == 0
    own = json.loads(out)
    assert own["schema"] == "specdraft.eval/1"
    assert own["specs"][0]["brief_coverage"] >= 0.9 and own["overall"]["off_topic"] == 0
    (tmp_path / "own.json").write_text(out, encoding="utf-8")
    report = tmp_path / "card.md"
    code, out, _ = invoke(
        "eval", spec, "--json", "--brief", BRIEFS / "dark-mode.md",
        "--baseline", tmp_path / "own.json", "--report", report,
    )  # fmt: skip
    other = json.loads(out)
    assert other["specs"][0]["brief_coverage"] <= 0.3
    assert other["delta"]["brief_coverage"] < 0 and other["delta"]["off_topic"] > 0
    assert "brief_coverage" in report.read_text(encoding="utf-8")


def test_eval_rejects_a_baseline_that_is_not_an_eval_result(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "specdraft.lint/1"}', encoding="utf-8")
    code, _, err = invoke("eval", CLEAN, "--baseline", bad)
    assert code == 2 and "specdraft eval --json" in err


def test_an_off_topic_answer_is_re_asked_with_the_reason(tmp_path: Path, fault_server: FaultServer) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text(
        "# CSV export\n\nUsers export their invoices as CSV files from the billing page, by date range.\n",
        encoding="utf-8",
    )
    template = tmp_path / "small.md"
    template.write_text(
        "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n", encoding="utf-8"
    )
    out = tmp_path / "spec.md"
    fault_server.plan("off_topic")
    code, stdout, err = invoke(
        "draft", brief, "-o", out, "--template", template, "--base-url", fault_server.base_url,
        "--model", "fault-model", "--max-retries", "1", "--parallel", "1", "--json",
    )  # fmt: skip
    assert code == 0, err
    requests = fault_server.chat_requests()
    assert [r.action for r in requests] == ["off_topic", "valid"]
    repair = json.dumps(requests[1].body)
    assert "off-topic" in repair and "password" in repair
    assert "password" not in out.read_text(encoding="utf-8")
    assert 0 <= json.loads(stdout)["brief_coverage"] <= 1


def test_eval_draft_drafts_each_brief_and_scores_it(tmp_path: Path, fault_server: FaultServer) -> None:
    shutil.copy(BRIEFS / "csv-export.md", tmp_path / "csv-export.md")
    out = tmp_path / "specs"
    code, stdout, err = invoke(
        "eval", "--draft", tmp_path / "csv-export.md", "--output-dir", out, "--template", "adr",
        "--base-url", fault_server.base_url, "--model", "fault-model", "--parallel", "1", "--json",
    )  # fmt: skip
    assert code == 0, err
    card = json.loads(stdout)["specs"][0]
    assert card["path"] == str(out / "csv-export.md") and (out / "csv-export.md").is_file()
    assert card["tokens"] and card["tokens"] > 0 and card["seconds"] is not None
    assert card["brief_coverage"] is not None


def test_eval_draft_takes_context(tmp_path: Path, fault_server: FaultServer) -> None:
    shutil.copy(BRIEFS / "csv-export.md", tmp_path / "csv-export.md")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "exports.sql").write_text(
        "-- invoices: one row per invoice, with the customer, status, totals and tax\n"
        "CREATE TABLE invoices (id BIGINT PRIMARY KEY, customer_id BIGINT, status TEXT,"
        " total_cents BIGINT);\n",
        encoding="utf-8",
    )
    out = tmp_path / "specs"
    code, _, err = invoke(
        "eval", "--draft", tmp_path / "csv-export.md", "--output-dir", out, "--template", "adr",
        "--base-url", fault_server.base_url, "--model", "fault-model", "--parallel", "1", "--json",
        "--context", repo,
    )  # fmt: skip
    assert code == 0, err
    recorded = (out / "csv-export.md").read_text(encoding="utf-8").split("---\n")[1]
    assert "exports.sql" in recorded  # the context file is in the drafted spec's provenance
    prompts = [json.dumps(r.body["messages"]) for r in fault_server.chat_requests()]
    assert any("CREATE TABLE invoices" in p for p in prompts)


def test_eval_draft_lets_the_model_size_choose_the_re_asks(tmp_path: Path, fault_server: FaultServer) -> None:
    """Like `draft`: a small model's rejected section is marked at once, a larger one is asked again."""
    shutil.copy(BRIEFS / "csv-export.md", tmp_path / "csv-export.md")
    requests: dict[str, int] = {}
    for model in ("fault-135m", "fault-7b"):
        before = len(fault_server.chat_requests())
        fault_server.plan("invalid")  # the first section's first answer breaks its schema
        code, stdout, err = invoke(
            "eval", "--draft", tmp_path / "csv-export.md", "--output-dir", tmp_path / model,
            "--template", "adr", "--base-url", fault_server.base_url, "--model", model,
            "--parallel", "1", "--json",
        )  # fmt: skip
        assert code == 0, err
        requests[model] = len(fault_server.chat_requests()) - before
        attention = json.loads(stdout)["specs"][0]["sections_attention"]
        assert attention == (1 if model == "fault-135m" else 0)
    assert requests["fault-7b"] == requests["fault-135m"] + 1  # one re-ask, only for the larger model
