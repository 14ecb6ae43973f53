"""Several --base-url servers from the command line: a batch goes on when one dies, all dead is a clear
error, lists in the configuration; and the notice when the embedded server runs fewer slots than asked."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from helpers.fault_server import FaultServer, running
from typer.testing import CliRunner

from agent.cli.main import app
from agent.llm.embedded import free_port
from agent.models import select as model_select

TEMPLATE = """# [FEATURE_NAME]

## Summary
[What the feature does and for whom]

## Risks
- [A risk and how it is handled]
"""
TOPICS = ("CSV export", "PDF import", "audit log", "SSO login", "rate limits", "webhooks", "dark mode")
ENV = {"COLUMNS": "200", "OPENAI_API_KEY": ""}


@pytest.fixture
def second_server() -> Iterator[FaultServer]:
    with running() as server:
        yield server


def _briefs(tmp_path: Path, count: int) -> Path:
    briefs = tmp_path / "briefs"
    briefs.mkdir()
    for number, topic in enumerate(TOPICS[:count]):
        (briefs / f"b{number}.md").write_text(f"# {topic}\n\nUsers need {topic} on the billing page.\n")
    (tmp_path / "small.md").write_text(TEMPLATE)
    return briefs


def _batch(tmp_path: Path, briefs: Path, *urls: str) -> list[str]:
    servers = [arg for url in urls for arg in ("--base-url", url)]
    return ["batch", str(briefs), "-o", str(tmp_path / "specs"), "--jobs", "2", "--parallel", "1",
            "--template", str(tmp_path / "small.md"), *servers, "--model", "fault-model",
            "--timeout", "20", "--max-retries", "1"]  # fmt: skip


def test_a_batch_survives_a_server_that_dies_mid_batch(
    fault_server: FaultServer, second_server: FaultServer, tmp_path: Path
) -> None:
    briefs = _briefs(tmp_path, 6)  # 6 briefs x 2 sections = 12 model calls
    second_server.plan("valid", "valid", default="503")  # answers twice, then fails every request
    started = time.monotonic()
    result = CliRunner().invoke(
        app, _batch(tmp_path, briefs, fault_server.base_url, second_server.base_url), env=ENV
    )
    elapsed = time.monotonic() - started

    assert result.exit_code == 0, result.stderr
    specs = tmp_path / "specs"
    assert sorted(p.name for p in specs.glob("*.md")) == [f"b{n}.md" for n in range(6)]
    report = json.loads((specs / "report.json").read_text())
    dead = [r for r in second_server.chat_requests() if r.action == "503"]
    # the dead server is taken out: one failure, then one probe after each cool-down (2 s, 4 s, 8 s ...)
    probes = int(math.log2(elapsed / 2 + 1))
    assert 1 <= len(dead) <= 1 + probes
    assert len(fault_server.chat_requests()) >= 12 - 2  # the live one did the rest of the work
    assert report["totals"]["failovers"] == len(dead)
    assert sum(b["failovers"] for b in report["briefs"]) == len(dead)
    assert sum(b["retries"] for b in report["briefs"]) >= len(dead)  # a failover counts as a retry
    servers = {r["url"]: r for r in report["replicas"]}
    assert servers[second_server.base_url]["failures"] == len(dead)
    assert servers[second_server.base_url]["last_error"] == "HTTP 503"
    assert servers[fault_server.base_url]["failures"] == 0
    assert servers[fault_server.base_url]["requests"] == len(fault_server.chat_requests())
    assert "Servers: " in result.stderr and "moved to another server" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_server_that_goes_away_entirely_is_routed_around(fault_server: FaultServer, tmp_path: Path) -> None:
    briefs = _briefs(tmp_path, 3)
    gone = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there: connection refused
    result = CliRunner().invoke(app, _batch(tmp_path, briefs, gone, fault_server.base_url), env=ENV)
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "specs" / "report.json").read_text())
    servers = {r["url"]: r for r in report["replicas"]}
    assert servers[gone]["failures"] >= 1 and servers[gone]["down"]
    assert report["totals"]["ok"] == 3


def test_every_server_dead_is_a_clear_error(tmp_path: Path) -> None:
    briefs = _briefs(tmp_path, 1)
    (tmp_path / "brief.md").write_text("# CSV export\n\nUsers export invoices as CSV files.\n")
    dead = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(2)]
    # asking the servers for their model at start-up
    draft = ["draft", str(tmp_path / "brief.md"), "-o", str(tmp_path / "spec.md"),
             "--template", str(tmp_path / "small.md"),
             "--base-url", dead[0], "--base-url", dead[1], "--timeout", "5"]  # fmt: skip
    result = CliRunner().invoke(app, draft, env=ENV)
    assert result.exit_code == 1, result.stderr
    assert "None of the model servers could be reached" in result.stderr
    assert dead[0] in result.stderr and dead[1] in result.stderr
    # the model named: the first request finds every server down
    result = CliRunner().invoke(app, [*draft, "--model", "fault-model"], env=ENV)
    assert result.exit_code == 1, result.stderr
    assert "No model server could answer" in result.stderr
    assert dead[0] in result.stderr and dead[1] in result.stderr
    assert not (tmp_path / "spec.md").exists() and "Traceback" not in result.stderr
    # a batch: every brief failed, exit 1 as for a gone server
    result = CliRunner().invoke(app, _batch(tmp_path, briefs, *dead), env=ENV)
    assert result.exit_code == 1, result.stderr
    report = json.loads((tmp_path / "specs" / "report.json").read_text())
    assert report["briefs"][0]["status"] == "failed"
    assert "No model server could answer" in report["briefs"][0]["error"]


def test_servers_listed_in_specdraft_toml(
    fault_server: FaultServer, second_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / "specdraft.toml").write_text(
        f'model = "fault-model"\nbase_url = ["{fault_server.base_url}", "{second_server.base_url}"]\n'
    )
    monkeypatch.chdir(project)
    shown = CliRunner().invoke(app, ["config", "show", "--json"], env=ENV)
    assert shown.exit_code == 0, shown.stderr
    row = next(r for r in json.loads(shown.stdout)["settings"] if r["key"] == "base_url")
    assert row["value"] == [fault_server.base_url, second_server.base_url]
    assert row["source"] == f"{project / 'specdraft.toml'}:2"
    table = CliRunner().invoke(app, ["config", "show"], env=ENV)
    assert fault_server.base_url in table.stdout and second_server.base_url in table.stdout

    briefs = _briefs(tmp_path, 4)
    args = ["batch", str(briefs), "-o", str(tmp_path / "specs"), "--template", str(tmp_path / "small.md"),
            "--jobs", "2", "--parallel", "2"]  # fmt: skip
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.stderr
    assert fault_server.chat_requests() and second_server.chat_requests()  # the work was spread


def test_comma_separated_servers_in_the_variable(
    fault_server: FaultServer, second_server: FaultServer, tmp_path: Path
) -> None:
    briefs = _briefs(tmp_path, 4)
    env = {**ENV, "SPECDRAFT_BASE_URL": f"{fault_server.base_url},{second_server.base_url}"}
    args = ["batch", str(briefs), "-o", str(tmp_path / "specs"), "--template", str(tmp_path / "small.md"),
            "--jobs", "2", "--parallel", "2", "--model", "fault-model"]  # fmt: skip
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.stderr
    assert fault_server.chat_requests() and second_server.chat_requests()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["http://a:1/v1", "ftp://b/v1"]', '"ftp://b/v1" should be an http(s) URL'),
        ('["http://a:1/v1", "http://a:1/v1/"]', "is listed twice"),
        ("[]", "an empty list"),
        ('["http://a:1/v1", 3]', "3 should be an http(s) URL"),
    ],
)
def test_a_bad_server_list_names_the_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "specdraft.toml").write_text(f'model = "m"\nbase_url = {value}\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["config", "show"], env=ENV)
    assert result.exit_code == 2
    assert f"{tmp_path / 'specdraft.toml'}:2: base_url" in result.stderr and expected in result.stderr


def test_doctor_checks_every_server(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    gone = f"http://127.0.0.1:{free_port()}/v1"
    env = {**ENV, "SPECDRAFT_BASE_URL": f"{fault_server.base_url},{gone}"}
    result = CliRunner().invoke(app, ["doctor", "--json"], env=env)
    checks = [c for c in json.loads(result.stdout)["checks"] if c["name"] == "provider"]
    assert [c["status"] for c in checks] == ["ok", "warn"]
    assert fault_server.base_url in checks[0]["detail"] and gone in checks[1]["detail"]
    assert "other servers" in checks[1]["fix"]


class _FakeEmbedded:
    """Stands in for the embedded llama.cpp server: the fault server answers, the settings are kept."""

    seen: ClassVar[list[int]] = []
    url = ""

    def __init__(self, settings: object) -> None:
        self.settings = settings
        self.base_url = self.url
        self.load_seconds = 0.0

    def start(self) -> _FakeEmbedded:
        _FakeEmbedded.seen.append(self.settings.slots)  # type: ignore[attr-defined]
        return self

    def close(self) -> None:
        return None


def test_batch_says_when_free_memory_lowers_the_jobs(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.llm import embedded
    from agent.models.bundled import bundled_model_path

    kv = 30 * 3 * 128 * 2  # bytes per token of the bundled model
    weights = bundled_model_path().stat().st_size
    free = int((weights + 256 * 1024**2 + weights // 20 + 5000 * kv) / 0.85)  # two slots' worth
    monkeypatch.setattr(model_select, "memory_available", lambda: free)
    monkeypatch.setattr(_FakeEmbedded, "url", fault_server.base_url)
    monkeypatch.setattr(_FakeEmbedded, "seen", [])
    monkeypatch.setattr(embedded, "EmbeddedServer", _FakeEmbedded)
    briefs = _briefs(tmp_path, 2)
    args = ["batch", str(briefs), "-o", str(tmp_path / "specs"), "--template", str(tmp_path / "small.md"),
            "--jobs", "16", "--provider", "local"]  # fmt: skip
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code in (0, 3), result.stderr
    assert _FakeEmbedded.seen == [2]
    assert "Running 2 request(s) at once instead of the 16 asked for (--jobs/--parallel)" in result.stderr
