"""The drafting agent: every section of a template drafted, validated and re-asked when wrong.

Sections run in dependency order (agent.drafting.plan); independent ones run concurrently, up to
``parallel`` requests in flight. A section starts as soon as the sections it needs are done (not per
wave), and when several are ready the one with the longest critical path (completion budgets) takes
the free slot first. Each answer is parsed, validated against the section's Pydantic
model and the quality checks, and re-asked with the problems listed, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from agent.context.retrieval import ContextPack
from agent.drafting.brief import Brief
from agent.drafting.grounding_check import grounding_problems
from agent.drafting.language_check import language_problems
from agent.drafting.plan import critical_path, dependencies
from agent.drafting.policy import ReaskPolicy, policy_for
from agent.drafting.prompting import Message, naive_messages, section_context, section_messages, shared_prefix
from agent.drafting.reask import Accepted, Check, SectionAsk, ask_section, leak_check, max_tokens_for
from agent.drafting.values import iter_strings
from agent.errors import ModelTimeoutError, SectionFailedError
from agent.llm.client import ChatClient, Usage
from agent.llm.providers import Provider
from agent.llm.speed import fit_budget, fit_slots
from agent.models.size import ModelSize
from agent.specdoc.language import ENGLISH, choose_language, template_language
from agent.specdoc.render import SectionContent, render_section
from agent.specdoc.requirements import defined_requirements
from agent.specdoc.schemas.base import SectionData, capped_lists, json_schema
from agent.specdoc.schemas.generic import with_open_points
from agent.specdoc.schemas.techspec import CoveringSection, covering_context, covering_schema
from agent.specdoc.template import SpecTemplate, TemplateSection

MAX_OPEN_QUESTIONS = 5


@dataclass(frozen=True)
class DraftOptions:
    #: re-asks per section; None lets the re-ask policy choose from the model's size
    max_retries: int | None = None
    #: a section that never validates (or times out) is marked [NEEDS ATTENTION] and the draft finishes;
    #: False (--strict) fails the whole draft instead
    keep_going: bool = True
    parallel: int = 4
    temperature: float = 0.2
    #: the re-ask policy; None picks one from the model's size (agent.drafting.policy.policy_for)
    policy: ReaskPolicy | None = None
    #: fit completion budgets and parallel calls to the engine's measured speed
    fit_to_speed: bool = True
    #: measure the embedded engine's speed with one short call before drafting
    probe: bool = False
    #: benchmark baseline only: section task first, no shared prefix, no server-side prompt cache
    naive_layout: bool = False
    #: the spec's language as set (--language, ``language``); None: the template's, else the brief's
    language: str | None = None

    def reask_policy(self, size: ModelSize) -> ReaskPolicy:
        """The re-ask policy a draft with these options uses on a model of ``size``: ``policy`` when
        given, else the size tier's with ``max_retries`` (agent.drafting.policy.policy_for); the first
        attempt at ``temperature`` either way."""
        if self.policy is not None:
            return replace(self.policy, temperature=self.temperature)
        return policy_for(size, self.max_retries, self.temperature)


class ResultStatus(StrEnum):
    """How a section, a draft or a batch's spec came out (the values are what JSON and reports show)."""

    OK = "ok"
    #: a section marked [NEEDS ATTENTION] (never validated, or timed out), or a draft holding one
    ATTENTION = "attention"


class EventKind(StrEnum):
    """What happened to a section, as progress displays are told."""

    STARTED = "started"
    RETRY = "retry"
    DONE = "done"
    ATTENTION = "attention"


@dataclass
class SectionEvent:
    kind: EventKind
    key: str
    title: str
    attempt: int = 1
    #: "retry"/"attention": why the answer was rejected; "done": why list items were dropped from it
    problems: list[str] = field(default_factory=list)
    usage: Usage | None = None


