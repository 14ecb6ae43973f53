"""A batch drafted in waves of requests (``specdraft batch --via batch-api`` or ``--via jsonl``).

The same briefs, template, options, validation and report as a live batch (agent.drafting.batch), but
the section requests of all briefs travel together: each wave holds, for every brief, the current
attempt of every section whose dependencies (agent.drafting.plan) are settled. The answers are judged by
the one re-ask loop's steps (agent.drafting.reask.SectionAsk, built by the drafter exactly as the live
loop builds them): an accepted answer settles a section, a rejected one is re-asked in the next wave,
the sections waiting for it in the wave after. So a whole spec takes as many round trips as its
dependency graph is deep (:func:`round_trips`), more only where an answer was rejected.

Everything collected is journaled (agent.drafting.batch_journal): a run picks up the running batches and
replays the answers already paid for. A line that got no answer (failed, expired, cancelled) is sent
again in the next wave, at most :data:`LINE_TRIES` times, then its section is marked NEEDS ATTENTION
with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

from agent.drafting.batch import BatchJob, BatchObserver, BatchReport, BriefRecord, BriefStatus
from agent.drafting.batch_journal import Answer, Journal, Submission, brief_of, journal_dir, save_journal
from agent.drafting.drafter import Drafter, SectionResult
from agent.drafting.plan import dependencies
from agent.drafting.reask import SectionAsk
from agent.drafting.service import finished_draft, written
from agent.errors import ConfigError, SectionFailedError, SpecdraftError
from agent.io.atomic import atomic_write_text
from agent.io.redact import redact
from agent.llm.batch_api import LineResult, RequestId, brief_key, request_line, split_lines
from agent.llm.client import ChatClient, Completion, Usage
from agent.llm.providers import NO_KEY, Endpoint, ModelSettings, Provider
from agent.llm.request import chat_body
from agent.specdoc.template import SpecTemplate

#: how many times a request that got no answer (a failed or expired line) is sent
LINE_TRIES = 3


def round_trips(template: SpecTemplate) -> int:
    """The fewest waves a whole spec of ``template`` needs: the longest chain of its dependency graph."""
    graph = dependencies(template)
    depth: dict[str, int] = {}
    for section in template.sections:  # dependencies are always earlier sections
        depth[section.key] = 1 + max((depth[dep] for dep in graph[section.key]), default=0)
    return max(depth.values(), default=0)


def offline_endpoint(settings: ModelSettings) -> Endpoint:
    """The endpoint a ``--via jsonl`` batch names in its requests when no server is configured: the
    model ``--model`` names (the one ``vllm run-batch`` serves), reached by no one from here."""
    if not settings.model:
        raise ConfigError(
            "--via jsonl needs the model's name for the request file.",
            hint="Give --model NAME (the model `vllm run-batch --model` serves), or its server's --base-url.",
        )
    return Endpoint(
        provider=Provider.compatible,
        base_url="",
        model=settings.model,
        api_key=SecretStr(NO_KEY),
        cache_identity=f"jsonl {settings.model}",
    )


@dataclass
class _Section:
    ask: SectionAsk | None = None
    result: SectionResult | None = None
    usage: Usage = field(default_factory=Usage)
    started: float = field(default_factory=time.perf_counter)


class BriefWaves:
    """One brief's sections through the waves: the requests due, and the answers judged as they come."""

    def __init__(self, drafter: Drafter) -> None:
        self.drafter = drafter
        self.graph = dependencies(drafter.template)
        self.root = drafter.template.sections[0].key
        self.sections = {s.key: _Section() for s in drafter.template.sections}
        self.started = time.perf_counter()
        #: --strict: the first section that never validates fails the brief
        self.error: str | None = None

    @property
    def done(self) -> bool:
        return self.error is not None or all(s.result is not None for s in self.sections.values())

    def due(self) -> list[tuple[str, SectionAsk]]:
        """Each unsettled section whose dependencies are settled, with its attempts (made when it is due)."""
        results = {k: s.result for k, s in self.sections.items() if s.result is not None}
        due: list[tuple[str, SectionAsk]] = []
        for section in self.drafter.template.sections:
            state = self.sections[section.key]
            if state.result is not None or any(dep not in results for dep in self.graph[section.key]):
                continue
            if state.ask is None:
                context, requirements = self.drafter.section_inputs(section, self.graph[section.key], results)
                state.ask = self.drafter.section_ask(
                    section, context, open_points=section.key == self.root, requirements=requirements
                )
                state.started = time.perf_counter()
            due.append((section.key, state.ask))
        return due

    def take(self, key: str, completion: Completion) -> None:
        """The answer to the section's current attempt, judged by the re-ask loop's one judgement."""
        state, section = self.sections[key], self.drafter.template.section(key)
        assert state.ask is not None
        state.usage.add(completion.usage)
        self.drafter.spent.add(completion.usage)
        try:
            accepted = state.ask.judge(completion)
        except SectionFailedError as exc:
            if not self.drafter.options.keep_going:
                self.error = redact(str(exc))
                return
            state.result = self.drafter.marked(
                section, "failed validation", exc.errors, exc.last_output, state.usage, state.started
            )
            return
        if accepted is not None:
            state.result = self.drafter.accepted(section, accepted, state.usage, state.started)

    def give_up(self, key: str, reasons: list[str]) -> None:
        """The section's request never got an answer: marked with the last reason (or the brief failed)."""
        section = self.drafter.template.section(key)
        problem = f"the batch returned no answer {len(reasons)} time(s): {reasons[-1]}"
        if not self.drafter.options.keep_going:
            self.error = f"Section '{section.title}': {problem}"
            return
        state = self.sections[key]
        state.result = self.drafter.marked(
            section, "got no answer", [problem], "", state.usage, state.started
        )


