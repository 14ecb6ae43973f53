"""A batch resumes a brief only when its spec would be drafted the same way: the re-ask policy included.

Without ``max_retries`` the policy comes from the served model's size (agent.drafting.policy), which the
settings alone do not show: the same model name and settings may be served by a 135M or a 7B file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers.fault_server import MODEL_ID, FaultServer
from pydantic import SecretStr

from agent.drafting.batch import BatchJob, BatchReport, run_batch
from agent.drafting.batch_inputs import BatchItem
from agent.drafting.brief import parse_brief
from agent.drafting.drafter import DraftOptions
from agent.llm.providers import Endpoint, ModelSettings, Provider
from agent.models.size import FROM_TENSORS, ModelSize
from agent.specdoc.template_resolver import load_template

BODY = (
    "Users need {what}. The feature must work for teams of every size, keep an audit trail of changes, "
    "and respect the permissions of each workspace. Support staff should be able to see what happened."
)


def _run(server: FaultServer, out: Path, params: int, options: DraftOptions | None = None) -> BatchReport:
    """One batch of two briefs against ``server``, its model ``params`` big as its GGUF would say."""

    @contextmanager
    def opener(settings: ModelSettings) -> Iterator[Endpoint]:
        yield Endpoint(
            Provider.compatible,
            server.base_url,
            MODEL_ID,
            SecretStr("no-key-needed"),
            size=ModelSize(params, FROM_TENSORS),
        )

    items = [
        BatchItem(name, parse_brief(f"# {name.title()}\n\n{BODY.format(what=name)}\n", source=f"{name}.md"))
        for name in ("alpha", "beta")
    ]
    settings = ModelSettings(provider=Provider.compatible, model=MODEL_ID, base_url=(server.base_url,))
    job = BatchJob(items, out, load_template("adr"), settings, options or DraftOptions(), jobs=2)
    return run_batch(job, endpoint_opener=opener)


def _statuses(report: BatchReport) -> set[str]:
    return {str(record.status) for record in report.records}


def test_the_same_model_and_policy_resume(tmp_path: Path, fault_server: FaultServer) -> None:
    assert _statuses(_run(fault_server, tmp_path, 135_000_000)) == {"ok"}
    answered = len(fault_server.chat_requests())
    assert _statuses(_run(fault_server, tmp_path, 135_000_000)) == {"skipped"}
    assert len(fault_server.chat_requests()) == answered


def test_another_policy_redrafts(tmp_path: Path, fault_server: FaultServer) -> None:
    """A 135M model gets the tiny tier (one attempt), a 7B one the large tier: specs of one batch must not
    mix them, so the second run drafts both briefs again."""
    assert _statuses(_run(fault_server, tmp_path, 135_000_000)) == {"ok"}
    second = _run(fault_server, tmp_path, 7_000_000_000)
    assert _statuses(second) == {"ok"}
    assert len({record.inputs_sha256 for record in second.records}) == 2


def test_max_retries_set_still_follows_the_tier(tmp_path: Path, fault_server: FaultServer) -> None:
    """--max-retries fixes the attempts; the rest of the policy (the example, list caps) still follows
    the size."""
    options = DraftOptions(max_retries=1)
    assert _statuses(_run(fault_server, tmp_path, 135_000_000, options)) == {"ok"}
    assert _statuses(_run(fault_server, tmp_path, 7_000_000_000, options)) == {"ok"}
    assert _statuses(_run(fault_server, tmp_path, 7_000_000_000, options)) == {"skipped"}


def test_states_read_as_before_in_the_report(tmp_path: Path, fault_server: FaultServer) -> None:
    """Brief and spec states are enums in the code and the same words in report.json."""
    import json

    _run(fault_server, tmp_path, 135_000_000)
    data = json.loads(json.dumps(_run(fault_server, tmp_path, 135_000_000).as_dict()))
    assert {entry["status"] for entry in data["briefs"]} == {"skipped"}
    assert {entry["spec_status"] for entry in data["briefs"]} == {"ok"}
    assert {key: data["totals"][key] for key in ("ok", "attention", "failed", "skipped", "interrupted")} == {
        "ok": 0,
        "attention": 0,
        "failed": 0,
        "skipped": 2,
        "interrupted": 0,
    }
