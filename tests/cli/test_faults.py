"""specdraft against a misbehaving model server: faults retried, bounded, reported, nothing half-written."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest
from helpers.fault_server import FAULT_KINDS, FaultServer, answer_for
from typer.testing import CliRunner

from agent.cli.main import app

TEMPLATE = """# [FEATURE_NAME]

## Summary
[What the feature does and for whom]

## Risks
- [A risk and how it is handled]
"""
BRIEF = "# CSV export\n\nUsers export their invoices as CSV files from the billing page, by date range.\n"
ENV = {"COLUMNS": "120", "OPENAI_API_KEY": ""}

# What the user is told when the transport's retries are spent, per fault.
TRANSPORT_FAULTS = {
    "500": "HTTP 500",
    "503": "HTTP 503",
    "429": "HTTP 429",
    "slow": "did not answer in time",
    "drop": "Cannot reach the model server",
}
# Faults in the answer itself: re-asked by the drafter.
ANSWER_FAULTS = {
    "truncated": "malformed reply",
    "empty_choices": "no choices",
    "length": "cut off at the length limit",
    "invalid": "Input should be a valid string",
    "huge": "Extra inputs are not permitted",
}


# Faults only the overall per-call deadline catches: every read is quick, the answer never ends.
DEADLINE_FAULTS = {"drip": "did not answer in time"}


def test_every_fault_kind_is_covered() -> None:
    assert set(TRANSPORT_FAULTS) | set(ANSWER_FAULTS) | set(DEADLINE_FAULTS) == set(FAULT_KINDS)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "brief.md").write_text(BRIEF)
    (tmp_path / "small.md").write_text(TEMPLATE)
    return {"brief": tmp_path / "brief.md", "template": tmp_path / "small.md", "out": tmp_path / "spec.md"}


def _draft(server: FaultServer, files: dict[str, Path], *extra: str) -> tuple[int, str, str, float]:
    args = [
        "draft",
        str(files["brief"]),
        "-o",
        str(files["out"]),
        "--template",
        str(files["template"]),
        "--base-url",
        server.base_url,
        "--model",
        "fault-model",
        "--timeout",
        "1",
        "--max-retries",
        "1",
        "--parallel",
        "1",
        *extra,
    ]
    started = time.monotonic()
    result = CliRunner().invoke(app, args, env=ENV)
    return result.exit_code, result.stdout, result.stderr, time.monotonic() - started


def _no_leftovers(files: dict[str, Path]) -> None:
    directory = files["out"].parent
    assert not files["out"].exists(), "a failed draft must not write the spec"
    assert not list(directory.glob(".spec.md.*")), "no temporary file may be left behind"


@pytest.mark.parametrize("fault", sorted(TRANSPORT_FAULTS))
def test_a_transient_fault_is_retried_and_the_spec_written(
    fault_server: FaultServer, files: dict[str, Path], fault: str
) -> None:
    fault_server.retry_after = 0.2
    fault_server.slow_seconds = 3
    fault_server.plan(fault)
    code, _, err, _ = _draft(fault_server, files)
    assert code == 0, err
    actions = [r.action for r in fault_server.chat_requests()]
    assert actions[0] == fault and actions[1] == "valid", actions
    text = files["out"].read_text()
    assert "## Summary" in text and "## Risks" in text


@pytest.mark.parametrize("fault", sorted(set(TRANSPORT_FAULTS) - {"slow"}))
def test_a_persistent_fault_fails_naming_section_and_fault(
    fault_server: FaultServer, files: dict[str, Path], fault: str
) -> None:
    fault_server.retry_after = 0.2
    fault_server.plan(default=fault)
    code, _, err, seconds = _draft(fault_server, files, "--timeout", "10")
    assert code == 1, err
    assert "Error: Section 'Summary'" in err
    assert TRANSPORT_FAULTS[fault] in err
    assert "Traceback" not in err
    _no_leftovers(files)
    # our own bounded transport retries (ModelSettings.http_retries = 3): four requests, then give up
    assert len(fault_server.chat_requests()) == 4
    # backoff 0.5 + 1 + 2 s, all inside the one 10 s deadline of the call
    assert seconds < 10


def test_transport_retries_stay_inside_the_one_deadline(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    fault_server.plan(default="503")
    code, _, err, seconds = _draft(fault_server, files, "--timeout", "1.2")
    assert code == 1, err
    assert "HTTP 503" in err
    # at 0 s and 0.5 s; the next pause (1 s) would pass the 1.2 s deadline, so no third request
    assert len(fault_server.chat_requests()) == 2
    assert seconds < 1.2 + 2


def test_a_stalled_call_costs_one_timeout_and_is_never_resent(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    fault_server.slow_seconds = 30
    fault_server.plan(default="slow")
    code, _, err, seconds = _draft(fault_server, files)
    assert code == 3, err
    # two sections x two attempts (--max-retries 1), each one request: no hidden SDK re-send
    assert len(fault_server.chat_requests()) == 4
    assert seconds < 4 * 1 + 3
    text = files["out"].read_text()
    assert text.count("[NEEDS ATTENTION: timed out after 2 attempt(s)") == 2
    assert "did not answer within the timeout" in err


def test_a_stalled_call_with_strict_fails_and_writes_nothing(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    fault_server.slow_seconds = 30
    fault_server.plan(default="slow")
    code, _, err, _ = _draft(fault_server, files, "--strict")
    assert code == 1, err
    assert "did not answer in time" in err and "--timeout" in err
    assert len(fault_server.chat_requests()) == 1
    _no_leftovers(files)


def test_retry_after_is_honoured(fault_server: FaultServer, files: dict[str, Path]) -> None:
    fault_server.retry_after = 2
    fault_server.plan("429")
    code, _, err, _ = _draft(fault_server, files, "--timeout", "10")
    assert code == 0, err
    first, second = fault_server.chat_requests()[:2]
    # the SDK's own first backoff is about 0.5 s; the server asked for 2 s
    assert second.at - first.at >= 1.9


def test_backoff_grows_between_attempts(fault_server: FaultServer, files: dict[str, Path]) -> None:
    fault_server.plan("503", "503", "503")
    code, _, err, _ = _draft(fault_server, files, "--timeout", "10")
    assert code == 0, err
    times = [r.at for r in fault_server.chat_requests()[:4]]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap > 0.1 for gap in gaps), gaps
    assert gaps[2] > gaps[0], f"backoff should grow: {gaps}"


@pytest.mark.parametrize("fault", sorted(ANSWER_FAULTS))
def test_a_bad_answer_is_asked_again(fault_server: FaultServer, files: dict[str, Path], fault: str) -> None:
    fault_server.huge_bytes = 2_000_000
    fault_server.plan(fault)
    code, _, err, _ = _draft(fault_server, files)
    assert code == 0, err
    assert [r.action for r in fault_server.chat_requests()][:2] == [fault, "valid"]
    assert files["out"].exists()


@pytest.mark.parametrize("fault", sorted(ANSWER_FAULTS))
def test_a_bad_answer_every_time_names_section_and_fault(
    fault_server: FaultServer, files: dict[str, Path], fault: str
) -> None:
    fault_server.huge_bytes = 2_000_000
    fault_server.plan(default=fault)
    code, _, err, _ = _draft(fault_server, files, "--strict")
    assert code == 1, err
    assert "Section 'Summary' failed validation after 2 attempt(s)" in err
    assert ANSWER_FAULTS[fault] in err
    assert "Traceback" not in err
    assert len(err) < 4000, "the last output is shown shortened, not megabytes of it"
    assert len(fault_server.chat_requests()) == 2  # --max-retries 1: one re-ask, then stop
    _no_leftovers(files)


def test_schema_violation_is_reasked_with_the_errors(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    fault_server.plan("invalid")
    code, _, err, _ = _draft(fault_server, files)
    assert code == 0, err
    first, second = fault_server.chat_requests()[:2]
    assert first.action == "invalid"
    before = json.dumps(first.body["messages"])
    after = json.dumps(second.body["messages"])
    assert "Input should be a valid string" not in before
    assert "Input should be a valid string" in after, "the re-ask must quote the validation errors"
    assert "12345" in after, "the re-ask shows the rejected answer"


def test_keep_going_marks_the_failed_section_and_exits_3(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    # Summary is drafted first (Risks depends on nothing, but --parallel 1 keeps the order)
    fault_server.plan("invalid", "invalid")
    code, _, err, _ = _draft(fault_server, files, "--keep-going")
    assert code == 3, err
    text = files["out"].read_text()
    assert text.count("[NEEDS ATTENTION:") == 1
    assert "Needs attention: Summary" in err


def test_a_section_that_never_validates_is_marked_by_default(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    fault_server.plan("invalid", "invalid")
    code, _, err, _ = _draft(fault_server, files)
    assert code == 3, err
    text = files["out"].read_text()
    assert text.count("[NEEDS ATTENTION: failed validation after 2 attempt(s)") == 1
    assert "## Risks" in text and "Needs attention: Summary" in err
    # usage is counted for the failed section too: 2 for Summary, 1 for Risks
    assert "(3 model calls, 1 retries" in err


def test_strict_fails_fast_and_writes_nothing(fault_server: FaultServer, files: dict[str, Path]) -> None:
    fault_server.plan("invalid", "invalid")
    code, _, err, _ = _draft(fault_server, files, "--strict")
    assert code == 1, err
    assert "Section 'Summary' failed validation after 2 attempt(s)" in err
    assert "Spent before the failure: 2 model calls" in err
    _no_leftovers(files)


def test_total_time_is_bounded_with_a_server_that_never_answers(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    fault_server.slow_seconds = 60
    fault_server.plan(default="slow")
    code, _, err, seconds = _draft(fault_server, files, "--strict")
    assert code == 1
    assert "did not answer in time" in err and "--timeout" in err
    assert seconds < 20, f"took {seconds:.1f} s"
    _no_leftovers(files)


def test_generated_answers_validate_for_every_builtin_template() -> None:
    """The server's valid answers are valid for specdraft, or the tests above would prove nothing."""
    from agent.drafting.reask import validate_answer
    from agent.specdoc.schemas.generic import with_open_points
    from agent.specdoc.template_resolver import load_template

    for name in ("tech-spec", "adr"):
        template = load_template(name)
        for index, section in enumerate(template.sections):
            model = with_open_points(section.model, require_questions=True) if index == 0 else section.model
            answer = json.dumps(answer_for(model.model_json_schema()))
            data, problems = validate_answer(answer, model, section)
            assert data is not None, (name, section.key, problems)


