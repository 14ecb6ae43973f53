"""`specdraft export`: json, markdown, Jira CSV and GitHub issues (against a loopback fake GitHub API)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from helpers.fake_github import FakeGithub
from typer.testing import CliRunner, Result

from agent.cli.main import app
from agent.integrations.export.github import GithubClient, export_to_github
from agent.integrations.export.records import records_path
from agent.integrations.export.tasks import load_tasks

SPECS = Path(__file__).parent.parent / "data" / "specs"
CLEAN = (SPECS / "clean.md").read_text(encoding="utf-8")
ENV = {"COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={**ENV, **(env or {})})


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.md"
    path.write_text(CLEAN, encoding="utf-8")
    return path


def github_env(fake: FakeGithub) -> dict[str, str]:
    return {"GITHUB_TOKEN": fake.token, "GH_TOKEN": "", "GITHUB_API_URL": fake.api}


def test_tasks_have_ids_phases_requirements_and_acceptance(spec: Path) -> None:
    _doc, tasks = load_tasks(spec)
    assert [t.id for t in tasks] == [f"T-{i:03d}" for i in range(1, 9)]
    create = tasks[1]
    assert create.phase.startswith("Phase 1")
    assert create.requirements == ("FR-001",)
    assert create.requirement_texts["FR-001"]  # the requirement's text from the spec
    assert any("FR-001" in a for a in create.acceptance)  # the success criterion citing it
    assert tasks[0].requirements == ()


def test_json_export(spec: Path) -> None:
    result = run("export", spec, "--to", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["tasks"]) == 8
    assert data["tasks"][2]["requirements"][0]["id"] == "FR-002"
    assert len(data["tasks"][2]["sha256"]) == 64


def test_markdown_export_is_a_checklist(spec: Path) -> None:
    result = run("export", spec, "--to", "markdown")
    assert result.exit_code == 0, result.output
    assert "- [ ] **T-001** Create the invitations table and migration" in result.stdout
    assert "## Phase 2: Core Features (Week 3-4)" in result.stdout


def test_jira_csv_round_trip(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "jira.csv"
    assert run("export", spec, "--to", "jira-csv", "-o", out).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    epics = {r["Issue ID"]: r["Summary"] for r in rows if r["Issue Type"] == "Epic"}
    tasks = [r for r in rows if r["Issue Type"] == "Task"]
    assert len(epics) == 4 and len(tasks) == 8
    assert tasks[1]["Summary"].startswith("[T-002] Implement the create endpoint")
    assert "FR-001" in tasks[1]["Labels"] and "FR-001" in tasks[1]["Description"]
    assert epics[tasks[2]["Parent"]].startswith("Phase 2")
    assert "\n" in tasks[1]["Description"]  # multi-line descriptions survive quoting


def test_output_is_never_overwritten_without_force(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "tasks.json"
    out.write_text("keep", encoding="utf-8")
    result = run("export", spec, "--to", "json", "-o", out)
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_text(encoding="utf-8") == "keep"
    assert run("export", spec, "--to", "json", "-o", out, "--force").exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["tasks"]


def test_unknown_format_and_spec_without_tasks(spec: Path, tmp_path: Path) -> None:
    assert run("export", spec, "--to", "trello").exit_code == 2
    bare = tmp_path / "bare.md"
    bare.write_text("# T\n\n## Overview\nNo tasks here.\n", encoding="utf-8")
    result = run("export", bare)
    assert result.exit_code == 2 and "no tasks" in result.output


def test_github_creates_each_task_once(spec: Path, fake_github: FakeGithub) -> None:
    # exported earlier (this spec's marker in its body): skipped
    fake_github.add_issue("[T-001] made by hand earlier", "<!-- specdraft: spec=spec.md task=T-001 -->")
    for n in range(3):
        fake_github.add_issue(f"unrelated {n}")  # pages of 2: the T-001 issue must be found across pages
    fake_github.issues.reverse()
    result = run(
        "export", spec, "--to", "github", "--repo", "acme/widgets", "--json", env=github_env(fake_github)
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert sorted(summary["created"]) == [f"T-{i:03d}" for i in range(2, 9)]
    assert list(summary["skipped"]) == ["T-001"]
    assert len(fake_github.created) == 7
    assert fake_github.created[0]["labels"] == ["Phase 1"]
    assert "FR-001" in fake_github.created[0]["title"] + fake_github.created[0]["body"]
    records = json.loads(records_path(spec).read_text(encoding="utf-8"))["github:acme/widgets"]
    assert records["T-002"]["number"] == fake_github.created[0]["number"]

    again = run(
        "export", spec, "--to", "github", "--repo", "acme/widgets", "--json", env=github_env(fake_github)
    )
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["created"] == {}
    assert len(fake_github.created) == 7


def test_github_after_spec_change_creates_new_and_lists_changed(spec: Path, fake_github: FakeGithub) -> None:
    env = github_env(fake_github)
    assert run("export", spec, "--to", "github", "--repo", "acme/widgets", env=env).exit_code == 0
    text = spec.read_text(encoding="utf-8")
    text = text.replace(
        "- [ ] Enable for all workspaces", "- [ ] Enable for all workspaces\n- [ ] Write the runbook"
    )
    text = text.replace("Roll out behind the feature flag", "Roll out behind the invite feature flag")
    spec.write_text(text, encoding="utf-8")
    result = run("export", spec, "--to", "github", "--repo", "acme/widgets", "--json", env=env)
    summary = json.loads(result.stdout)
    assert list(summary["created"]) == ["T-009"]
    assert summary["changed"] == ["T-007"]


def test_github_milestones(spec: Path, fake_github: FakeGithub) -> None:
    env = github_env(fake_github)
    result = run("export", spec, "--to", "github", "--repo", "acme/widgets", "--milestones", env=env)
    assert result.exit_code == 0, result.output
    assert len(fake_github.milestones) == 4
    assert {i["milestone"] for i in fake_github.created} == {1, 2, 3, 4}


def test_github_dry_run_needs_no_token(spec: Path, fake_github: FakeGithub) -> None:
    result = run(
        "export", spec, "--to", "github", "--repo", "acme/widgets", "--dry-run", env={"GITHUB_TOKEN": ""}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count("would create: [T-") == 8
    assert fake_github.requests == []


def test_github_without_token_or_with_bad_one(spec: Path, fake_github: FakeGithub) -> None:
    none = run(
        "export", spec, "--to", "github", "--repo", "acme/widgets", env={"GITHUB_TOKEN": "", "GH_TOKEN": ""}
    )
    assert none.exit_code == 2 and "GITHUB_TOKEN" in none.output
    fake_github.fail.append("401")
    bad = run("export", spec, "--to", "github", "--repo", "acme/widgets", env=github_env(fake_github))
    assert bad.exit_code == 2 and "401" in bad.output and "Traceback" not in bad.output


def test_github_refuses_bad_repo_and_non_github_remote(spec: Path, fake_github: FakeGithub) -> None:
    assert (
        run("export", spec, "--to", "github", "--repo", "../etc", env=github_env(fake_github)).exit_code == 2
    )
    result = run("export", spec, "--to", "github", env=github_env(fake_github))  # tmp dir: no origin remote
    assert result.exit_code == 2 and "--repo" in result.output
    assert fake_github.requests == []


def test_github_422_stops_and_a_rerun_resumes_without_duplicates(spec: Path, fake_github: FakeGithub) -> None:
    env = github_env(fake_github)
    client = GithubClient("acme/widgets", fake_github.token, api=fake_github.api)
    _doc, tasks = load_tasks(spec)
    export_to_github(spec, tasks[:2], repo="acme/widgets", client=client)
    fake_github.fail.append("422")
    failed = run("export", spec, "--to", "github", "--repo", "acme/widgets", env=env)
    assert failed.exit_code == 1 and "422" in failed.output and "Validation Failed" in failed.output
    assert run("export", spec, "--to", "github", "--repo", "acme/widgets", env=env).exit_code == 0
    titles = [i["title"][:7] for i in fake_github.issues]
    assert sorted(titles) == sorted(set(titles)) and len(titles) == 8


def test_rate_limit_waits_when_short_and_stops_when_long(spec: Path, fake_github: FakeGithub) -> None:
    _doc, tasks = load_tasks(spec)
    waits: list[float] = []
    fake_github.fail.append("retry")
    client = GithubClient("acme/widgets", fake_github.token, api=fake_github.api, sleep=waits.append)
    result = export_to_github(spec, tasks[:1], repo="acme/widgets", client=client)
    assert waits == [0.0] and list(result.created) == ["T-001"]
    fake_github.fail.append("ratelimit")
    stopped = run("export", spec, "--to", "github", "--repo", "acme/widgets", env=github_env(fake_github))
    assert stopped.exit_code == 1 and "rate limit" in stopped.output and "again later" in stopped.output


def test_token_never_appears_even_when_the_server_echoes_it(spec: Path, fake_github: FakeGithub) -> None:
    fake_github.fail.append("echo-token")
    result = run("export", spec, "--to", "github", "--repo", "acme/widgets", env=github_env(fake_github))
    assert result.exit_code == 1
    assert "internal error" in result.output
    assert fake_github.token not in result.output
    assert (
        run("export", spec, "--to", "github", "--repo", "acme/widgets", env=github_env(fake_github)).exit_code
        == 0
    )
    for path in spec.parent.iterdir():
        assert fake_github.token not in path.read_text(encoding="utf-8")
