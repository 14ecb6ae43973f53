"""``specdraft batch --via batch-api|jsonl``: the waves (agent.drafting.batch_waves) over a transport.

* ``batch-api``: each wave's request file is uploaded to ``/v1/files`` and run as a batch on
  ``/v1/batches`` of the endpoint the provider settings name (agent.llm.batch_api), polled until it
  ends, its result and error files downloaded beside the journal.
* ``jsonl``: the wave's request file is written and the run stops; ``--ingest RESULTS.jsonl`` (what
  ``vllm run-batch -i REQUESTS -o RESULTS`` wrote) continues it.

:func:`run_via` plans, skips and reports like the live batch (agent.drafting.batch.run_batch);
:func:`batch_status` and :func:`cancel_batches` read and act on the journal.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from agent.drafting.batch import (
    BatchJob,
    BatchObserver,
    BatchReport,
    BriefRecord,
    BriefStatus,
    SilentObserver,
    digests,
    load_previous,
    plan,
    skip_unchanged,
)
from agent.drafting.batch_journal import (
    JOURNAL_NAME,
    Journal,
    Submission,
    Via,
    journal_dir,
    load_journal,
    save_journal,
)
from agent.drafting.batch_waves import WaveRun, offline_endpoint, round_trips
from agent.errors import ConfigError, InputError, ModelError, TerminationRequested
from agent.io.atomic import atomic_write_text
from agent.io.redact import redact
from agent.io.textinput import read_user_text
from agent.llm.batch_api import BatchApi, BatchState, LineResult, brief_key, parse_results
from agent.llm.providers import Endpoint, ModelSettings, Provider, open_endpoint

#: the largest results file --ingest reads (50,000 answers of a few kilobytes each)
MAX_RESULTS_BYTES = 1_000_000_000
STOPPED_NOTE = (
    "Stopped. The batches keep running: run the same command again to collect them "
    "(--status shows them, --cancel stops them)."
)


class ApiTransport:
    """Request files through ``/v1/files`` and ``/v1/batches``; results downloaded when a batch ends."""

    def __init__(self, api: BatchApi, folder: Path, observer: BatchObserver) -> None:
        self.api, self.folder, self.observer = api, folder, observer

    def send(self, submission: Submission, path: Path, save: Callable[[], None]) -> None:
        if submission.input_file_id is None:
            submission.input_file_id = self.api.upload(path)
            submission.status = "uploaded"
            save()
        if submission.batch_id is None:
            # a batch submitted just before a crash is found by its input file, not paid for twice
            state = self.api.find(submission.input_file_id) or self.api.submit(
                submission.input_file_id, {"specdraft": f"wave {submission.wave} part {submission.part}"}
            )
            submission.batch_id, submission.status = state.id, state.status
            save()
            self.observer.note(
                f"Wave {submission.wave}: batch {state.id} submitted ({len(submission.custom_ids)} requests)"
            )

    def collect(self, submission: Submission, save: Callable[[], None]) -> dict[str, LineResult] | None:
        if submission.batch_id is None:
            self.send(submission, self.folder / submission.requests_file, save)
        assert submission.batch_id is not None

        def polled(state: BatchState) -> None:
            if state.status != submission.status:
                submission.status = state.status
                save()
                self.observer.note(
                    f"Wave {submission.wave}: batch {state.id} {state.status} "
                    f"({state.completed} of {state.total} done, {state.failed} failed)"
                )

        state = self.api.wait(submission.batch_id, polled)
        results: dict[str, LineResult] = {}
        for file_id, kind in ((state.error_file_id, "errors"), (state.output_file_id, "results")):
            if file_id:  # answers last: a line in both files keeps its answer
                name = submission.requests_file.replace(".requests.", f".{kind}.")
                text = self.api.download(file_id)
                atomic_write_text(self.folder / name, text)
                parsed, problems = parse_results(text, name)
                results.update(parsed)
                for problem in problems[:5]:
                    self.observer.note(f"skipped {problem}")
        reason = f"batch {state.status}" + (f": {state.errors}" if state.errors else "")
        for custom_id in submission.custom_ids:
            results.setdefault(custom_id, LineResult(None, f"no result ({reason})"))
        return results


class FileTransport:
    """Request files written for ``vllm run-batch`` (or any tool that runs the same format); results
    read from ``--ingest``."""

    def __init__(self, folder: Path, ingest: Path | None, model: str, observer: BatchObserver) -> None:
        self.folder, self.ingest, self.model, self.observer = folder, ingest, model, observer
        self.parsed: dict[str, LineResult] | None = None
        #: the wave the results file answers (the first one waiting); a later wave waits for the next run
        self.wave: int | None = None

    def send(self, submission: Submission, path: Path, save: Callable[[], None]) -> None:
        self.observer.note(
            f"Wave {submission.wave}: {len(submission.custom_ids)} requests written to {path}. Run them, "
            f"e.g. `vllm run-batch -i {path} -o results.jsonl --model {self.model}`, then this command "
            "again with --ingest results.jsonl."
        )

    def collect(self, submission: Submission, save: Callable[[], None]) -> dict[str, LineResult] | None:
        if self.ingest is None:
            self.observer.note(
                f"Wave {submission.wave} waits for the results of {self.folder / submission.requests_file}: "
                "run this command again with --ingest RESULTS.jsonl."
            )
            return None
        if self.wave not in (None, submission.wave):
            return None
        if self.parsed is None:
            self.parsed = self._read(submission)
            self.wave = submission.wave
        submission.status = f"ingested from {self.ingest}"
        return {c: self.parsed[c] for c in submission.custom_ids if c in self.parsed}

    def _read(self, submission: Submission) -> dict[str, LineResult]:
        """The results file, which must answer requests of the wave waiting (else nothing changes)."""
        assert self.ingest is not None
        text, label = read_user_text(self.ingest, what="Results file", max_bytes=MAX_RESULTS_BYTES)
        parsed, problems = parse_results(text, label)
        for problem in problems[:5]:
            self.observer.note(f"skipped {problem}")
        if not set(parsed) & set(submission.custom_ids):
            raise InputError(
                f"'{label}' answers none of the requests of wave {submission.wave} "
                f"({self.folder / submission.requests_file}).",
                hint="Give the results file written for that request file; nothing was changed.",
            )
        name = submission.requests_file.replace(".requests.", ".results.")
        atomic_write_text(self.folder / name, text)
        return parsed


@contextlib.contextmanager
def wave_endpoint(
    settings: ModelSettings, via: Via, opener: Callable[[ModelSettings], Any] = open_endpoint
) -> Iterator[Endpoint]:
    """The endpoint the requests name: a server's (with its key) for the Batch API; for a request file
    the configured server's, else the ``--model`` alone."""
    if settings.provider is Provider.local:
        if via is Via.BATCH_API:
            raise ConfigError(
                "--via batch-api sends the requests to a server's Batch API; the embedded model has none.",
                hint="Give --provider openai, or --base-url URL of a server with /v1/batches "
                "(for vLLM: --via jsonl and `vllm run-batch`).",
            )
        yield offline_endpoint(settings)
        return
    with opener(settings) as endpoint:
        yield endpoint


