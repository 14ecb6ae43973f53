"""A spec drafted from a custom template finds it again from any working directory (front matter
records its path relative to the spec); a template that moved gives a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.specdoc.document import load_spec

DATA = Path(__file__).resolve().parents[1] / "data"
BRIEF = (
    "# Invoice exporter runbook\n\nThe invoice exporter writes nightly CSV files of paid invoices to the "
    "finance bucket; operators restart it when the queue of export jobs stops draining.\n"
)
ANA = "Ana Lima <ana@example.com>"
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


@pytest.fixture
def drafted(fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "project"
    (project / "specs").mkdir(parents=True)
    (project / ".git").mkdir()  # a repository: the template beside specs/ stays inside its work tree
    runbook = (DATA / "templates" / "runbook.md").read_text(encoding="utf-8")
    # review and approve need a status line in the footer
    (project / "runbook.md").write_text(runbook.rstrip() + "  \n**Status**: [DRAFT|REVIEW|APPROVED]\n")
    (project / "brief.md").write_text(BRIEF, encoding="utf-8")
    monkeypatch.chdir(project)
    result = run("draft", "brief.md", "-t", "./runbook.md", "-o", "specs/r.md",
                 "--base-url", fault_server.base_url, "--model", "fault-model")  # fmt: skip
    assert result.exit_code == 0, result.output
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return project / "specs" / "r.md"


def test_front_matter_records_the_template_relative_to_the_spec(drafted: Path) -> None:
    meta = load_spec(drafted).front_matter["specdraft"]
    assert meta["template"] == "../runbook.md"
    assert len(meta["template_sha256"]) == 64


def test_lint_review_approve_refine_from_another_directory(drafted: Path, fault_server: FaultServer) -> None:
    result = run("lint", drafted)
    assert result.exit_code in (0, 1), result.output
    assert "Unknown template" not in result.output
    status = run("status", drafted)
    assert status.exit_code == 0, status.output
    reviewed = run("review", drafted)
    assert reviewed.exit_code == 0, reviewed.output
    approved = run("approve", drafted, "--by", ANA, "--role", "Tech Lead")
    assert approved.exit_code == 0, approved.output
    refined = run("refine", drafted, "-m", "Mention the finance bucket in the summary",
                  "--base-url", fault_server.base_url, "--model", "fault-model")  # fmt: skip
    assert refined.exit_code == 0, refined.output
    assert "Unknown template" not in refined.output


def test_a_moved_template_names_the_recorded_path(drafted: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved.md"
    (tmp_path / "project" / "runbook.md").rename(moved)
    result = run("lint", drafted)
    assert result.exit_code == 2
    assert "specdraft.template: ../runbook.md" in result.output
    assert "--template" in result.output
    assert run("lint", drafted, "--template", moved).exit_code in (0, 1)


def test_lint_says_when_the_template_changed_since_drafting(drafted: Path, tmp_path: Path) -> None:
    unchanged = run("lint", drafted)
    assert "has changed since this spec was drafted" not in unchanged.stderr
    template = tmp_path / "project" / "runbook.md"
    # the same template saved with Windows line endings is not a change
    template.write_bytes(template.read_bytes().replace(b"\n", b"\r\n"))
    assert "has changed" not in run("lint", drafted).stderr
    template.write_text(template.read_text(encoding="utf-8") + "\n## Escalation\n\n[Who to call]\n")
    changed = run("lint", drafted)
    assert f"{drafted}: The template" in changed.stderr and "has changed since this spec" in changed.stderr
    assert "Escalation" in changed.stdout  # checked against the template as it is now