@dataclass
class SectionResult:
    key: str
    title: str
    status: ResultStatus
    attempts: int
    usage: Usage
    seconds: float
    content: SectionContent
    problems: list[str] = field(default_factory=list)
    #: the model's last answer when the section was marked after failing validation (for benches and
    #: debugging; never rendered into the spec: it is untrusted text that did not validate)
    rejected_answer: str = ""
    #: why list items were dropped from an accepted answer to keep the rest (agent.drafting.salvage)
    dropped: list[str] = field(default_factory=list)

    @property
    def retries(self) -> int:
        return self.attempts - 1


@dataclass
class DraftResult:
    sections: dict[str, SectionResult]
    usage: Usage
    seconds: float

    @property
    def needs_attention(self) -> list[str]:
        return [r.title for r in self.sections.values() if r.status is ResultStatus.ATTENTION]

    @property
    def status(self) -> ResultStatus:
        return ResultStatus.ATTENTION if self.needs_attention else ResultStatus.OK

    @property
    def retries(self) -> int:
        return sum(r.retries for r in self.sections.values())

    def contents(self) -> dict[str, SectionContent]:
        return {key: result.content for key, result in self.sections.items()}


EventHandler = Callable[[SectionEvent], None]


def summarise(content: SectionContent, limit: int = 280) -> str:
    """A short digest of a drafted section, given to the sections that depend on it."""
    if content.data is None:
        return "(not available)"
    text = "; ".join(value for _, value in iter_strings(content.data) if value.strip())
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