def run_via(
    job: BatchJob,
    via: Via,
    observer: BatchObserver | None = None,
    *,
    ingest: Path | None = None,
    poll: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    endpoint_opener: Callable[[ModelSettings], Any] = open_endpoint,
) -> BatchReport:
    """Draft every brief of ``job`` that is not already done, in waves; write specs and report.json."""
    observer = observer or SilentObserver()
    started = time.perf_counter()
    journal = _usable_journal(job, via, ingest)
    known = load_previous(job.output_dir)
    records, paths = plan(job, known)
    report = BatchReport(records=records, problems=list(job.problems), output_dir=job.output_dir)
    report.batch = {"via": via.value, "round_trips_at_least": round_trips(job.template)}
    for problem in job.problems:
        observer.note(f"skipped malformed input {problem.where}: {problem.message}")
    with wave_endpoint(job.settings, via, endpoint_opener) as endpoint:
        report.model, report.provider = endpoint.model, endpoint.provider.value
        skip_unchanged(records, paths, {} if job.force else known, digests(job, endpoint))
        todo = [r for r in records if r.status is BriefStatus.PENDING]
        observer.planned(len(records), len(records) - len(todo))
        journal.forget_changed({brief_key(r.id): r.inputs_sha256 for r in todo})
        folder = journal_dir(job.output_dir)
        transport: ApiTransport | FileTransport = (
            ApiTransport(
                BatchApi(endpoint, timeout=job.settings.timeout, poll=poll, sleep=sleep), folder, observer
            )
            if via is Via.BATCH_API
            else FileTransport(folder, ingest, endpoint.model, observer)
        )
        run = WaveRun(job, endpoint, report, observer, journal, transport)
        for record in todo:
            run.add(record, paths[record.id])
        _run_waves(run, todo, report, observer)
    report.batch.update(_figures(journal))
    report.seconds = time.perf_counter() - started
    report.write()
    return report


def _run_waves(run: WaveRun, todo: list[BriefRecord], report: BatchReport, observer: BatchObserver) -> None:
    """The waves, and what an interrupt or a server failure leaves: the journal keeps what was paid for."""
    waiting = False
    failure: str | None = None
    try:
        waiting = run.run() if todo else False
    except (KeyboardInterrupt, TerminationRequested):
        report.interrupted = True
        observer.note(STOPPED_NOTE)
    except ModelError as exc:  # the Batch API failed: what was collected stays in the journal
        failure = redact(str(exc))
        observer.note(f"The batch stopped: {failure}")
    for record in todo:
        if record.status not in (BriefStatus.PENDING, BriefStatus.RUNNING):
            continue
        if failure is not None:
            record.status, record.error = BriefStatus.FAILED, failure
        elif waiting:
            record.status, record.error = (
                BriefStatus.WAITING,
                "waiting for the results of its wave (--ingest)",
            )
        else:
            record.status, record.error = BriefStatus.INTERRUPTED, "interrupted; run the batch again to go on"
        record.output = None