@pytest.mark.parametrize("fault", ["500", "invalid", "truncated"])
def test_batch_goes_on_and_reports_the_failed_brief(
    fault_server: FaultServer, tmp_path: Path, fault: str
) -> None:
    briefs = tmp_path / "briefs"
    briefs.mkdir()
    (briefs / "a.md").write_text(BRIEF)
    (briefs / "b.md").write_text(BRIEF.replace("export", "import"))
    (tmp_path / "small.md").write_text(TEMPLATE)
    fault_server.retry_after = 0.1
    attempts = 4 if fault in TRANSPORT_FAULTS else 2  # our 3 transport retries, or one re-ask
    fault_server.plan(*[fault] * attempts)  # every attempt for brief a's first section fails; b is drafted
    args = ["batch", str(briefs), "-o", str(tmp_path / "specs"), "--jobs", "1", "--parallel", "1",
            "--template", str(tmp_path / "small.md"), "--base-url", fault_server.base_url,
            "--model", "fault-model", "--timeout", "10", "--max-retries", "1"]  # fmt: skip
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 3, result.stderr
    report = json.loads((tmp_path / "specs" / "report.json").read_text())
    status = {b["id"]: b for b in report["briefs"]}
    assert status["b"]["status"] == "ok"
    if fault in TRANSPORT_FAULTS:  # the server is gone for brief a: no spec could be written
        assert status["a"]["status"] == "failed"
        assert "Section 'Summary'" in status["a"]["error"]
        assert sorted(p.name for p in (tmp_path / "specs").iterdir()) == ["b.md", "report.json"]
    else:  # a section that never validates is marked; the brief's spec is still written
        assert status["a"]["status"] == "attention" and status["a"]["needs_attention"] == ["Summary"]
        assert "[NEEDS ATTENTION:" in (tmp_path / "specs" / "a.md").read_text()
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("fault", ["500", "drop", "truncated", "empty_choices", "invalid"])
def test_chat_survives_a_fault_and_leaves_the_spec_alone(
    fault_server: FaultServer, tmp_path: Path, fault: str
) -> None:
    brief, spec = tmp_path / "brief.md", tmp_path / "spec.md"
    brief.write_text(BRIEF)
    common = [
        "--base-url",
        fault_server.base_url,
        "--model",
        "fault-model",
        "--timeout",
        "2",
        "--max-retries",
        "1",
    ]
    drafted = CliRunner().invoke(
        app, ["draft", str(brief), "-o", str(spec), "--template", "adr", *common], env=ENV
    )
    assert drafted.exit_code == 0, drafted.stderr
    before = spec.read_text()
    fault_server.retry_after = 0.1
    fault_server.plan(default=fault)
    result = CliRunner().invoke(
        app,
        ["chat", str(spec), "--yes", *common],
        input="Add a risk about losing rows during export\n",
        env=ENV,
    )
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert spec.read_text() == before, "a failed revision never touches the spec"
    if fault in TRANSPORT_FAULTS:
        assert "Error: " in result.stdout and TRANSPORT_FAULTS[fault] in result.stdout


