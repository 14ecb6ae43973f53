"""The drafting agent: every section of a template drafted, validated and re-asked when wrong.

Sections run in dependency order (agent.drafting.plan); independent ones run concurrently, up to
``parallel`` requests in flight. Each answer is parsed, validated against the section's Pydantic
model and the quality checks, and re-asked with the problems listed, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agent.drafting.brief import Brief
from agent.drafting.plan import dependencies
from agent.drafting.policy import ReaskPolicy, policy_for
from agent.drafting.prompting import (
    example_values,
    naive_messages,
    repair_messages,
    section_messages,
    shared_prefix,
)
from agent.drafting.quality import check_section, iter_strings, normalise, without_example_copies
from agent.errors import ModelError, ModelTimeoutError, SectionFailedError
from agent.llm.client import ChatClient, Usage
from agent.llm.providers import Provider
from agent.llm.speed import MIN_BUDGET, fit_budget, fit_slots
from agent.spec.render import SectionContent
from agent.spec.schemas.base import SectionData, json_schema
from agent.spec.schemas.generic import with_open_points
from agent.spec.template import SpecTemplate, TemplateSection

MAX_OPEN_QUESTIONS = 5
#: a brief shorter than this leaves most of a spec open: its first section must ask questions
VAGUE_BRIEF_WORDS = 40


@dataclass(frozen=True)
class DraftOptions:
    #: re-asks per section; None lets the re-ask policy choose from the model's size
    max_retries: int | None = None
    #: a section that never validates (or times out) is marked [NEEDS ATTENTION] and the draft finishes;
    #: False (--strict) fails the whole draft instead
    keep_going: bool = True
    parallel: int = 4
    temperature: float = 0.2
    #: the re-ask policy; None picks one from the model (agent.drafting.policy.policy_for)
    policy: ReaskPolicy | None = None
    #: fit completion budgets and parallel calls to the engine's measured speed
    fit_to_speed: bool = True
    #: measure the embedded engine's speed with one short call before drafting
    probe: bool = False
    #: benchmark baseline only: section task first, no shared prefix, no server-side prompt cache
    naive_layout: bool = False


@dataclass
class SectionEvent:
    kind: str  # "started" | "retry" | "done" | "attention"
    key: str
    title: str
    attempt: int = 1
    problems: list[str] = field(default_factory=list)
    usage: Usage | None = None


@dataclass
class SectionResult:
    key: str
    title: str
    status: str  # "ok" | "attention"
    attempts: int
    usage: Usage
    seconds: float
    content: SectionContent
    problems: list[str] = field(default_factory=list)

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
        return [r.title for r in self.sections.values() if r.status == "attention"]

    @property
    def retries(self) -> int:
        return sum(r.retries for r in self.sections.values())

    def contents(self) -> dict[str, SectionContent]:
        return {key: result.content for key, result in self.sections.items()}


EventHandler = Callable[[SectionEvent], None]


def validate_answer(
    answer: str, model: type[SectionData], section: TemplateSection
) -> tuple[SectionData | None, list[str]]:
    """Parse and validate a model answer; return the data or the problems to re-ask with."""
    try:
        obj = json.loads(answer)
    except json.JSONDecodeError as exc:
        return None, [
            f"the answer is not valid JSON ({exc.msg} at character {exc.pos}); reply with one JSON object"
        ]
    if not isinstance(obj, dict):
        return None, ["the answer must be a JSON object with the section's fields"]
    try:
        data = model.model_validate(obj)
    except ValidationError as exc:
        return None, [_format_error(err) for err in exc.errors()]
    problems = check_section(obj, section, examples=example_values(section.key))
    return (None, problems) if problems else (data, [])


def prompt_leaks(answer: str, system_prompt: str, *, words: int = 8) -> list[str]:
    """A problem when the answer repeats ``words`` words in a row of the system prompt (injection obeyed)."""
    prompt = normalise(system_prompt).split()
    said = f" {normalise(answer)} "
    for start in range(max(0, len(prompt) - words + 1)):
        if f" {' '.join(prompt[start : start + words])} " in said:
            return ["the answer repeats the instructions given to you; write the section's content instead"]
    return []


def _format_error(err: Any) -> str:
    where = ".".join(str(part) for part in err.get("loc", ())) or "answer"
    got = err.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    if len(shown) > 80:
        shown = shown[:80] + "...'"
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message} (got {shown})"


def max_tokens_for(model: type[SectionData]) -> int:
    """A completion budget sized from the schema: enough for every field, not for a loop."""
    schema = json_schema(model)
    defs = schema.get("$defs", {})

    def weight(prop: dict[str, Any], depth: int = 0) -> int:
        if "$ref" in prop:
            prop = defs[prop["$ref"].rsplit("/", 1)[-1]]
        if "allOf" in prop:
            return sum(weight(p, depth) for p in prop["allOf"])
        kind = prop.get("type")
        if kind == "object":
            return sum(weight(p, depth + 1) for p in prop.get("properties", {}).values()) + 4
        if kind == "array":
            items = min(int(prop.get("maxItems", 6)), 6)
            return weight(prop.get("items", {}), depth + 1) * items + 4
        if kind == "string":
            return min(int(prop.get("maxLength", 300)) // 4, 90) + 4
        return 6

    total = sum(weight(p) for p in schema.get("properties", {}).values())
    return max(256, min(1536, total))


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
        *,
        spent: Usage | None = None,
    ) -> None:
        self.client = client
        self.brief = brief
        self.template = template
        self.options = options
        self.on_event = on_event or (lambda event: None)
        self.prefix = shared_prefix(brief, template)
        self.policy = options.policy or policy_for(client.endpoint.model, options.max_retries)
        #: every token and call spent, whatever the outcome (read it after a failure too)
        self.spent = spent if spent is not None else Usage()
        self._active = 0
        self._slots = asyncio.Condition()

    async def draft(self) -> DraftResult:
        started = time.perf_counter()
        graph = dependencies(self.template)
        await self._probe()
        results: dict[str, SectionResult] = {}
        done: dict[str, asyncio.Event] = {key: asyncio.Event() for key in graph}
        root = self.template.sections[0].key

        async def run(section: TemplateSection) -> None:
            for dep in graph[section.key]:
                await done[dep].wait()
            context = [
                (self.template.section(dep).title, summarise(results[dep].content))
                for dep in graph[section.key]
            ]
            await self._acquire_slot()
            try:
                results[section.key] = await self._draft_section(
                    section, context, open_points=section.key == root
                )
            finally:
                await self._release_slot()
            done[section.key].set()

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
        ordered = {s.key: results[s.key] for s in self.template.sections}
        _cap_open_questions(ordered)
        return DraftResult(sections=ordered, usage=self.spent, seconds=time.perf_counter() - started)

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
        budget = max(max_tokens_for(s.model) for s in self.template.sections)
        return fit_slots(wanted, budget, self.client.speed, timeout=self.client.settings.timeout)

    async def _acquire_slot(self) -> None:
        async with self._slots:
            await self._slots.wait_for(lambda: self._active < self._slot_limit())
            self._active += 1

    async def _release_slot(self) -> None:
        async with self._slots:
            self._active -= 1
            self._slots.notify_all()

    def _budget(self, model: type[SectionData]) -> int:
        wanted = max_tokens_for(model)
        if not self.options.fit_to_speed:
            return wanted
        settings = self.client.settings
        return fit_budget(wanted, self.client.speed, slots=max(1, self._active), timeout=settings.timeout)

    async def _draft_section(
        self, section: TemplateSection, context: list[tuple[str, str]], *, open_points: bool
    ) -> SectionResult:
        vague = len(self.brief.body.split()) < VAGUE_BRIEF_WORDS
        model = with_open_points(section.model, require_questions=vague) if open_points else section.model
        schema = json_schema(model)
        if self.options.naive_layout:
            messages = naive_messages(self.prefix, section, model, context, open_points=open_points)
        else:
            messages = section_messages(self.prefix, section, model, context, open_points=open_points)
        usage = Usage()
        started = time.perf_counter()
        policy = self.policy
        attempts = max(1, policy.attempts)
        shrink = 1.0
        if not policy.with_example(1):
            messages = section_messages(
                self.prefix, section, model, context, open_points=open_points, with_example=False
            )
        answer, problems = "", list[str]()
        self.on_event(SectionEvent("started", section.key, section.title))
        for attempt in range(1, attempts + 1):
            # Each re-ask samples a little hotter and penalises repetition more (the policy says how
            # much): a small model that looped once tends to loop again at the same settings.
            try:
                completion = await self.client.complete_json(
                    messages,
                    schema,
                    max_tokens=max(MIN_BUDGET, int(self._budget(model) * shrink)),
                    temperature=policy.temperature(self.options.temperature, attempt),
                    repeat_penalty=policy.repeat_penalty(attempt),
                    cache_prompt=not self.options.naive_layout,
                )
            except ModelTimeoutError as exc:
                if not self.options.keep_going:
                    raise ModelError(f"Section '{section.title}': {exc.message}", hint=exc.hint) from None
                # On an overloaded machine one slow section should not sink the whole draft.
                problems = [f"the model did not answer within the timeout ({exc.message})"]
                usage.calls += 1
                self.spent.calls += 1
                if attempt < attempts:
                    # Asked again in the open (never a hidden re-send), with half the budget.
                    shrink /= 2
                    self.on_event(SectionEvent("retry", section.key, section.title, attempt, problems))
                    continue
                break
            except ModelError as exc:
                # The transport's own retries are spent: say which section was being drafted.
                raise ModelError(f"Section '{section.title}': {exc.message}", hint=exc.hint) from None
            usage.add(completion.usage)
            self.spent.add(completion.usage)
            if completion.fault is not None:
                # A malformed reply has nothing to repair: ask the same question again.
                problems = [completion.fault]
                if attempt < attempts:
                    self.on_event(SectionEvent("retry", section.key, section.title, attempt, problems))
                continue
            answer = completion.text
            data, problems = validate_answer(answer, model, section)
            if data is not None:
                problems = prompt_leaks(answer, self.prefix[0]["content"])
                data = None if problems else data
            if completion.finish_reason == "length" and data is None:
                problems = ["the answer was cut off at the length limit; write shorter values", *problems]
            if data is not None:
                content = SectionContent(
                    data=data.render_data(),
                    assumptions=list(getattr(data, "assumptions", []) or []),
                    open_questions=list(getattr(data, "open_questions", []) or []),
                )
                self.on_event(SectionEvent("done", section.key, section.title, attempt, usage=usage))
                return SectionResult(
                    section.key, section.title, "ok", attempt, usage, time.perf_counter() - started, content
                )
            if attempt < attempts:
                self.on_event(SectionEvent("retry", section.key, section.title, attempt, problems))
                if attempt == 1 and policy.with_example(1) != policy.with_example(2):
                    # A small model that copied the example copies it again while it can see it.
                    messages = section_messages(
                        self.prefix,
                        section,
                        model,
                        context,
                        open_points=open_points,
                        with_example=policy.with_example(2),
                    )
                quoted = without_example_copies(answer, example_values(section.key))
                messages = repair_messages(messages, section, quoted, problems)
        if not self.options.keep_going:
            raise SectionFailedError(section.title, attempts, problems, answer)
        attempts = attempt
        verb = "timed out" if problems and "did not answer" in problems[0] else "failed validation"
        reason = f"{verb} after {attempts} attempt(s): {problems[0] if problems else 'unknown'}"
        self.on_event(SectionEvent("attention", section.key, section.title, attempts, problems, usage))
        return SectionResult(
            section.key,
            section.title,
            "attention",
            attempts,
            usage,
            time.perf_counter() - started,
            SectionContent(attention=reason),
            problems,
        )


def _cap_open_questions(results: dict[str, SectionResult]) -> None:
    """At most MAX_OPEN_QUESTIONS clarification markers per spec."""
    remaining = MAX_OPEN_QUESTIONS
    for result in results.values():
        questions = result.content.open_questions
        result.content.open_questions = questions[: max(0, remaining)]
        remaining -= len(result.content.open_questions)
