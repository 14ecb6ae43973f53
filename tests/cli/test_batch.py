"""``specdraft batch`` end to end against the suite's fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
SPECDRAFT = ROOT / ".venv" / "bin" / "specdraft"
BODY = (
    "Users need {what}. The feature must work for teams of every size, keep an audit trail of changes, "
    "and respect the permissions of each workspace. Support staff should be able to see what happened."
)


@pytest.fixture
def server(fault_server: FaultServer) -> FaultServer:
    """Valid answers that report cached prompt tokens; a brief containing EXPLODE gets HTTP 500 on
    every request (the SDK retries after 10 ms, then the brief fails)."""
    fault_server.fail_when = "EXPLODE"
    fault_server.retry_after_ms = 10
    fault_server.cached_tokens = 5
    return fault_server


def requests(server: FaultServer) -> int:
    """The chat-completion requests the server has answered so far."""
    return len(server.chat_requests())


def write_briefs(directory: Path, names: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / f"{name}.md").write_text(
            f"# {name.title()}\n\n{BODY.format(what=name)}\n", encoding="utf-8"
        )
    return directory


def run(server: FaultServer, *args: str) -> Any:
    result = CliRunner().invoke(
        app, ["batch", *args, "--base-url", server.base_url, "--template", "adr", "--jobs", "3"]
    )
    return result


def report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


def by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["id"]: entry for entry in data["briefs"]}


def test_directory_drafts_every_brief_and_reports(tmp_path: Path, server: FaultServer) -> None:
    briefs = write_briefs(tmp_path / "briefs", ["alpha", "beta", "gamma"])
    (briefs / "notes.json").write_text("{}", encoding="utf-8")  # not a brief: ignored
    out = tmp_path / "out"
    result = run(server, str(briefs), "-o", str(out))
    assert result.exit_code == 0, result.output
    entries = by_id(report(out))
    assert set(entries) == {"alpha", "beta", "gamma"}
    for name, entry in entries.items():
        assert entry["status"] == "ok" and entry["spec_status"] == "ok"
        assert entry["sections"] == 6 and entry["needs_attention"] == []
        assert entry["prompt_tokens"] > 0 and entry["completion_tokens"] > 0 and entry["cached_tokens"] > 0
        assert entry["model_calls"] == 6 and entry["retries"] == 0 and entry["error"] is None
        assert entry["seconds"] >= 0 and len(entry["inputs_sha256"]) == 64
        spec = Path(entry["output"])
        assert spec == out / f"{name}.md"
        text = spec.read_text(encoding="utf-8")
        assert text.startswith("---\n") and name.title() in text
    totals = report(out)["totals"]
    assert totals["ok"] == 3 and totals["failed"] == 0 and totals["briefs"] == 3
    assert requests(server) == 18
    assert "3 ok" in result.output


def test_jsonl_rows_with_a_malformed_one_skipped_and_reported(tmp_path: Path, server: FaultServer) -> None:
    lines = [
        json.dumps(
            {
                "id": "exports",
                "title": "CSV exports",
                "brief": BODY.format(what="exports"),
                "priority": "high",
            }
        ),
        '{"id": "broken", "brief": ',
        json.dumps({"id": "no-text", "title": "Nothing"}),
        "",
        json.dumps({"id": 7, "brief": BODY.format(what="numbers"), "team": "billing"}),
    ]
    source = tmp_path / "briefs.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run(server, str(source), "-o", str(out))
    assert result.exit_code == 3, result.output
    data = report(out)
    assert set(by_id(data)) == {"exports", "7"}
    assert all(e["status"] == "ok" for e in data["briefs"])
    where = {m["where"]: m["error"] for m in data["malformed"]}
    assert set(where) == {f"{source}:2", f"{source}:3"}
    assert "not valid JSON" in where[f"{source}:2"] and "no 'brief'" in where[f"{source}:3"]
    assert "exports" in (out / "exports.md").read_text(encoding="utf-8").lower()
    assert f"{source}:2" in result.output


def test_csv_rows_and_a_bad_priority(tmp_path: Path, server: FaultServer) -> None:
    source = tmp_path / "briefs.csv"
    source.write_text(
        "id,title,brief,priority\n"
        f'dark,Dark mode,"{BODY.format(what="a dark theme, everywhere")}",low\n'
        f'bad,Bad,"{BODY.format(what="x")}",urgent\n'
        f'sso,Single sign-on,"{BODY.format(what="SAML")}",high\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run(server, str(source), "-o", str(out))
    assert result.exit_code == 3, result.output
    data = report(out)
    assert set(by_id(data)) == {"dark", "sso"}
    [problem] = data["malformed"]
    assert problem["where"] == f"{source}:3" and "priority" in problem["error"]
    # the title column names the spec (priority is checked in test_batch_inputs)
    assert "Decision Record - Dark mode" in (out / "dark.md").read_text(encoding="utf-8")
    assert "Decision Record - Single sign-on" in (out / "sso.md").read_text(encoding="utf-8")


def test_a_failing_brief_does_not_stop_the_others(tmp_path: Path, server: FaultServer) -> None:
    briefs = write_briefs(tmp_path / "briefs", ["one", "two"])
    (briefs / "three.md").write_text(f"# Three\n\nEXPLODE {BODY.format(what='failures')}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run(server, str(briefs), "-o", str(out))
    assert result.exit_code == 3, result.output
    entries = by_id(report(out))
    assert entries["one"]["status"] == entries["two"]["status"] == "ok"
    assert entries["three"]["status"] == "failed" and entries["three"]["spec_status"] is None
    assert entries["three"]["output"] is None
    assert "HTTP 500" in entries["three"]["error"]
    assert not (out / "three.md").exists()
    # the SDK retried the failing request before giving up (ModelSettings.http_retries = 3)
    assert server.stats()["failures"] >= 4
    assert "three: FAILED" in result.output


def test_none_could_run_exits_1(tmp_path: Path, server: FaultServer) -> None:
    briefs = tmp_path / "briefs"
    briefs.mkdir()
    (briefs / "only.md").write_text(f"# Only\n\nEXPLODE {BODY.format(what='x')}\n", encoding="utf-8")
    result = run(server, str(briefs), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert report(tmp_path / "out")["totals"]["failed"] == 1


def test_resume_skips_finished_and_redoes_a_changed_brief(tmp_path: Path, server: FaultServer) -> None:
    briefs = write_briefs(tmp_path / "briefs", ["alpha", "beta", "gamma"])
    out = tmp_path / "out"
    assert run(server, str(briefs), "-o", str(out)).exit_code == 0
    first = by_id(report(out))
    beta_before = (out / "beta.md").stat().st_mtime_ns
    assert requests(server) == 18

    (briefs / "alpha.md").write_text(
        "# Alpha\n\nA changed brief: " + BODY.format(what="more"), encoding="utf-8"
    )
    result = run(server, str(briefs), "-o", str(out))
    assert result.exit_code == 0, result.output
    second = by_id(report(out))
    assert requests(server) == 24  # only alpha was drafted again
    assert second["alpha"]["status"] == "ok"
    assert second["alpha"]["inputs_sha256"] != first["alpha"]["inputs_sha256"]
    assert second["beta"]["status"] == second["gamma"]["status"] == "skipped"
    assert second["beta"]["spec_status"] == "ok" and second["beta"]["completion_tokens"] > 0
    assert (out / "beta.md").stat().st_mtime_ns == beta_before

    (out / "gamma.md").unlink()  # a spec that disappeared is drafted again: from the response cache
    assert run(server, str(briefs), "-o", str(out)).exit_code == 0
    gamma = by_id(report(out))["gamma"]
    assert requests(server) == 24 and gamma["status"] == "ok" and gamma["response_cache_hits"] == 6
    assert (out / "gamma.md").is_file()

    (out / "gamma.md").unlink()  # --no-cache asks the model again
    assert run(server, str(briefs), "-o", str(out), "--no-cache").exit_code == 0
    assert requests(server) == 30 and by_id(report(out))["gamma"]["response_cache_hits"] == 0

    assert run(server, str(briefs), "-o", str(out), "--temperature", "0.5").exit_code == 0
    assert requests(server) == 48  # other model settings: everything redone

    # --force redrafts all: identical requests are answered by the response cache, not the server
    assert run(server, str(briefs), "-o", str(out), "--temperature", "0.5", "--force").exit_code == 0
    assert requests(server) == 48
    assert {e["status"] for e in report(out)["briefs"]} == {"ok"}
    assert report(out)["totals"]["response_cache_hits"] == 18
    args = ("-o", str(out), "--temperature", "0.5", "--force", "--no-cache")
    assert run(server, str(briefs), *args).exit_code == 0
    assert requests(server) == 66


def test_ids_become_safe_file_names(tmp_path: Path, server: FaultServer) -> None:
    rows = [
        {"id": "../../etc/passwd", "brief": BODY.format(what="a")},
        {"id": "Etc Passwd", "brief": BODY.format(what="b")},
        {"id": "/abs/path", "brief": BODY.format(what="c")},
        {"id": ".hidden", "brief": BODY.format(what="d")},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = tmp_path / "deep" / "out"
    result = run(server, str(source), "-o", str(out))
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert files == ["abs-path.md", "etc-passwd-2.md", "etc-passwd.md", "hidden.md", "report.json"]
    assert not (tmp_path / "etc").exists()
    outputs = [Path(e["output"]).resolve() for e in report(out)["briefs"]]
    assert all(p.parent == out.resolve() for p in outputs)


def test_json_output_and_bad_inputs(tmp_path: Path, server: FaultServer) -> None:
    briefs = write_briefs(tmp_path / "briefs", ["solo"])
    result = CliRunner().invoke(
        app,
        [
            "batch",
            str(briefs),
            "-o",
            str(tmp_path / "o"),
            "--base-url",
            server.base_url,
            "--json",
            "-t",
            "adr",
        ],
    )
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["briefs"][0]["id"] == "solo" and payload["provider"] == "compatible"

    missing = CliRunner().invoke(app, ["batch", str(tmp_path / "nope"), "-o", str(tmp_path / "o")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = CliRunner().invoke(app, ["batch", str(empty), "-o", str(tmp_path / "o")])
    assert none.exit_code == 2 and "no .md or .txt" in none.output


@pytest.mark.skipif(not SPECDRAFT.exists(), reason="needs the installed console script (make install)")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_leaves_no_partial_file(
    tmp_path: Path, sig: signal.Signals, fault_server: FaultServer
) -> None:
    briefs = write_briefs(tmp_path / "briefs", [f"brief{n}" for n in range(8)])
    out = tmp_path / "out"
    fault_server.slow_seconds = 0.15
    fault_server.plan(default="slow")  # every answer takes 0.15 s
    env = {**os.environ, "NO_COLOR": "1"}
    process = subprocess.Popen(
        [
            str(SPECDRAFT),
            "batch",
            str(briefs),
            "-o",
            str(out),
            "--base-url",
            fault_server.base_url,
            "-t",
            "adr",
            "--jobs",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob("*.md")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(out.glob("*.md")), "no spec was written before the deadline"
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not [p for p in out.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]
    data = report(out)
    assert data["interrupted"] is True
    statuses = {e["id"]: e["status"] for e in data["briefs"]}
    # finished briefs: "ok", or "attention" when the fake's answers were judged off-topic for these briefs
    done = {i for i, s in statuses.items() if s in ("ok", "attention")}
    assert done and "interrupted" in statuses.values(), statuses
    assert {p.stem for p in out.glob("*.md")} == done  # exactly the finished specs, each complete
    for name in done:
        text = (out / f"{name}.md").read_text(encoding="utf-8")
        assert text.startswith("---\n") and text.endswith("\n")


# -- round 2: incremental report, bounded summary, outputs checked --------------------------------


def test_report_json_is_written_once_and_progress_appended(
    tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each finished brief appends one line to report.jsonl; report.json is written once, at the end."""
    import agent.drafting.batch as batch_module

    briefs = write_briefs(tmp_path / "briefs", ["alpha", "beta", "gamma", "delta"])
    out = tmp_path / "out"
    writes: list[str] = []
    logged: list[int] = []
    real_write, real_log = batch_module.atomic_write_text, batch_module.BatchReport.log

    def counting_write(path: Path, text: str, **kwargs: Any) -> None:
        writes.append(path.name)
        real_write(path, text, **kwargs)

    def counting_log(self: Any, record: Any) -> None:
        real_log(self, record)
        logged.append(len((out / "report.jsonl").read_text().splitlines()))

    monkeypatch.setattr(batch_module, "atomic_write_text", counting_write)
    monkeypatch.setattr(batch_module.BatchReport, "log", counting_log)
    result = run(server, str(briefs), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert writes.count("report.json") == 1, writes
    assert logged == [1, 2, 3, 4], "one line appended per finished brief"
    assert not (out / "report.jsonl").exists(), "merged into report.json at the end"
    assert {e["status"] for e in report(out)["briefs"]} == {"ok"}


def test_a_killed_batch_resumes_from_its_progress_log(tmp_path: Path, server: FaultServer) -> None:
    briefs = write_briefs(tmp_path / "briefs", ["alpha", "beta"])
    out = tmp_path / "out"
    assert run(server, str(briefs), "-o", str(out)).exit_code == 0
    entries = report(out)["briefs"]
    # what a run killed outright (no report.json written) leaves: the progress log, with a torn last line
    (out / "report.json").unlink()
    (out / "report.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in entries) + '{"id": "gam', encoding="utf-8"
    )
    answered = requests(server)
    result = run(server, str(briefs), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert requests(server) == answered, "nothing drafted again"
    assert {e["status"] for e in report(out)["briefs"]} == {"skipped"}


def test_the_summary_of_a_huge_interrupted_batch_is_short(capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli.batch import TABLE_ROWS, print_summary
    from agent.drafting.batch import BatchReport, BriefRecord

    records = [
        BriefRecord(
            id=f"brief-{n}", source=f"b{n}.md", status="interrupted", error="interrupted before it finished"
        )
        for n in range(10_000)
    ]
    started = time.perf_counter()
    print_summary(BatchReport(records=records, problems=[], output_dir=Path("out"), interrupted=True))
    seconds = time.perf_counter() - started
    err = capsys.readouterr().err
    assert err.count("brief-") == TABLE_ROWS
    assert "and 9,960 more brief(s)" in err and "10000 briefs" in err
    assert seconds < 10


def test_a_special_file_where_a_spec_goes_is_left_alone(tmp_path: Path, server: FaultServer) -> None:
    briefs = write_briefs(tmp_path / "briefs", ["alpha", "beta"])
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "alpha.md")
    result = run(server, str(briefs), "-o", str(out))
    assert result.exit_code == 3, result.output
    entries = by_id(report(out))
    assert entries["alpha"]["status"] == "failed" and "special file" in entries["alpha"]["error"]
    assert entries["beta"]["status"] == "ok"
    import stat as stat_module

    assert stat_module.S_ISFIFO((out / "alpha.md").lstat().st_mode)


def test_an_unwritable_output_dir_is_found_before_the_model_runs(
    tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    briefs = write_briefs(tmp_path / "briefs", ["alpha"])
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: make the check see what a user would meet
        real_access = os.access
        monkeypatch.setattr(
            os, "access", lambda p, mode, **kw: False if Path(p) == locked else real_access(p, mode, **kw)
        )
    else:
        locked.chmod(0o555)
    result = run(server, str(briefs), "-o", str(locked / "specs"))
    assert result.exit_code == 2, result.output
    assert "is not writable" in result.stderr
    assert requests(server) == 0
