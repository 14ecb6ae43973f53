"""``specdraft batch --via batch-api`` and ``--via jsonl`` / ``--ingest`` against the stand-in Batch API
(helpers.batch_server) and the fake model server (helpers.fault_server), on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.batch_server import BatchServer
from helpers.fault_server import FaultServer, valid_content
from typer.testing import CliRunner

from agent.cli.main import app
from agent.llm.batch_api import brief_key

ROOT = Path(__file__).resolve().parents[2]
BODY = (
    "Users need {what}. The feature must work for teams of every size, keep an audit trail of changes, "
    "and respect the permissions of each workspace. Support staff should be able to see what happened."
)
#: one distinct subject a brief (the fake servers' answers name the longest word of the title)
WORDS = (
    "invoicing", "webhooks", "exporting", "invitations", "billing", "searching", "auditing", "alerting",
    "tagging", "teamwork", "onboarding", "payments", "reporting", "scheduling", "messaging", "archiving",
    "importing", "versioning", "commenting", "bookmarks",
)  # fmt: skip
ENV = {"COLUMNS": "200", "OPENAI_API_KEY": "sk-test-batch-key"}


def title(index: int) -> str:
    return f"{WORDS[index].title()} {index:02d}"


def write_briefs(directory: Path, count: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        text = f"# {title(index)}\n\n{BODY.format(what=WORDS[index])}\n"
        (directory / f"feature-{index:02d}.md").write_text(text, encoding="utf-8")
    return directory


def api_args(server: BatchServer) -> list[str]:
    return [
        "--via", "batch-api", "--provider", "openai", "--base-url", server.base_url,
        "--model", "gpt-4o-mini", "--poll", "0.01",
    ]  # fmt: skip


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["batch", *args], env=ENV)


def report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


def journal(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "batch" / "journal.json").read_text(encoding="utf-8"))
    return data


def test_twenty_briefs_through_the_batch_api_despite_failed_lines_an_expired_batch_and_429s(
    tmp_path: Path, batch_server: BatchServer
) -> None:
    batch_server.fail_every = 37  # a few lines of every batch fail
    batch_server.expire = {1}  # the first batch expires half done
    batch_server.rate_limit_every = 7  # every 7th API call is refused with 429
    briefs = write_briefs(tmp_path / "briefs", 20)
    out = tmp_path / "out"
    result = invoke(str(briefs), "-o", str(out), *api_args(batch_server))
    assert result.exit_code == 0, result.output
    assert "a whole spec takes at least 2 round trip(s)" in result.output
    data = report(out)
    assert data["totals"]["ok"] == 20 and data["totals"]["failed"] == 0
    for index, entry in enumerate(sorted(data["briefs"], key=lambda e: e["id"])):
        assert entry["status"] == "ok" and entry["sections"] == 18 and entry["needs_attention"] == []
        spec = Path(entry["output"]).read_text(encoding="utf-8")
        # every section's answer was generated for this brief's own request, none for another's
        assert spec.count(title(index)) >= 18, entry["id"]
        others = [title(i) for i in range(20) if i != index]
        assert not any(other in spec for other in others), entry["id"]
    batch = data["batch"]
    # wave 1: the 13 sections that need only the brief; wave 2: the 5 that wait for others and the
    # lines of wave 1 without an answer; wave 3 and on: lines of later waves without one
    assert batch["round_trips_at_least"] == 2 and batch["waves"] >= 3
    assert batch["lines_without_answer"] > 0 and batch["requests"] == 360 + batch["lines_without_answer"]
    assert batch["answers"] == 360 and len(batch["batches"]) == batch["waves"] == len(batch_server.created)
    assert batch_server.rate_limited > 0
    assert batch_server.batches[batch_server.created[0]]["status"] == "expired"
    cost, live = data["totals"]["cost"], data["totals"]["live_cost"]
    assert cost["usd"] == pytest.approx(live["usd"] / 2) and "batch price (50% off)" in cost["basis"]
    assert "live: $" in result.output


def test_a_rejected_answer_is_asked_again_in_the_next_wave_then_marked(
    tmp_path: Path, batch_server: BatchServer
) -> None:
    batch_server.replies = {"Context": json.dumps({"description": 12345})}  # the ADR's first section
    briefs = write_briefs(tmp_path / "briefs", 2)
    out = tmp_path / "out"
    result = invoke(str(briefs), "-o", str(out), "--template", "adr", *api_args(batch_server))
    assert result.exit_code == 3, result.output
    data = report(out)
    assert all(e["needs_attention"] == ["Context"] for e in data["briefs"])
    # wave 1: Context; wave 2: its re-ask (attempt 2, hotter); wave 3: the sections waiting for it
    assert data["batch"]["waves"] == 3
    asked = [(line["custom_id"].split(".")[1:], line["body"]["temperature"]) for line in batch_server.lines]
    assert (["context", "2"], pytest.approx(0.45)) in asked
    assert "[NEEDS ATTENTION" in Path(data["briefs"][0]["output"]).read_text(encoding="utf-8")


def kill_while_polling(
    tmp_path: Path, server: BatchServer, briefs: Path, out: Path, signum: int = signal.SIGKILL
) -> subprocess.Popen[bytes]:
    """Start the batch in a process of its own and send it ``signum`` once its first batch has been polled."""
    server.hold = True
    env = {**os.environ, **ENV}
    command = [sys.executable, "-m", "agent", "batch", str(briefs), "-o", str(out), "--template", "adr"]
    process = subprocess.Popen([*command, *api_args(server)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (server.created and server.polls.get(server.created[0], 0) >= 2):
            assert process.poll() is None and time.monotonic() < deadline, "the batch never polled"
            time.sleep(0.05)
    finally:
        process.send_signal(signum)
        process.wait(timeout=30)
    return process


def test_a_run_killed_while_polling_resumes_without_submitting_anything_twice(
    tmp_path: Path, batch_server: BatchServer
) -> None:
    briefs = write_briefs(tmp_path / "briefs", 3)
    out = tmp_path / "out"
    kill_while_polling(tmp_path, batch_server, briefs, out)
    assert journal(out)["submissions"][0]["batch_id"] == "batch_1" and not (out / "report.json").exists()
    batch_server.hold = False
    result = invoke(str(briefs), "-o", str(out), "--template", "adr", *api_args(batch_server))
    assert result.exit_code == 0, result.output
    assert report(out)["totals"]["ok"] == 3
    # two waves, each uploaded and submitted once: the killed run's batch was picked up, not redone
    assert batch_server.created == ["batch_1", "batch_2"] and len(batch_server.uploads) == 2
    ids = [line["custom_id"] for line in batch_server.lines]
    assert len(ids) == len(set(ids)) == 18


def test_sigterm_while_polling_stops_cleanly_and_the_batch_is_collected_later(
    tmp_path: Path, batch_server: BatchServer
) -> None:
    briefs = write_briefs(tmp_path / "briefs", 2)
    out = tmp_path / "out"
    process = kill_while_polling(tmp_path, batch_server, briefs, out, signal.SIGTERM)
    assert process.returncode == 130
    assert process.stderr is not None and b"The batches keep running" in process.stderr.read()
    assert {e["status"] for e in report(out)["briefs"]} == {"interrupted"}
    batch_server.hold = False
    result = invoke(str(briefs), "-o", str(out), "--template", "adr", *api_args(batch_server))
    assert result.exit_code == 0, result.output
    assert batch_server.created == ["batch_1", "batch_2"] and report(out)["totals"]["ok"] == 2


def test_status_shows_the_running_batch_and_cancel_stops_it(
    tmp_path: Path, batch_server: BatchServer
) -> None:
    briefs = write_briefs(tmp_path / "briefs", 2)
    out = tmp_path / "out"
    kill_while_polling(tmp_path, batch_server, briefs, out)
    flags = ["--provider", "openai", "--base-url", batch_server.base_url]
    shown = invoke("-o", str(out), "--status", "--json", *flags)
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.stdout)
    assert status["via"] == "batch-api" and status["submissions"][0]["status"] == "in_progress"
    cancelled = invoke("-o", str(out), "--cancel", *flags)
    assert cancelled.exit_code == 0, cancelled.output
    assert "batch_1 cancelled" in cancelled.output
    assert batch_server.batches["batch_1"]["status"] == "cancelled"
    assert journal(out)["submissions"][0]["status"] == "cancelled"


def answer_file(requests: Path, results: Path) -> None:
    """What `vllm run-batch` does with a request file, answered as the fake model server answers the same
    request live (the results in reverse order)."""
    lines = [json.loads(line) for line in requests.read_text(encoding="utf-8").splitlines()]
    out = []
    for number, line in enumerate(lines):
        completion = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "model": "fault-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": valid_content(line["body"])}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }  # fmt: skip
        response = {"status_code": 200, "request_id": f"req-{number}", "body": completion}
        out.append(
            {"id": f"vllm-{number}", "custom_id": line["custom_id"], "response": response, "error": None}
        )
    results.write_text("".join(json.dumps(r) + "\n" for r in reversed(out)), encoding="utf-8")


def test_jsonl_and_ingest_write_the_same_specs_as_the_live_batch(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    briefs = write_briefs(tmp_path / "briefs", 3)
    common = ["--template", "adr", "--base-url", fault_server.base_url, "--model", "fault-model"]
    live = invoke(str(briefs), "-o", str(tmp_path / "live"), *common)
    assert live.exit_code == 0, live.output
    out = tmp_path / "files"
    result = invoke(str(briefs), "-o", str(out), "--via", "jsonl", *common)
    rounds = 0
    while "requests written to" in result.output:
        assert result.exit_code == 0, result.output
        assert {e["status"] for e in report(out)["briefs"]} == {"waiting"}
        waiting = [s for s in journal(out)["submissions"] if not s["collected"]]
        requests = out / "batch" / waiting[0]["requests_file"]
        answer_file(requests, tmp_path / f"results-{rounds}.jsonl")
        result = invoke(
            str(briefs), "-o", str(out), *common, "--ingest", str(tmp_path / f"results-{rounds}.jsonl")
        )
        rounds += 1
    assert result.exit_code == 0, result.output
    assert rounds == 2 and report(out)["totals"]["ok"] == 3
    for name in ("feature-00.md", "feature-01.md", "feature-02.md"):
        assert (out / name).read_text(encoding="utf-8") == (tmp_path / "live" / name).read_text(
            encoding="utf-8"
        )
    # the request lines carry the live requests' messages and schema, byte for byte
    live_bodies = [r.body for r in fault_server.chat_requests()]
    sent = [json.loads(line)["body"] for path in sorted((out / "batch").glob("*.requests.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]  # fmt: skip
    assert len(sent) == len(live_bodies) == 18
    key = lambda body: json.dumps([body["messages"], body["response_format"]], sort_keys=True)  # noqa: E731
    assert sorted(map(key, sent)) == sorted(map(key, live_bodies))


def test_bad_uses_are_refused_with_a_reason_and_nothing_changed(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    briefs = write_briefs(tmp_path / "briefs", 1)
    out = tmp_path / "out"
    local = invoke(str(briefs), "-o", str(out), "--via", "batch-api")
    assert local.exit_code == 2 and "embedded model has none" in local.output
    nothing = invoke(str(briefs), "-o", str(out), "--ingest", str(briefs / "feature-00.md"), "--model", "m")
    assert nothing.exit_code == 2 and "nothing to --ingest" in nothing.output
    no_journal = invoke("-o", str(out), "--status")
    assert no_journal.exit_code == 2 and "No batch was sent in waves" in no_journal.output
    no_model = invoke(str(briefs), "-o", str(out), "--via", "jsonl")
    assert no_model.exit_code == 2 and "--model" in no_model.output
    written = invoke(str(briefs), "-o", str(out), "--via", "jsonl", "--model", "m")
    assert written.exit_code == 0, written.output
    before = (out / "batch" / "journal.json").read_text(encoding="utf-8")
    stranger = tmp_path / "other.jsonl"
    stranger.write_text(
        json.dumps({"custom_id": "0123456789ab.context.1", "response": None, "error": None}) + "\n"
    )
    foreign = invoke(str(briefs), "-o", str(out), "--model", "m", "--ingest", str(stranger))
    assert foreign.exit_code == 2 and "answers none of the requests of wave 1" in foreign.output
    assert (out / "batch" / "journal.json").read_text(encoding="utf-8") == before
    forgot = invoke("-o", str(out), "--cancel")
    assert forgot.exit_code == 0 and "forgotten" in forgot.output


def test_a_line_that_never_gets_an_answer_is_marked_with_the_reason(
    tmp_path: Path, batch_server: BatchServer
) -> None:
    batch_server.fail_every = 1  # every line fails
    briefs = write_briefs(tmp_path / "briefs", 1)
    out = tmp_path / "out"
    result = invoke(str(briefs), "-o", str(out), "--template", "adr", *api_args(batch_server))
    assert result.exit_code == 3, result.output
    entry = report(out)["briefs"][0]
    assert entry["status"] == "attention" and len(entry["needs_attention"]) == 6
    spec = Path(entry["output"]).read_text(encoding="utf-8")
    assert "the batch returned no answer 3 time(s): HTTP 500: internal error" in spec
    # the first section three times, then the five waiting for it three times each, in three waves
    assert report(out)["batch"]["waves"] == 6 and len(batch_server.lines) == 18


def ingest_until_done(out: Path, tmp_path: Path, args: list[str]) -> tuple[Any, int]:
    """Answer each wave's request file and --ingest it until no wave waits; the last run and the rounds."""
    result, rounds = None, 0
    while not rounds or "--ingest" in result.output:
        waiting = [s for s in journal(out)["submissions"] if not s["collected"]]
        results = tmp_path / f"results-{rounds}.jsonl"
        answer_file(out / "batch" / waiting[0]["requests_file"], results)
        result = invoke(*args, "--ingest", str(results))
        assert result.exit_code in (0, 3), result.output
        rounds += 1
    return result, rounds


