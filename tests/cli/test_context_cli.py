"""``draft --context`` end to end against the scripted fault server: what reaches the prompts, what the
front matter records, and ``drift`` / ``verify --drift`` before and after an edit."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "context" / "repo"
BRIEF = (
    "# Order refunds\n\nCustomers request a refund of a delivered order from the orders page. Support "
    "approves the refund and the payment provider returns the money. Refunds are stored per order.\n"
)
ENV = {"COLUMNS": "120", "OPENAI_API_KEY": ""}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "repo")
    (tmp_path / "brief.md").write_text(BRIEF, encoding="utf-8")
    return tmp_path


def _draft(server: FaultServer, work: Path, *extra: str) -> tuple[int, str, str]:
    args = [
        "draft", str(work / "brief.md"), "-o", str(work / "spec.md"), "--base-url", server.base_url,
        "--model", "fault-model", "--parallel", "2", "--max-retries", "0", "--keep-going", *extra,
    ]  # fmt: skip
    result = CliRunner().invoke(app, args, env=ENV)
    return result.exit_code, result.stdout, result.stderr


def _prompts(server: FaultServer) -> list[list[dict[str, str]]]:
    return [r.body["messages"] for r in server.chat_requests()]


def test_relevant_chunks_reach_the_prompts_and_the_unrelated_do_not(
    fault_server: FaultServer, work: Path
) -> None:
    code, _, err = _draft(fault_server, work, "--context", str(work / "repo"))
    assert code in (0, 3), err
    assert "Context: 5 context file(s)" in err
    prompts = _prompts(fault_server)
    assert len(prompts) > 5
    prefixes = {json.dumps(p[:2]) for p in prompts}
    assert len(prefixes) == 1, "the shared prefix must stay identical across sections"
    shared = prompts[0][1]["content"]
    assert "Excerpts from the existing repository" in shared
    assert "def refund_order" in shared and "GET /api/v1/orders" in shared
    everything = "\n".join(m["content"] for p in prompts for m in p)
    assert "Garden note" not in everything and "gardening" not in everything
    api = [p for p in prompts if 'section "API Specifications"' in p[-1]["content"]]
    assert (
        api
        and "Endpoints that already exist: GET /api/v1/invoices/{id}, GET /api/v1/orders"
        in api[0][-1]["content"]
    )
    db = [p for p in prompts if 'section "Database Design"' in p[-1]["content"]]
    assert db and "Tables that already exist: customers, order_items, orders" in db[0][-1]["content"]
    overview = [p for p in prompts if 'section "Overview"' in p[-1]["content"]]
    assert "Tables that already exist" not in overview[0][-1]["content"]


def test_without_context_the_prefix_is_unchanged(fault_server: FaultServer, work: Path) -> None:
    from agent.drafting.brief import load_brief
    from agent.drafting.prompting import shared_prefix
    from agent.specdoc.template_resolver import load_template

    code, _, err = _draft(fault_server, work)
    assert code in (0, 3), err
    prompts = _prompts(fault_server)
    expected = shared_prefix(load_brief(str(work / "brief.md")), load_template(None))
    assert all(p[:2] == expected for p in prompts)
    assert "Excerpts from the existing repository" not in json.dumps(prompts)
    front = yaml.safe_load((work / "spec.md").read_text().split("---\n")[1])
    assert "context" not in front["specdraft"]


def _front(work: Path) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((work / "spec.md").read_text(encoding="utf-8").split("---\n")[1])


def test_provenance_records_files_hashes_and_git_state(fault_server: FaultServer, work: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git = ["git", "-C", str(work / "repo"), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    code, _, err = _draft(
        fault_server,
        work,
        "--context",
        str(work / "repo" / "api"),
        "--context",
        str(work / "repo" / "db" / "*.sql"),
    )
    assert code in (0, 3), err
    context = _front(work)["specdraft"]["context"]
    assert [f["path"] for f in context["files"]] == ["repo/api/openapi.yaml", "repo/db/schema.sql"]
    import hashlib

    sha = hashlib.sha256((work / "repo" / "db" / "schema.sql").read_bytes()).hexdigest()
    assert context["files"][1]["sha256"] == sha
    assert context["git"] == {"commit": head, "dirty": False}
    assert "repo/db/schema.sql" in context["sections"]["database_design"]
    front_text = (work / "spec.md").read_text().split("---\n")[1]
    assert "CREATE TABLE" not in front_text and "summary:" not in front_text  # no content in front matter


def test_drift_before_and_after_an_edit(fault_server: FaultServer, work: Path) -> None:
    code, _, err = _draft(fault_server, work, "--context", str(work / "repo"))
    assert code in (0, 3), err
    runner = CliRunner()
    clean = runner.invoke(app, ["drift", str(work / "spec.md")], env=ENV)
    assert clean.exit_code == 0, clean.output
    assert "no drift" in clean.stdout
    schema = work / "repo" / "db" / "schema.sql"
    schema.write_text(
        schema.read_text() + "\nCREATE TABLE refunds (id UUID PRIMARY KEY);\n", encoding="utf-8"
    )
    (work / "repo" / "api" / "refunds.yaml").write_text("openapi: 3.0.3\npaths: {}\n", encoding="utf-8")
    drifted = runner.invoke(app, ["drift", str(work / "spec.md"), "--json"], env=ENV)
    assert drifted.exit_code == 1, drifted.output
    report = json.loads(drifted.stdout)
    assert report["drift"] is True and report["baseline"] == "draft"
    assert [c["path"] for c in report["changed"]] == ["repo/db/schema.sql"]
    assert "database_design" in report["changed"][0]["sections"]
    assert report["new"] == [{"path": "repo/api/refunds.yaml"}]
    verify = runner.invoke(app, ["verify", str(work / "spec.md"), "--drift"], env=ENV)
    assert verify.exit_code == 1 and "context drift since the draft" in verify.stdout


def test_bad_context_input(fault_server: FaultServer, work: Path) -> None:
    code, _, err = _draft(fault_server, work, "--context", str(work / "nowhere"))
    assert code == 2 and "nowhere' does not exist" in err
    assert not (work / "spec.md").exists() and not fault_server.chat_requests()
    plain = CliRunner().invoke(app, ["drift", str(work / "brief.md")], env=ENV)
    assert plain.exit_code == 2


def test_batch_ranks_the_context_per_brief(fault_server: FaultServer, work: Path) -> None:
    briefs = work / "briefs"
    briefs.mkdir()
    (briefs / "refunds.md").write_text(BRIEF, encoding="utf-8")
    (briefs / "garden.md").write_text(
        "# Garden planner\n\nPlan tomato seedling watering and compost in the greenhouse.\n", encoding="utf-8"
    )
    (work / "out").mkdir()
    args = [
        "batch", str(briefs), "-o", str(work / "out"), "--base-url", fault_server.base_url,
        "--model", "fault-model", "--max-retries", "0", "--keep-going",
        "--context", str(work / "repo"), "--quiet",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code in (0, 3), result.output
    prefixes = {p[1]["content"] for p in _prompts(fault_server)}
    assert len(prefixes) == 2  # one shared prefix per brief
    refunds = next(p for p in prefixes if "Order refunds" in p)
    garden = next(p for p in prefixes if "Garden planner" in p)
    assert "def refund_order" in refunds and "Garden note" not in refunds
    assert "Garden note" in garden and "def refund_order" not in garden
    for spec in (work / "out").glob("*.md"):
        assert "context" in yaml.safe_load(spec.read_text().split("---\n")[1])["specdraft"]


def test_the_configured_context_is_used_when_no_flag_is_given(
    fault_server: FaultServer, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (work / "specdraft.toml").write_text('context = ["repo/api"]\n', encoding="utf-8")
    monkeypatch.chdir(work)
    code, _, err = _draft(fault_server, work)
    assert code in (0, 3), err
    assert [f["path"] for f in _front(work)["specdraft"]["context"]["files"]] == ["repo/api/openapi.yaml"]
    assert "GET /api/v1/orders" in _prompts(fault_server)[0][1]["content"]