class Transport(Protocol):
    """Where a wave's request file goes and its results come from."""

    def send(self, submission: Submission, path: Path, save: Callable[[], None]) -> None: ...
    def collect(self, submission: Submission, save: Callable[[], None]) -> dict[str, LineResult] | None: ...


@dataclass
class WaveBrief:
    record: BriefRecord
    waves: BriefWaves
    key: str
    path: Path


class WaveRun:
    """Every brief of a batch through the waves, over one transport and journal."""

    def __init__(
        self,
        job: BatchJob,
        endpoint: Endpoint,
        report: BatchReport,
        observer: BatchObserver,
        journal: Journal,
        transport: Transport,
    ) -> None:
        self.job, self.endpoint, self.report, self.observer = job, endpoint, report, observer
        self.journal, self.transport = journal, transport
        # no speed to fit and no probe: the answers come back hours later, from another machine maybe
        self.plan = replace(job.plan, options=replace(job.options, fit_to_speed=False, probe=False))
        self.client = ChatClient(endpoint, job.settings)
        self.briefs: list[WaveBrief] = []
        self.items = {item.id: item for item in job.items}
        self.requests_sent = 0

    def add(self, record: BriefRecord, path: Path) -> None:
        """A brief to draft; its spec goes to ``path``."""
        item = self.items[record.id]
        plan = self.plan
        drafter = Drafter(
            self.client, item.brief, plan.template, plan.options, context=plan.context_for(item.brief)
        )
        self.briefs.append(WaveBrief(record, BriefWaves(drafter), brief_key(record.id), path))
        record.status = BriefStatus.RUNNING
        self.observer.started(record)

    def save(self) -> None:
        save_journal(self.job.output_dir, self.journal)

    def run(self) -> bool:
        """Waves until every brief is done; True when a wave waits for results (``--via jsonl``)."""
        self.advance()
        while True:
            waiting = self.journal.open_submissions()
            if waiting:
                for submission in waiting:
                    results = self.transport.collect(submission, self.save)
                    if results is None:
                        return True
                    self._collected(submission, results)
                self.advance()
                continue
            lines = self._next_wave()
            if not lines:
                return False
            self._send_wave(lines)

    def advance(self) -> None:
        """Judge every collected answer that a due section waits for, until nothing moves; write the
        specs of the briefs that are done."""
        moved = True
        while moved:
            moved = False
            for brief in self._unfinished():
                for key, ask in brief.waves.due():
                    custom_id = RequestId(brief.key, key, ask.attempt).encode()
                    answer = self.journal.answers.get(custom_id)
                    failures = self.journal.failures.get(custom_id, [])
                    if answer is not None:
                        brief.waves.take(key, _completion_of(answer))
                    elif len(failures) >= LINE_TRIES:
                        brief.waves.give_up(key, failures)
                    else:
                        continue
                    moved = True
                if brief.waves.done:
                    self._finish(brief)

    def _unfinished(self) -> list[WaveBrief]:
        return [b for b in self.briefs if b.record.status is BriefStatus.RUNNING]

    def _next_wave(self) -> list[tuple[str, str]]:
        """The next wave's (custom_id, request line): every due section's current attempt, across briefs."""
        lines: list[tuple[str, str]] = []
        seed = self.job.settings.seed
        for brief in self._unfinished():
            for key, ask in brief.waves.due():
                request = ask.request()
                body = chat_body(
                    self.endpoint.model,
                    request.messages,
                    request.schema,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    seed=seed,
                )
                custom_id = RequestId(brief.key, key, ask.attempt).encode()
                lines.append((custom_id, request_line(custom_id, body)))
        return lines

    def _send_wave(self, lines: list[tuple[str, str]]) -> None:
        wave = self.journal.waves + 1
        if wave == 1 or not self.requests_sent:
            least = round_trips(self.job.template)
            self.observer.note(
                f"Wave {wave}: {len(lines)} request(s) for {len(self._unfinished())} brief(s); a whole spec "
                f"takes at least {least} round trip(s) (more only for re-asked sections)."
            )
        else:
            self.observer.note(
                f"Wave {wave}: {len(lines)} request(s) (sections whose inputs are drafted, and re-asks)."
            )
        folder = journal_dir(self.job.output_dir)
        folder.mkdir(exist_ok=True)
        ids = iter(custom_id for custom_id, _ in lines)
        for part, chunk in enumerate(split_lines([line for _, line in lines]), start=1):
            name = f"wave-{wave:02d}-{part}.requests.jsonl"
            atomic_write_text(folder / name, "\n".join(chunk) + "\n")
            custom_ids = [next(ids) for _ in chunk]
            briefs = {brief_of(c) for c in custom_ids}
            digests = {key: digest for key, digest in self.journal.briefs.items() if key in briefs}
            submission = Submission(
                wave=wave, part=part, requests_file=name, custom_ids=custom_ids, digests=digests
            )
            self.journal.submissions.append(submission)
            self.save()
            self.transport.send(submission, folder / name, self.save)
            self.requests_sent += len(chunk)

    def _collected(self, submission: Submission, results: dict[str, LineResult]) -> None:
        """A submission's results into the journal: answers kept, lines without one to be sent again."""
        for custom_id in submission.custom_ids:
            key = brief_of(custom_id)
            if submission.digests.get(key, "") != self.journal.briefs.get(key, ""):
                continue  # its brief changed since: the request is asked again as it now reads
            result = results.get(custom_id)
            if result is not None and result.completion is not None:
                self.journal.answers[custom_id] = _answer_of(result.completion)
            else:
                why = result.error if result is not None else f"no result line for it ({submission.status})"
                self.journal.failures.setdefault(custom_id, []).append(why or "no answer")
        submission.collected = True
        self.save()

    def _finish(self, brief: WaveBrief) -> None:
        """Write a finished brief's spec and record it (as the live batch does)."""
        record, waves = brief.record, brief.waves
        spent = waves.drafter.spent
        try:
            if waves.error is not None:
                raise SpecdraftError(waves.error)
            result = waves.drafter.result_of(
                {k: s.result for k, s in waves.sections.items() if s.result is not None}, waves.started
            )
            outcome = finished_draft(
                waves.drafter, result, self.endpoint, started=waves.started, spec_path=brief.path
            )
            written(outcome, brief.path, overwrite=True)
        except SpecdraftError as exc:
            record.status, record.error, record.output = BriefStatus.FAILED, redact(str(exc)), None
        else:
            record.spec_status = result.status
            record.status = BriefStatus(result.status)
            record.sections = len(result.sections)
            record.needs_attention = result.needs_attention
            record.retries = result.retries
        _count(record, spent, waves.started)
        self.report.log(record)
        self.observer.finished(record)


def _answer_of(completion: Completion) -> Answer:
    usage = completion.usage
    return Answer(
        text=completion.text,
        finish_reason=completion.finish_reason,
        fault=completion.fault,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_tokens=usage.cached_tokens,
    )


def _completion_of(answer: Answer) -> Completion:
    """A journaled answer as the re-ask loop judges it (one model call, its tokens)."""
    usage = Usage(
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        cached_tokens=answer.cached_tokens,
        calls=1,
    )
    return Completion(answer.text, usage, answer.finish_reason, answer.fault)


def _count(record: BriefRecord, spent: Usage, began: float) -> None:
    record.prompt_tokens = spent.prompt_tokens
    record.completion_tokens = spent.completion_tokens
    record.cached_tokens = spent.cached_tokens
    record.model_calls = spent.calls
    record.seconds = round(time.perf_counter() - began, 2)