def test_a_brief_changed_while_its_wave_was_out_is_asked_again_as_it_now_reads(tmp_path: Path) -> None:
    briefs = write_briefs(tmp_path / "briefs", 2)
    out = tmp_path / "out"
    args = [str(briefs), "-o", str(out), "--template", "adr", "--model", "m"]
    assert invoke(*args, "--via", "jsonl").exit_code == 0
    forced = invoke(*args, "--via", "jsonl", "--force")
    assert forced.exit_code == 2 and "still waiting for their results" in forced.output
    live = invoke(*args)
    assert live.exit_code == 2 and "would pay for its requests twice" in live.output
    (briefs / "feature-01.md").write_text(f"# Renamedfeature 01\n\n{BODY.format(what='renaming')}\n")
    result, rounds = ingest_until_done(out, tmp_path, args)
    assert result.exit_code == 0, result.output
    assert rounds == 3  # wave 2 holds the changed brief's first section again, as it now reads
    wave_2 = next(s for s in journal(out)["submissions"] if s["wave"] == 2)["custom_ids"]
    assert f"{brief_key('feature-01')}.context.1" in wave_2  # a first attempt, not a re-ask
    assert {e["id"]: e["retries"] for e in report(out)["briefs"]} == {"feature-00": 0, "feature-01": 0}
    spec = (out / "feature-01.md").read_text(encoding="utf-8")
    assert spec.count("Renamedfeature 01") >= 6 and title(1) not in spec
    assert title(0) in (out / "feature-00.md").read_text(encoding="utf-8")


def test_a_refusal_that_quotes_the_key_never_shows_it(tmp_path: Path, batch_server: BatchServer) -> None:
    batch_server.echo_auth = True
    briefs = write_briefs(tmp_path / "briefs", 1)
    out = tmp_path / "out"
    result = invoke(str(briefs), "-o", str(out), "--template", "adr", *api_args(batch_server))
    assert result.exit_code == 1, result.output
    assert "HTTP 403" in result.output and ENV["OPENAI_API_KEY"] not in result.output
    for path in [out / "report.json", *(out / "batch").iterdir()]:
        assert ENV["OPENAI_API_KEY"] not in path.read_text(encoding="utf-8"), path
    assert report(out)["briefs"][0]["status"] == "failed"