def check_no_open_waves(output_dir: Path) -> None:
    """A live batch into a directory whose waves are still out would pay for the same requests twice."""
    journal = load_journal(output_dir)
    if journal is not None and journal.open_submissions():
        raise InputError(
            f"The batch in '{output_dir}' was sent --via {journal.via} and is not finished; drafting it "
            "live now would pay for its requests twice.",
            hint=f"Continue it with --via {journal.via}, or stop it with --cancel.",
        )


def _usable_journal(job: BatchJob, via: Via, ingest: Path | None) -> Journal:
    """The journal to go on with (a new one when there is none), or why this run cannot use it."""
    journal = load_journal(job.output_dir)
    waiting = journal.open_submissions() if journal is not None else []
    if journal is not None and waiting and journal.via != via.value:
        raise InputError(
            f"The batch in '{job.output_dir}' was sent --via {journal.via} and is not finished.",
            hint=f"Continue it with --via {journal.via}, or stop it with --cancel.",
        )
    if job.force and waiting:
        raise InputError(
            f"--force would send again requests of '{job.output_dir}' still waiting for their results.",
            hint="Let them finish (run without --force), or stop them with --cancel first.",
        )
    if ingest is not None and not waiting:
        raise InputError(
            f"Nothing in '{job.output_dir}' waits for results, so there is nothing to --ingest.",
            hint="Write the requests first with --via jsonl.",
        )
    if journal is None or job.force:
        return Journal(via=via.value)
    return journal


def _figures(journal: Journal) -> dict[str, Any]:
    """What report.json says about the waves: how many, requests sent, answers, lines without one."""
    return {
        "waves": journal.waves,
        "requests": sum(len(s.custom_ids) for s in journal.submissions),
        "answers": len(journal.answers),
        "lines_without_answer": sum(len(reasons) for reasons in journal.failures.values()),
        "batches": [s.batch_id for s in journal.submissions if s.batch_id],
    }


def batch_status(
    output_dir: Path, settings: ModelSettings, opener: Callable[[ModelSettings], Any] = open_endpoint
) -> dict[str, Any]:
    """The journal's waves, each unfinished batch's status asked of the API (``--status``)."""
    journal = _existing_journal(output_dir)
    if journal.via == Via.BATCH_API.value and any(s.batch_id for s in journal.open_submissions()):
        with wave_endpoint(settings, Via.BATCH_API, opener) as endpoint:
            api = BatchApi(endpoint, timeout=settings.timeout)
            for submission in journal.open_submissions():
                if submission.batch_id:
                    submission.status = api.state(submission.batch_id).status
        save_journal(output_dir, journal)
    return {"via": journal.via, **_figures(journal), "submissions": [_shown(s) for s in journal.submissions]}


def cancel_batches(
    output_dir: Path, settings: ModelSettings, opener: Callable[[ModelSettings], Any] = open_endpoint
) -> list[dict[str, Any]]:
    """Stop every unfinished batch (``--cancel``): the API is asked to cancel it (what it answered before
    is collected by the next run); a request file still waiting for --ingest is forgotten."""
    journal = _existing_journal(output_dir)
    stopped: list[dict[str, Any]] = []
    open_batches = [s for s in journal.open_submissions() if s.batch_id]
    if open_batches:
        with wave_endpoint(settings, Via.BATCH_API, opener) as endpoint:
            api = BatchApi(endpoint, timeout=settings.timeout)
            for submission in open_batches:
                assert submission.batch_id is not None
                submission.status = api.cancel(submission.batch_id).status
                stopped.append(_shown(submission))
    for submission in [s for s in journal.open_submissions() if not s.batch_id]:
        journal.submissions.remove(submission)
        stopped.append({**_shown(submission), "status": "forgotten"})
    save_journal(output_dir, journal)
    return stopped


def _existing_journal(output_dir: Path) -> Journal:
    journal = load_journal(output_dir)
    if journal is None:
        raise InputError(
            f"No batch was sent in waves into '{output_dir}' (no {journal_dir(output_dir) / JOURNAL_NAME}).",
            hint="Start one with --via batch-api or --via jsonl.",
        )
    return journal


def _shown(submission: Submission) -> dict[str, Any]:
    return {
        "wave": submission.wave,
        "part": submission.part,
        "requests": len(submission.custom_ids),
        "requests_file": submission.requests_file,
        "batch_id": submission.batch_id,
        "status": submission.status,
        "collected": submission.collected,
    }
