"""The one re-ask loop: ask for a section, validate the answer, re-ask with the problems, bounded.

Draft, refine and chat all go through :func:`ask_section`. The sampling ramp (each re-ask a little
hotter, with a stronger repeat penalty) and the repair messages live here and nowhere else.

Validation is pluggable: the answer is parsed and checked against the section model and the quality
rules (:func:`validate_answer`), then every :data:`Check` in ``checks`` runs on the accepted data
(the prompt-leak check by default). A check returns the problems to re-ask with, or none.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agent.drafting.copying import without_example_copies
from agent.drafting.examples import example_values
from agent.drafting.policy import ReaskPolicy
from agent.drafting.prompting import Message, repair_messages
from agent.drafting.quality import EXAMPLE_COPY, check_section
from agent.drafting.salvage import salvage
from agent.drafting.values import normalise
from agent.errors import ModelError, ModelTimeoutError, SectionFailedError
from agent.io.validation import validation_problems
from agent.llm.client import ChatClient, Completion, Usage
from agent.specdoc.language import ENGLISH
from agent.specdoc.schemas.base import SectionData, json_schema
from agent.specdoc.template import TemplateSection

#: a check run on an answer that passed the schema: (raw answer, parsed data) -> problems
Check = Callable[[str, SectionData], list[str]]
#: told about every re-ask: (attempt that failed, its problems)
RetryHandler = Callable[[int, list[str]], None]

CUT_OFF = "the answer was cut off at the length limit; write shorter values"


#: the smallest completion budget a timed-out section is asked again with
MIN_TIMEOUT_BUDGET = 128


@dataclass
class Accepted:
    """An answer that passed every check."""

    data: SectionData
    answer: str
    attempt: int
    #: the problems of the list items dropped from the last answer, and of its fields asked as questions
    #: instead, to keep the rest (:mod:`.salvage`)
    dropped: list[str] = field(default_factory=list)


def validate_answer(
    answer: str,
    model: type[SectionData],
    section: TemplateSection,
    *,
    context: dict[str, Any] | None = None,
    brief_terms: frozenset[str] = frozenset(),
    language: str = ENGLISH,
) -> tuple[SectionData | None, list[str]]:
    """Parse and validate a model answer; return the data or the problems to re-ask with.

    ``context`` is pydantic's validation context: what the model checks the answer against beyond its
    own content (``covering_context``: the spec's requirement IDs, which ``covers`` must cite).
    ``brief_terms``: the brief's content stems, which an answer may share with the prompt's example.
    ``language``: the spec's, whose smell rules judge its requirements.
    """
    data, problems = parse_answer(answer, model, context=context)
    if data is None:
        return None, problems
    problems = check_section(
        json.loads(answer),
        section,
        examples=example_values(section.key),
        brief_terms=brief_terms,
        language=language,
    )
    return (None, problems) if problems else (data, [])


def parse_answer(
    answer: str, model: type[SectionData], *, context: dict[str, Any] | None = None
) -> tuple[SectionData | None, list[str]]:
    """The schema check alone: the answer parsed into the section model, or why it cannot be."""
    try:
        obj = json.loads(answer)
    except json.JSONDecodeError as exc:
        return None, [
            f"the answer is not valid JSON ({exc.msg} at character {exc.pos}); reply with one JSON object"
        ]
    if not isinstance(obj, dict):
        return None, ["the answer must be a JSON object with the section's fields"]
    try:
        return model.model_validate(obj, context=context), []
    except ValidationError as exc:
        return None, validation_problems(exc, got=_answer_value, whole="answer")


def prompt_leaks(answer: str, system_prompt: str, *, words: int = 8) -> list[str]:
    """A problem when the answer repeats ``words`` words in a row of the system prompt (injection obeyed)."""
    prompt = normalise(system_prompt).split()
    said = f" {normalise(answer)} "
    for start in range(max(0, len(prompt) - words + 1)):
        if f" {' '.join(prompt[start : start + words])} " in said:
            return ["the answer repeats the instructions given to you; write the section's content instead"]
    return []


def leak_check(messages: Sequence[Message]) -> Check:
    """The prompt-leak check against the system message of ``messages`` (none without one)."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    return lambda answer, data: prompt_leaks(answer, system) if system else []


def _answer_value(value: object) -> str:
    """A bad value of an answer as the re-ask quotes it: an object or a list by its type alone."""
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return shown[:80] + "...'" if len(shown) > 80 else shown


@functools.lru_cache(maxsize=512)
def max_tokens_for(model: type[SectionData]) -> int:
    """A completion budget sized from the schema: enough for every field, not for a loop.

    Computed once per model class (the drafter asks for it every time a slot is awaited).
    """
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


@dataclass(frozen=True)
class AttemptRequest:
    """What one attempt sends: the conversation, the schema the answer is held to, and its sampling."""

    messages: list[Message]
    schema: dict[str, Any]
    max_tokens: int
    temperature: float
    repeat_penalty: float


class SectionAsk:
    """One section's attempts, without the transport: the request of the current attempt, and the
    judgement of an answer to it (accepted, asked again with its problems, or failed after salvage).

    The live loop (:func:`ask_section`) sends each request and judges the reply at once; the batch path
    (agent.drafting.batch_waves) sends the requests of many sections in one file and judges the answers
    when the results come back. Both go through these two steps, so an answer is judged the same way
    whichever way it travelled. The options are :func:`ask_section`'s.
    """

    def __init__(
        self,
        messages: list[Message],
        section: TemplateSection,
        model: type[SectionData],
        policy: ReaskPolicy,
        *,
        checks: Sequence[Check] | None = None,
        retry_messages: list[Message] | None = None,
        budget: int | None = None,
        validation_context: dict[str, Any] | None = None,
        schema: dict[str, Any] | None = None,
        brief_terms: frozenset[str] = frozenset(),
        language: str = ENGLISH,
    ) -> None:
        self.messages, self.section, self.model, self.policy = messages, section, model, policy
        self.language = language
        self.checks = [leak_check(messages)] if checks is None else list(checks)
        self.retry_messages = retry_messages
        # ``budget``: the caller's completion budget (fitted to the engine's speed), else the schema's own
        self.budget = budget if budget is not None else max_tokens_for(model)
        self.context = validation_context
        self.schema = schema if schema is not None else json_schema(model)
        self.brief_terms = brief_terms
        #: the attempt the next request is (1 for the first answer)
        self.attempt = 1
        #: the last answer that came (a malformed reply leaves the one before) and the latest problems
        self.answer = ""
        self.problems: list[str] = []

    def request(self) -> AttemptRequest:
        """The request of the current attempt (each re-ask samples hotter, with a stronger penalty)."""
        return AttemptRequest(
            self.messages,
            self.schema,
            self.budget,
            self.policy.temperature_for(self.attempt),
            self.policy.repeat_penalty_for(self.attempt),
        )

    def judge(self, completion: Completion) -> Accepted | None:
        """The answer to the current attempt: Accepted when it passes every check; None when it is asked
        again (``problems`` say why, ``attempt`` is the next one). After the last attempt the answer
        without its failing list items, its unanswered fields asked as questions, is accepted if that
        passes (:mod:`.salvage`), else SectionFailedError (attempts, problems, last output) is raised."""
        if completion.fault is not None:
            # A malformed reply has nothing to repair: ask the same question again.
            self.problems = [completion.fault]
            return self._next()
        self.answer = completion.text
        data, self.problems = _judged(
            completion,
            self.model,
            self.section,
            self.checks,
            context=self.context,
            brief_terms=self.brief_terms,
            language=self.language,
        )
        if data is not None:
            return Accepted(data, self.answer, self.attempt)
        if self.attempt < self.policy.attempts:
            if (
                self.attempt == 1
                and self.retry_messages is not None
                and any(EXAMPLE_COPY in p for p in self.problems)
            ):
                self.messages = self.retry_messages
            examples = example_values(self.section.key)
            self.messages = repair_messages(
                self.messages,
                self.section,
                without_example_copies(self.answer, examples, self.brief_terms),
                self.problems,
            )
        return self._next()

    def timed_out(self) -> bool:
        """The current attempt got no answer in time: True when another attempt is left (asked in the open,
        never a hidden re-send of the same call, with half the budget)."""
        if self.attempt >= self.policy.attempts:
            return False
        self.budget = max(MIN_TIMEOUT_BUDGET, self.budget // 2)
        self.attempt += 1
        return True

    def _next(self) -> Accepted | None:
        if self.attempt < self.policy.attempts:
            self.attempt += 1
            return None
        kept = _without_failing_items(
            self.answer,
            self.problems,
            self.model,
            self.section,
            self.checks,
            context=self.context,
            brief_terms=self.brief_terms,
            language=self.language,
        )
        if kept is not None:
            data, trimmed = kept
            return Accepted(data, trimmed, self.policy.attempts, self.problems)
        raise SectionFailedError(self.section.title, self.policy.attempts, self.problems, self.answer)


# Longer than ~60 lines only by its signature (the loop's options) and docstring: the loop itself is about
# 30 lines; what changes from attempt to attempt lives in SectionAsk.
async def ask_section(
    client: ChatClient,
    messages: list[Message],
    section: TemplateSection,
    model: type[SectionData],
    policy: ReaskPolicy,
    usage: Usage,
    *,
    checks: Sequence[Check] | None = None,
    retry_messages: list[Message] | None = None,
    cache_prompt: bool = True,
    on_retry: RetryHandler | None = None,
    budget: int | None = None,
    reask_timeouts: bool = True,
    validation_context: dict[str, Any] | None = None,
    schema: dict[str, Any] | None = None,
    brief_terms: frozenset[str] = frozenset(),
    language: str = ENGLISH,
) -> Accepted:
    """Ask until an answer passes, at most ``policy.attempts`` times (the steps are :class:`SectionAsk`'s).

    ``usage`` accumulates every answer's token counts (also when the section fails).
    ``retry_messages``, when given, replace ``messages`` from the first re-ask on if the rejected answer
    copied the prompt's example (the task without its worked example: a small model that copied the
    example copies it again while it can see it). Otherwise a re-ask extends the very same conversation,
    so the server's prompt cache holds all of it but the short repair note.
    When the last answer fails only in items of its lists or in a few fields that said nothing for this
    feature, those items are dropped and those fields asked as questions, and the rest is accepted if it
    passes every check again (``Accepted.dropped`` says why; :mod:`.salvage`).
    Raises SectionFailedError (attempts, problems, last output) when no answer passes, and a
    ModelError naming the section when the server fails (a ModelTimeoutError on a timeout).
    ``validation_context`` is passed to the section model's validation (see :func:`validate_answer`).
    ``schema`` is the JSON schema the server constrains answers to (default: ``model``'s own), e.g. one
    whose ``covers`` lists only the spec's requirement IDs (:func:`covering_schema`).
    ``brief_terms`` (the brief's content stems) are words an answer may share with the prompt's example
    without copying it (:func:`agent.drafting.copying.copies_example`); ``language`` is the spec's (its
    requirements are judged by that language's smell rules).
    """
    ask = SectionAsk(
        messages,
        section,
        model,
        policy,
        checks=checks,
        retry_messages=retry_messages,
        budget=budget,
        validation_context=validation_context,
        schema=schema,
        brief_terms=brief_terms,
        language=language,
    )
    while True:
        request = ask.request()
        try:
            completion = await client.complete_json(
                request.messages,
                request.schema,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                repeat_penalty=request.repeat_penalty,
                cache_prompt=cache_prompt,
            )
        except ModelTimeoutError as exc:
            usage.calls += 1  # the call was made (and cancelled at the deadline): it counts
            if reask_timeouts and ask.timed_out():
                if on_retry is not None:
                    on_retry(
                        ask.attempt - 1, [f"the model did not answer within the timeout ({exc.message})"]
                    )
                continue
            raise ModelTimeoutError(f"Section '{section.title}': {exc.message}", hint=exc.hint) from None
        except ModelError as exc:
            # The transport's own retries are spent: say which section was being asked for.
            raise ModelError(f"Section '{section.title}': {exc.message}", hint=exc.hint) from None
        usage.add(completion.usage)
        accepted = ask.judge(completion)
        if accepted is not None:
            return accepted
        if on_retry is not None:
            on_retry(ask.attempt - 1, ask.problems)


def _judged(
    completion: Completion,
    model: type[SectionData],
    section: TemplateSection,
    checks: Sequence[Check],
    *,
    context: dict[str, Any] | None,
    brief_terms: frozenset[str],
    language: str,
) -> tuple[SectionData | None, list[str]]:
    """The answer's data when it passes the schema, the quality rules and every check, else its problems
    (first that it was cut off, when it was)."""
    answer = completion.text
    data, problems = validate_answer(
        answer, model, section, context=context, brief_terms=brief_terms, language=language
    )
    if data is not None:
        for check in checks:
            problems = check(answer, data)
            if problems:
                data = None
                break
    if completion.finish_reason == "length" and data is None:
        problems = [CUT_OFF, *problems]
    return data, problems


def _without_failing_items(
    answer: str,
    problems: list[str],
    model: type[SectionData],
    section: TemplateSection,
    checks: Sequence[Check],
    *,
    context: dict[str, Any] | None,
    brief_terms: frozenset[str],
    language: str,
) -> tuple[SectionData, str] | None:
    """The last answer without the list items its problems name and with its unanswered fields asked as
    questions (:func:`salvage`), if that passes every check again."""
    try:
        obj = json.loads(answer)
    except json.JSONDecodeError:
        return None
    trimmed = salvage(obj, problems) if isinstance(obj, dict) else None
    if trimmed is None:
        return None
    text = json.dumps(trimmed, ensure_ascii=False)
    data, _ = validate_answer(
        text, model, section, context=context, brief_terms=brief_terms, language=language
    )
    if data is None or any(check(text, data) for check in checks):
        return None
    return data, text