def test_a_dripping_answer_is_bounded_by_the_call_deadline(
    fault_server: FaultServer, files: dict[str, Path]
) -> None:
    """A body sent a byte every half second never trips httpx's per-read timeout; the deadline stops it."""
    fault_server.drip_seconds = 0.5  # a ~700-byte answer would take about six minutes
    fault_server.plan(default="drip")
    code, _, err, seconds = _draft(fault_server, files, "--strict")
    assert code == 1, err
    assert DEADLINE_FAULTS["drip"] in err, err
    # one deadline per call (--timeout 1), retries included: the first section gives up within seconds
    assert seconds < 10, f"took {seconds:.1f} s"
    _no_leftovers(files)


def test_the_deadline_cancels_one_call_quickly(fault_server: FaultServer) -> None:
    """The same at the client: one call with no transport retries ends within its --timeout."""
    import asyncio

    from pydantic import SecretStr

    from agent.errors import ModelTimeoutError
    from agent.llm.client import ChatClient
    from agent.llm.providers import Endpoint, ModelSettings, Provider

    fault_server.drip_seconds = 0.2
    fault_server.plan(default="drip")
    endpoint = Endpoint(Provider.compatible, fault_server.base_url, "fault-model", SecretStr("none"))
    settings = ModelSettings(provider=Provider.compatible, timeout=1, http_retries=0, use_cache=False)
    schema = {
        "title": "Answer",
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    }

    async def call() -> None:
        client = ChatClient(endpoint, settings)
        try:
            await client.complete_json(
                [{"role": "user", "content": "hi"}], schema, max_tokens=50, temperature=0
            )
        finally:
            await client.aclose()

    started = time.monotonic()
    with pytest.raises(ModelTimeoutError, match="did not answer in time"):
        asyncio.run(call())
    assert time.monotonic() - started < 5