class Drafter:
    def __init__(
        self,
        client: ChatClient,
        brief: Brief,
        template: SpecTemplate,
        options: DraftOptions,
        on_event: EventHandler | None = None,
        context: ContextPack | None = None,
        *,
        spent: Usage | None = None,
    ) -> None:
        self.client = client
        self.brief = brief
        self.template = template
        self.options = options
        self.on_event = on_event or (lambda event: None)
        self.context = context
        #: the spec's language (agent.specdoc.language): as set, else the template's, else the brief's
        self.language = choose_language(
            options.language,
            template_language(template.front_matter, template.headings()),
            f"{brief.title}\n{brief.body}",
        )
        self.prefix = shared_prefix(
            brief, template, context.shared if context else None, language=self.language.code
        )
        #: the brief's words: an answer may share them with the prompt's example without copying it
        self.brief_terms = brief.facts.terms
        #: per section, the context files whose chunks its prompt carried (provenance, drift)
        self.context_sources: dict[str, list[str]] = {}
        self.policy = options.reask_policy(client.endpoint.model_size)
        #: every token and call spent, whatever the outcome (read it after a failure too)
        self.spent = spent if spent is not None else Usage()
        self._active = 0
        self._slots = asyncio.Condition()
        #: sections ready to start, waiting for a slot: (-critical path, template position, key)
        self._ready: list[tuple[int, int, str]] = []
        #: the order sections were given a slot (for progress and the scheduling tests)
        self.start_order: list[str] = []

    def _grounding(self, section: TemplateSection) -> str:
        if self.context is None:
            return ""
        query = f"{self.brief.title}\n{section.title}\n{section.source}"
        chunks = self.context.section_chunks(query)
        used = [*self.context.shared, *chunks]
        self.context_sources[section.key] = sorted({c.source for c in used})
        words = f"{section.key} {section.title}".lower()
        api = any(w in words for w in ("api", "endpoint", "interface"))
        data = any(w in words for w in ("data", "database", "schema", "storage", "model"))
        endpoints = sorted(self.context.facts.endpoints) if api else []
        tables = sorted(self.context.facts.tables) if data else []
        return section_context(chunks, endpoints, tables)

    async def draft(self) -> DraftResult:
        started = time.perf_counter()
        graph = dependencies(self.template)
        await self._probe()
        results: dict[str, SectionResult] = {}
        done: dict[str, asyncio.Event] = {key: asyncio.Event() for key in graph}
        root = self.template.sections[0].key
        budgets = {s.key: self.policy.budget_for(max_tokens_for(s.model)) for s in self.template.sections}
        chains = critical_path(graph, budgets.__getitem__)
        position = {s.key: index for index, s in enumerate(self.template.sections)}

        async def run(section: TemplateSection) -> None:
            for dep in graph[section.key]:
                await done[dep].wait()
            context, requirements = self.section_inputs(section, graph[section.key], results)
            await self._acquire_slot((-chains[section.key], position[section.key], section.key))
            try:
                results[section.key] = await self._draft_section(
                    section, context, open_points=section.key == root, requirements=requirements
                )
                done[section.key].set()
                # the sections this one unblocked join the queue before its slot is given away
                await asyncio.sleep(0)
            finally:
                await self._release_slot()

        tasks = [asyncio.create_task(run(section)) for section in self.template.sections]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            await self.client.aclose()
        return self.result_of(results, started)

    def result_of(self, results: dict[str, SectionResult], started: float) -> DraftResult:
        """The draft's result from every section's (in template order, open questions capped)."""
        ordered = {s.key: results[s.key] for s in self.template.sections}
        _cap_open_questions(ordered)
        return DraftResult(sections=ordered, usage=self.spent, seconds=time.perf_counter() - started)

    def section_inputs(
        self, section: TemplateSection, needs: tuple[str, ...], results: dict[str, SectionResult]
    ) -> tuple[list[tuple[str, str]], dict[str, str]]:
        """What a section's request carries from the sections it ``needs`` (all settled in ``results``):
        their digests, and the requirement IDs they define when the section cites them."""
        context = [(self.template.section(dep).title, summarise(results[dep].content)) for dep in needs]
        return context, self._requirements(section, [results[dep] for dep in needs])

    def _requirements(self, section: TemplateSection, earlier: list[SectionResult]) -> dict[str, str]:
        """The requirement IDs (and texts) the earlier sections define, for a section that cites them."""
        if not issubclass(section.model, CoveringSection):
            return {}
        found: dict[str, str] = {}
        for result in earlier:
            if result.content.data is not None:
                rendered = render_section(self.template.section(result.key), result.content)
                found.update(defined_requirements(rendered))
        return found

    async def _probe(self) -> None:
        """One short call on the embedded engine for a first speed estimate (skipped once measured)."""
        client = self.client
        if not self.options.probe or client.endpoint.provider != Provider.local or client.speed.samples:
            return
        await client.probe()
        self.spent.calls += 1

    def _slot_limit(self) -> int:
        wanted = max(1, self.options.parallel)
        if not self.options.fit_to_speed:
            return wanted
        budget = max(self.policy.budget_for(max_tokens_for(s.model)) for s in self.template.sections)
        return fit_slots(wanted, budget, self.client.speed, timeout=self.client.settings.timeout)

    async def _acquire_slot(self, entry: tuple[int, int, str]) -> None:
        """Wait for a free slot; of the sections waiting, the first ``entry`` in order gets it."""
        heapq.heappush(self._ready, entry)
        try:
            # every section that became ready at the same moment joins the queue before one is chosen
            await asyncio.sleep(0)
            async with self._slots:
                await self._slots.wait_for(
                    lambda: self._ready[0] == entry and self._active < self._slot_limit()
                )
                heapq.heappop(self._ready)
                self._active += 1
                self.start_order.append(entry[2])
                self._slots.notify_all()  # the next in line may take another free slot
        except BaseException:  # cancelled while waiting: leave the queue
            if entry in self._ready:
                self._ready.remove(entry)
                heapq.heapify(self._ready)
            raise

    async def _release_slot(self) -> None:
        async with self._slots:
            self._active -= 1
            self._slots.notify_all()

    def _budget(self, model: type[SectionData]) -> int:
        """The section's completion budget: its schema's figure, capped by the policy, fitted to the speed."""
        wanted = self.policy.budget_for(max_tokens_for(model))
        if not self.options.fit_to_speed:
            return wanted
        # Fitted as if the call had the engine to itself: the slot limit (fit_slots) already keeps the
        # calls in flight few enough for each to finish its budget. Fitting to the slots in use cut
        # budgets below what a section needs when the engine was busy (the 1.5B's requirements at 205
        # tokens), and an answer cut off at the length limit is a whole call wasted.
        return fit_budget(wanted, self.client.speed, slots=1, timeout=self.client.settings.timeout)

    def _schema(self, model: type[SectionData], requirements: dict[str, str] | None) -> dict[str, Any]:
        """The JSON schema the server constrains the answer to: covers limited to the spec's IDs, lists
        capped for small models."""
        if issubclass(model, CoveringSection):
            # no requirements drafted (their section was marked): covers must stay empty, not invented
            schema = covering_schema(model, requirements or {})
        else:
            schema = json_schema(model)
        return capped_lists(schema, self.policy.max_items) if self.policy.max_items else schema

    async def _draft_section(
        self,
        section: TemplateSection,
        context: list[tuple[str, str]],
        *,
        open_points: bool,
        requirements: dict[str, str] | None = None,
    ) -> SectionResult:
        """One section asked for and re-asked until it passes; with keep_going one that never does (or
        times out) is marked [NEEDS ATTENTION] instead of ending the draft."""
        model = self._section_model(section, open_points)
        messages, retry_messages = self._messages(section, model, context, open_points, requirements)
        usage = Usage()
        started = time.perf_counter()
        self.on_event(SectionEvent(EventKind.STARTED, section.key, section.title))
        try:
            accepted = await self._ask(
                section, model, messages, retry_messages, context, open_points, requirements, usage
            )
        except ModelTimeoutError as exc:
            self.spent.add(usage)
            if not self.options.keep_going:
                raise
            # On an overloaded machine one slow section should not sink the whole draft.
            problems = [f"the model did not answer within the timeout ({exc.message})"]
            return self.marked(section, "timed out", problems, "", usage, started)
        except SectionFailedError as exc:
            self.spent.add(usage)
            if not self.options.keep_going:
                raise
            return self.marked(section, "failed validation", exc.errors, exc.last_output, usage, started)
        self.spent.add(usage)
        return self.accepted(section, accepted, usage, started)

    def _section_model(self, section: TemplateSection, open_points: bool) -> type[SectionData]:
        """The section's model; the first section's also holds assumptions and open questions (which a
        vague brief must fill)."""
        if not open_points:
            return section.model
        return with_open_points(section.model, require_questions=self.brief.vague)

    def _messages(
        self,
        section: TemplateSection,
        model: type[SectionData],
        context: list[tuple[str, str]],
        open_points: bool,
        requirements: dict[str, str] | None,
    ) -> tuple[list[Message], list[Message] | None]:
        """The section's request, and the task without its worked example for a re-ask after an answer
        copied it (None when the first request shows no example, or in the naive layout)."""
        grounding = self._grounding(section)
        if self.options.naive_layout:
            naive = naive_messages(
                self.prefix, section, model, context, open_points=open_points, requirements=requirements
            )
            return naive, None

        def request(with_example: bool) -> list[Message]:
            return section_messages(
                self.prefix,
                section,
                model,
                context,
                open_points=open_points,
                with_example=with_example,
                with_template=self.policy.show_template,
                grounding=grounding,
                requirements=requirements,
                brief=f"{self.brief.title}\n{self.brief.body}",
            )

        example_first = self.policy.example_first
        return request(example_first), (request(False) if example_first else None)

    async def _ask(
        self,
        section: TemplateSection,
        model: type[SectionData],
        messages: list[Message],
        retry_messages: list[Message] | None,
        context: list[tuple[str, str]],
        open_points: bool,
        requirements: dict[str, str] | None,
        usage: Usage,
    ) -> Accepted:
        """The re-ask loop (agent.drafting.reask) on this section, with the leak and grounding checks."""

        def on_retry(attempt: int, problems: list[str]) -> None:
            self.on_event(SectionEvent(EventKind.RETRY, section.key, section.title, attempt, problems))

        return await ask_section(
            self.client,
            messages,
            section,
            model,
            self.policy,
            usage,
            checks=self._checks(section, context, open_points),
            retry_messages=retry_messages,
            cache_prompt=not self.options.naive_layout,
            on_retry=on_retry,
            budget=self._budget(model),
            # --strict: a timed-out section ends the draft at once, as a failed one does
            reask_timeouts=self.options.keep_going,
            validation_context=covering_context(requirements) if requirements else None,
            schema=self._schema(model, requirements),
            brief_terms=self.brief_terms,
            language=self.language.code,
        )

    def section_ask(
        self,
        section: TemplateSection,
        context: list[tuple[str, str]],
        *,
        open_points: bool,
        requirements: dict[str, str] | None,
    ) -> SectionAsk:
        """The section's attempts as the live loop makes them (messages, checks, schema, budget), for a
        caller that sends the requests itself (agent.drafting.batch_waves)."""
        model = self._section_model(section, open_points)
        messages, retry_messages = self._messages(section, model, context, open_points, requirements)
        return SectionAsk(
            messages,
            section,
            model,
            self.policy,
            checks=self._checks(section, context, open_points),
            retry_messages=retry_messages,
            budget=self._budget(model),
            validation_context=covering_context(requirements) if requirements else None,
            schema=self._schema(model, requirements),
            brief_terms=self.brief_terms,
            language=self.language.code,
        )

    def _checks(
        self, section: TemplateSection, context: list[tuple[str, str]], open_points: bool
    ) -> list[Check]:
        """The checks every answer of this section passes: no prompt leak, and about the brief."""

        def grounded(answer: str, data: SectionData) -> list[str]:
            # off-topic answers (the prompt's example feature, another product) are re-asked
            return grounding_problems(
                data.render_data(),
                section,
                self.brief,
                [text for _, text in context],
                root=open_points,
                language=self.language.code,
            )

        return [leak_check(self.prefix), grounded, *self._language_checks(section)]

    def _language_checks(self, section: TemplateSection) -> list[Check]:
        """A spec in another language than English: a section written in another one is re-asked."""
        code = self.language.code
        if code == ENGLISH:
            return []
        return [lambda answer, data: language_problems(data.render_data(), section, code)]

    def accepted(
        self, section: TemplateSection, accepted: Accepted, usage: Usage, started: float
    ) -> SectionResult:
        """The result of a section whose answer passed, told as done."""
        data = accepted.data
        content = SectionContent(
            data=data.render_data(),
            assumptions=list(getattr(data, "assumptions", []) or []),
            open_questions=list(getattr(data, "open_questions", []) or []),
        )
        self.on_event(
            SectionEvent(
                EventKind.DONE, section.key, section.title, accepted.attempt, accepted.dropped, usage
            )
        )
        return SectionResult(
            section.key,
            section.title,
            ResultStatus.OK,
            accepted.attempt,
            usage,
            time.perf_counter() - started,
            content,
            dropped=accepted.dropped,
        )

    def marked(
        self,
        section: TemplateSection,
        verb: str,
        problems: list[str],
        rejected: str,
        usage: Usage,
        started: float,
    ) -> SectionResult:
        """The result of a section marked [NEEDS ATTENTION] (``verb``: "timed out" or "failed validation"),
        told as attention; ``rejected`` is its last answer, if one came."""
        attempts = self.policy.attempts
        reason = f"{verb} after {attempts} attempt(s): {problems[0] if problems else 'unknown'}"
        self.on_event(
            SectionEvent(EventKind.ATTENTION, section.key, section.title, attempts, problems, usage)
        )
        return SectionResult(
            section.key,
            section.title,
            ResultStatus.ATTENTION,
            attempts,
            usage,
            time.perf_counter() - started,
            SectionContent(attention=reason),
            problems,
            rejected,
        )


def _cap_open_questions(results: dict[str, SectionResult]) -> None:
    """At most MAX_OPEN_QUESTIONS clarification markers per spec."""
    remaining = MAX_OPEN_QUESTIONS
    for result in results.values():
        questions = result.content.open_questions
        result.content.open_questions = questions[: max(0, remaining)]
        remaining -= len(result.content.open_questions)
