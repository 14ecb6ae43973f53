"""The batch runner behind ``specdraft batch``: many briefs, one endpoint, up to ``jobs`` in flight.

One event loop drafts every brief; the sections of each brief run concurrently inside it
(agent.drafting.drafter).
All drafts share one endpoint (for the local provider one embedded llama.cpp server with ``jobs``
slots) and one HTTP client, so connections are reused. Transport faults are retried by the OpenAI
SDK (429 with Retry-After, 5xx, timeouts, resets); a brief that still fails is recorded as failed
and the batch goes on. Each spec is written atomically as soon as it is done and its record appended
to report.jsonl (one line per finished brief, so the cost stays the same for 10 or 10,000 briefs);
report.json is written once, at the end or on an interrupt, and report.jsonl then removed. A batch
killed outright resumes from report.jsonl where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from agent import __version__
from agent.context.retrieval import ContextPack
from agent.drafting.batch_inputs import BatchItem, InputProblem
from agent.drafting.digest import inputs_digest, prompts_digest, settings_digest
from agent.drafting.drafter import DraftOptions, EventKind, ResultStatus, SectionEvent
from agent.drafting.service import DraftPlan, adraft_to_file, endpoint_notes
from agent.errors import (
    EXIT_ATTENTION,
    EXIT_OK,
    EXIT_RUNTIME,
    InputError,
    ModelError,
    SpecdraftError,
    TerminationRequested,
)
from agent.io.atomic import atomic_write_text
from agent.io.dirlock import directory_lock
from agent.io.output import check_output_path
from agent.io.redact import redact
from agent.io.slug import assign_slugs
from agent.io.textinput import DEFAULT_MAX_BYTES, read_user_text
from agent.llm.client import ChatClient, Usage
from agent.llm.pricing import CostEstimate, estimate_cost
from agent.llm.providers import Endpoint, ModelSettings, open_endpoint
from agent.specdoc.template import SpecTemplate

REPORT_NAME = "report.json"
#: one JSON line per finished brief, appended as the batch runs (merged into report.json at the end)
PROGRESS_LOG_NAME = "report.jsonl"
EXIT_INTERRUPTED = 130
#: statuses of a spec on disk (a skipped brief keeps the status of the run that wrote it)
WRITTEN = (ResultStatus.OK, ResultStatus.ATTENTION)
INTERRUPTED_NOTE = "interrupted before it finished; run the batch again to draft it"


class BriefStatus(StrEnum):
    """Where one brief of a batch is (the values are what report.json shows)."""

    PENDING = "pending"
    RUNNING = "running"
    OK = "ok"
    ATTENTION = "attention"
    FAILED = "failed"
    #: its spec from an earlier run is unchanged
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"
    #: its requests went out in a wave whose results have not come back yet (``--via jsonl``)
    WAITING = "waiting"


#: the outcomes report.json counts under "totals"
COUNTED = (
    BriefStatus.OK,
    BriefStatus.ATTENTION,
    BriefStatus.FAILED,
    BriefStatus.SKIPPED,
    BriefStatus.INTERRUPTED,
    BriefStatus.WAITING,
)


@dataclass
class BriefRecord:
    """One brief's line in report.json."""

    id: str
    source: str
    status: BriefStatus = BriefStatus.PENDING
    output: str | None = None
    #: when a spec exists (also for skipped briefs)
    spec_status: ResultStatus | None = None
    sections: int = 0
    needs_attention: list[str] = field(default_factory=list)
    #: re-asks plus failovers (requests moved to another server after one failed)
    retries: int = 0
    failovers: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    model_calls: int = 0
    response_cache_hits: int = 0
    seconds: float = 0.0
    error: str | None = None
    inputs_sha256: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BatchReport:
    records: list[BriefRecord]
    problems: list[InputProblem]
    output_dir: Path
    model: str | None = None
    provider: str | None = None
    seconds: float = 0.0
    interrupted: bool = False
    #: with several --base-url: each server, its requests and failures (URLs without credentials)
    replicas: list[dict[str, Any]] = field(default_factory=list)
    #: sent in waves (agent.drafting.batch_waves): ``via``, waves, requests, round trips; {} for live
    batch: dict[str, Any] = field(default_factory=dict)

    def count(self, status: BriefStatus) -> int:
        return sum(1 for r in self.records if r.status == status)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.count(BriefStatus.WAITING):  # a clean stop: the results are for the next run
            bad = self.count(BriefStatus.FAILED) or self.count(BriefStatus.ATTENTION) or self.problems
            return EXIT_ATTENTION if bad else EXIT_OK
        written = [r for r in self.records if r.spec_status in WRITTEN]
        if not written:
            return EXIT_RUNTIME
        if (
            len(written) < len(self.records)
            or self.problems
            or any(r.spec_status is ResultStatus.ATTENTION for r in written)
        ):
            return EXIT_ATTENTION
        return EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        spent = self.usage()
        return {
            "specdraft": __version__,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "output_dir": str(self.output_dir),
            "model": self.model,
            "provider": self.provider,
            "interrupted": self.interrupted,
            "seconds": round(self.seconds, 2),
            "totals": {
                "briefs": len(self.records),
                **{s.value: self.count(s) for s in COUNTED},
                "malformed": len(self.problems),
                "model_calls": spent.calls,
                "prompt_tokens": spent.prompt_tokens,
                "completion_tokens": spent.completion_tokens,
                "cached_tokens": spent.cached_tokens,
                "response_cache_hits": spent.cache_hits,
                "failovers": spent.failovers,
                "cost": self.cost().as_dict(),
                **({"live_cost": self.live_cost().as_dict()} if self.batch else {}),
            },
            **({"replicas": self.replicas} if self.replicas else {}),
            **({"batch": self.batch} if self.batch else {}),
            "briefs": [r.as_dict() for r in self.records],
            "malformed": [{"where": p.where, "error": p.message} for p in self.problems],
        }

    def usage(self) -> Usage:
        """Tokens spent by this run (skipped briefs spent nothing now)."""
        total = Usage()
        for r in self.records:
            if r.status is not BriefStatus.SKIPPED:
                total.add(
                    Usage(
                        prompt_tokens=r.prompt_tokens,
                        completion_tokens=r.completion_tokens,
                        cached_tokens=r.cached_tokens,
                        calls=r.model_calls,
                        cache_hits=r.response_cache_hits,
                        failovers=r.failovers,
                    )
                )
        return total

    def cost(self) -> CostEstimate:
        """What the run cost: at the batch price when its requests went in waves."""
        return estimate_cost(self.usage(), self.model or "", self.provider or "", batch=bool(self.batch))

    def live_cost(self) -> CostEstimate:
        """What the same requests would have cost live."""
        return estimate_cost(self.usage(), self.model or "", self.provider or "")

    def write(self) -> Path:
        """Write report.json (the whole report) and remove the progress log it supersedes."""
        path = self.output_dir / REPORT_NAME
        atomic_write_text(path, json.dumps(self.as_dict(), indent=2) + "\n")
        (self.output_dir / PROGRESS_LOG_NAME).unlink(missing_ok=True)
        return path

    def log(self, record: BriefRecord) -> None:
        """Append one finished brief to report.jsonl (a few hundred bytes, whatever the batch's size)."""
        line = json.dumps(record.as_dict(), ensure_ascii=False) + "\n"
        with open(self.output_dir / PROGRESS_LOG_NAME, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()


class BatchObserver(Protocol):
    """Progress callbacks (the CLI draws a bar from them)."""

    def planned(self, total: int, skipped: int) -> None: ...
    def note(self, message: str) -> None: ...
    def started(self, record: BriefRecord) -> None: ...
    def tokens(self, record: BriefRecord, completion_tokens: int) -> None: ...
    def finished(self, record: BriefRecord) -> None: ...


class SilentObserver:
    def planned(self, total: int, skipped: int) -> None:
        return None

    def note(self, message: str) -> None:
        return None

    def started(self, record: BriefRecord) -> None:
        return None

    def tokens(self, record: BriefRecord, completion_tokens: int) -> None:
        return None

    def finished(self, record: BriefRecord) -> None:
        return None


@dataclass
class BatchJob:
    items: list[BatchItem]
    output_dir: Path
    template: SpecTemplate
    settings: ModelSettings
    options: DraftOptions
    jobs: int = 4
    force: bool = False
    problems: list[InputProblem] = field(default_factory=list)
    #: ``--context``: the indexed repository files, ranked against each brief
    context: ContextPack | None = None

    @classmethod
    def from_plan(
        cls,
        plan: DraftPlan,
        items: list[BatchItem],
        output_dir: Path,
        *,
        jobs: int,
        force: bool = False,
        problems: list[InputProblem] | None = None,
    ) -> BatchJob:
        """A batch drafting every brief as ``plan`` says (agent.drafting.service.plan_drafts)."""
        return cls(
            items,
            output_dir,
            plan.template,
            plan.settings,
            plan.options,
            jobs=jobs,
            force=force,
            problems=problems or [],
            context=plan.context,
        )

    @property
    def plan(self) -> DraftPlan:
        return DraftPlan(self.template, self.settings, self.options, self.context)


def check_report_paths(output_dir: Path) -> None:
    """Before any model work: the output directory exists, and report.json and report.jsonl in it are
    regular files or absent (a FIFO under either name would block the batch forever)."""
    if not output_dir.is_dir():
        raise InputError(f"Output directory '{output_dir}' does not exist.", hint="Create it first.")
    for name in (REPORT_NAME, PROGRESS_LOG_NAME):
        try:
            check_output_path(output_dir / name, overwrite=True)
        except InputError as exc:
            raise InputError(exc.message, hint="Remove it, or choose another directory with -o.") from None


def _read_report_file(path: Path) -> str:
    """A report file of an earlier run, by the one bounded reader ("" when absent)."""
    if not path.exists():
        return ""
    text, _ = read_user_text(path, what="Batch report", max_bytes=DEFAULT_MAX_BYTES)
    return text


def load_previous(output_dir: Path) -> dict[str, dict[str, Any]]:
    """The entries of an earlier report.json in ``output_dir`` by id, updated by the lines of a
    report.jsonl an interrupted or killed run left (empty when absent or unreadable)."""
    entries: dict[str, dict[str, Any]] = {}
    try:
        data = json.loads(_read_report_file(output_dir / REPORT_NAME) or "{}")
        entries = {str(e["id"]): e for e in data.get("briefs", []) if isinstance(e, dict) and "id" in e}
    except (OSError, InputError, ValueError, TypeError, AttributeError):
        pass
    try:
        lines = _read_report_file(output_dir / PROGRESS_LOG_NAME).splitlines()
    except (OSError, InputError):
        lines = []
    for line in lines:  # a torn last line (the process killed mid-write) is skipped
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "id" in entry:
            entries[str(entry["id"])] = entry
    return entries


def plan(job: BatchJob, known: dict[str, dict[str, Any]]) -> tuple[list[BriefRecord], dict[str, Path]]:
    """A pending record per brief and the spec path of each (``known``: the earlier report's entries)."""
    # Keep the file names an earlier run gave, so a new colliding id never renames an old spec.
    kept: dict[str, str] = {}
    for item in job.items:
        old = known.get(item.id, {}).get("output")
        if isinstance(old, str) and Path(old).stem not in kept.values():
            kept[item.id] = Path(old).stem
    fresh = assign_slugs((i.id for i in job.items if i.id not in kept), reserved=kept.values())
    slugs = {**kept, **fresh}
    records: list[BriefRecord] = []
    paths: dict[str, Path] = {}
    for item in job.items:
        path = job.output_dir / f"{slugs[item.id]}.md"
        paths[item.id] = path
        records.append(BriefRecord(id=item.id, source=item.brief.source, output=str(path)))
    return records, paths


def digests(job: BatchJob, endpoint: Endpoint) -> dict[str, str]:
    """Each brief's resume digest (agent.drafting.digest) for drafting on ``endpoint``."""
    settings = settings_digest(job.settings, job.options, endpoint)
    prompts = prompts_digest()
    context = job.context.digest() if job.context else ""
    return {
        item.id: inputs_digest(item.brief, job.template, settings, prompts, context) for item in job.items
    }


def skip_unchanged(
    records: list[BriefRecord],
    paths: dict[str, Path],
    previous: dict[str, dict[str, Any]],
    now: dict[str, str],
) -> None:
    """Each record gets its digest in ``now``; a brief whose spec exists and whose digest is unchanged
    since the run that wrote it is skipped, keeping that run's figures."""
    for record in records:
        record.inputs_sha256 = now[record.id]
        old = previous.get(record.id)
        if old is not None and old.get("inputs_sha256") == record.inputs_sha256:
            _keep_written(record, old, paths[record.id])


def keep_earlier(
    records: list[BriefRecord], paths: dict[str, Path], previous: dict[str, dict[str, Any]]
) -> None:
    """Without an endpoint (the model did not start, or the batch stopped while it loaded) no digest can be
    compared: a brief not yet planned whose spec an earlier run wrote keeps that run's entry as it was."""
    for record in records:
        old = previous.get(record.id)
        if old is not None and record.status is BriefStatus.PENDING and not record.inputs_sha256:
            record.inputs_sha256 = str(old.get("inputs_sha256", ""))
            _keep_written(record, old, paths[record.id])


def _keep_written(record: BriefRecord, old: dict[str, Any], path: Path) -> None:
    """``record`` skipped with the figures of ``old``, the entry of the run that wrote its spec (when it did
    and the spec is still there)."""
    if old.get("spec_status") not in WRITTEN or not path.is_file():
        return
    record.status = BriefStatus.SKIPPED
    record.spec_status = ResultStatus(old["spec_status"])
    record.sections = int(old.get("sections", 0))
    record.needs_attention = list(old.get("needs_attention", []))
    counts = ("retries", "failovers", "prompt_tokens", "completion_tokens", "cached_tokens", "model_calls")
    for key in (*counts, "response_cache_hits"):
        setattr(record, key, int(old.get(key, 0)))
    record.seconds = float(old.get("seconds", 0.0))


class _SharedClient(ChatClient):
    """One ChatClient (one HTTP connection pool) for every draft of the batch: closed once, at the end."""

    async def aclose(self) -> None:
        return None

    async def close_for_real(self) -> None:
        await ChatClient.aclose(self)


def run_batch(
    job: BatchJob,
    observer: BatchObserver | None = None,
    *,
    endpoint_opener: Callable[[ModelSettings], Any] = open_endpoint,
) -> BatchReport:
    """Draft every brief of ``job`` that is not already done; write specs and report.json.

    One batch at a time per output directory: a second one is refused while the first runs."""
    check_report_paths(job.output_dir)
    with directory_lock(job.output_dir, what="specdraft batch"):
        return _run_batch(job, observer or SilentObserver(), endpoint_opener)


def _run_batch(
    job: BatchJob, observer: BatchObserver, endpoint_opener: Callable[[ModelSettings], Any]
) -> BatchReport:
    started = time.perf_counter()
    known = load_previous(job.output_dir)
    previous = {} if job.force else known
    records, paths = plan(job, known)
    report = BatchReport(records=records, problems=list(job.problems), output_dir=job.output_dir)
    for problem in job.problems:
        observer.note(f"skipped malformed input {problem.where}: {problem.message}")
    items = {item.id: item for item in job.items}
    if not records:
        observer.planned(0, 0)
    else:
        # The endpoint is opened before anything is skipped: the re-ask policy, part of the digest,
        # follows the size of the model it serves.
        try:
            with endpoint_opener(job.settings) as endpoint:
                report.model, report.provider = endpoint.model, endpoint.provider.value
                for note in endpoint_notes(endpoint):
                    observer.note(note)
                skip_unchanged(records, paths, previous, digests(job, endpoint))
                todo = [r for r in records if r.status is BriefStatus.PENDING]
                observer.planned(len(records), len(records) - len(todo))
                todo = _without_special_outputs(todo, paths, observer)
                if todo:
                    drafts = _BatchRun(job, endpoint, items, paths, report, observer)
                    report.interrupted = asyncio.run(drafts.run(todo))
        except (KeyboardInterrupt, TerminationRequested):  # while the model loaded, before any draft began
            report.interrupted = True
            keep_earlier(records, paths, previous)
            _mark_unfinished(records)
        except InputError:
            raise
        except ModelError as exc:
            keep_earlier(records, paths, previous)
            pending = [r for r in records if r.status is BriefStatus.PENDING]
            observer.planned(len(records), len(records) - len(pending))
            for record in pending:
                record.status, record.error, record.output = BriefStatus.FAILED, redact(str(exc)), None
                observer.finished(record)
    report.seconds = time.perf_counter() - started
    report.write()
    return report


def _without_special_outputs(
    todo: list[BriefRecord], paths: dict[str, Path], observer: BatchObserver
) -> list[BriefRecord]:
    """``todo`` less the briefs whose spec would go where a FIFO, device or directory is: each of those
    fails before any model work (drafting it first cost a whole spec's model calls)."""
    kept = []
    for record in todo:
        try:
            check_output_path(paths[record.id], overwrite=True)
        except InputError as exc:
            record.status, record.error, record.output = BriefStatus.FAILED, exc.message, None
            observer.finished(record)
            continue
        kept.append(record)
    return kept


class _BatchRun:
    """A batch's drafts in one event loop: up to ``jobs`` briefs at once over one endpoint and client."""

    def __init__(
        self,
        job: BatchJob,
        endpoint: Endpoint,
        items: dict[str, BatchItem],
        paths: dict[str, Path],
        report: BatchReport,
        observer: BatchObserver,
    ) -> None:
        self.job, self.endpoint, self.items, self.paths = job, endpoint, items, paths
        self.report, self.observer = report, observer
        self.client = _SharedClient(endpoint, job.settings)
        self.plan = job.plan
        self.limit = asyncio.Semaphore(max(1, job.jobs))
        self.tasks: list[asyncio.Task[None]] = []
        self.interrupted = False

    async def run(self, todo: list[BriefRecord]) -> bool:
        """Draft the brief of every record in ``todo``; True when a signal or a cancellation stopped it."""
        self.tasks = [asyncio.create_task(self._one(record)) for record in todo]
        try:
            with _signals_call(self._stop):
                try:
                    await asyncio.gather(*self.tasks, return_exceptions=True)
                except asyncio.CancelledError:  # the runner itself was cancelled (Ctrl-C without our handler)
                    self._stop()
                    await asyncio.gather(*self.tasks, return_exceptions=True)
        finally:
            if self.client.pool is not None:
                self.report.replicas = self.client.pool.as_list()
            with contextlib.suppress(Exception):
                await self.client.close_for_real()
        _mark_unfinished(todo)
        return self.interrupted

    def _stop(self) -> None:
        self.interrupted = True
        for task in self.tasks:
            task.cancel()

    async def _one(self, record: BriefRecord) -> None:
        async with self.limit:
            record.status = BriefStatus.RUNNING
            self.observer.started(record)
            began = time.perf_counter()
            spent = Usage()
            try:
                await self._draft(record, spent)
            finally:
                # Usage is counted whatever the outcome: ok, attention, failed or interrupted.
                _count_usage(record, spent, began)
            self.report.log(record)
            self.observer.finished(record)

    async def _draft(self, record: BriefRecord, spent: Usage) -> None:
        """Draft the brief of ``record`` and write its spec; ``record`` says how it went."""

        def on_event(event: SectionEvent) -> None:
            if event.kind in (EventKind.DONE, EventKind.ATTENTION) and event.usage is not None:
                self.observer.tokens(record, event.usage.completion_tokens)

        try:
            outcome = await adraft_to_file(
                self.endpoint,
                self.items[record.id].brief,
                self.plan,
                self.paths[record.id],
                on_event=on_event,
                client=self.client,
                spent=spent,
            )
        except SpecdraftError as exc:  # the draft failed, or its spec could not be written
            record.status, record.error, record.output = BriefStatus.FAILED, redact(str(exc)), None
            return
        except Exception as exc:  # one brief's unexpected failure must not stop the batch
            record.status, record.output = BriefStatus.FAILED, None
            record.error = redact(f"unexpected failure: {type(exc).__name__}: {exc}")
            return
        result = outcome.result
        record.spec_status = result.status
        record.status = BriefStatus(result.status)
        record.sections = len(result.sections)
        record.needs_attention = result.needs_attention
        record.retries = result.retries + spent.failovers


@contextlib.contextmanager
def _signals_call(handler: Callable[[], None]) -> Iterator[None]:
    """Inside, SIGINT and SIGTERM (a CI job cancelled, `kill`) call ``handler``: the batch stops like
    Ctrl-C, its report written and no partial spec left."""
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, handler)
            handled.append(signum)
    try:
        yield
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


def _count_usage(record: BriefRecord, spent: Usage, began: float) -> None:
    record.prompt_tokens = spent.prompt_tokens
    record.completion_tokens = spent.completion_tokens
    record.cached_tokens = spent.cached_tokens
    record.model_calls = spent.calls
    record.response_cache_hits = spent.cache_hits
    record.failovers = spent.failovers
    record.seconds = round(time.perf_counter() - began, 2)


def _mark_unfinished(records: list[BriefRecord]) -> None:
    """Briefs still waiting or running when the batch stopped are interrupted (the next run drafts them)."""
    for record in records:
        if record.status in (BriefStatus.PENDING, BriefStatus.RUNNING):
            record.status, record.output = BriefStatus.INTERRUPTED, None
            record.error = INTERRUPTED_NOTE
