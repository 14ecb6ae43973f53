"""How the drafter packs sections onto the server's slots, with a scripted client (no model, no HTTP).

The scripted client answers every request with a valid instance of the requested schema after a delay
proportional to the section's completion budget, and records when each call started and ended.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from pathlib import Path
from typing import Any

from helpers.fault_server import _Namer, answer_for, violation_for
from helpers.topic import brief_topic

from agent.drafting.brief import load_brief
from agent.drafting.drafter import Drafter, DraftOptions
from agent.drafting.plan import BRIEF_SUFFICES, critical_path, dependencies
from agent.drafting.reask import max_tokens_for
from agent.llm.client import ChatClient, Completion, Usage
from agent.llm.providers import Endpoint, ModelSettings, Provider
from agent.specdoc.template import SpecTemplate
from agent.specdoc.template_resolver import load_template

ROOT = Path(__file__).resolve().parents[2]
BRIEF = ROOT / "examples" / "briefs" / "team-invitations.md"
#: seconds of scripted "generation" per completion token
PER_TOKEN = 0.0006


class ScriptedClient(ChatClient):
    """Answers validly after a budget-proportional delay; ``invalid_first`` sections fail once."""

    def __init__(self, invalid_first: tuple[str, ...] = ()) -> None:
        endpoint = Endpoint(Provider.compatible, "http://127.0.0.1:9/v1", "scripted-7b", _no_key())
        super().__init__(endpoint, ModelSettings(use_cache=False, timeout=30))
        self.invalid_first = set(invalid_first)
        #: (section title, start, end, messages) per call
        self.calls: list[tuple[str, float, float, list[dict[str, str]]]] = []
        self.t0 = time.perf_counter()

    async def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], **kwargs: Any
    ) -> Completion:
        title = _title(messages)
        start = time.perf_counter() - self.t0
        await asyncio.sleep(kwargs["max_tokens"] * PER_TOKEN)
        end = time.perf_counter() - self.t0
        self.calls.append((title, start, end, messages))
        if title in self.invalid_first:
            self.invalid_first.discard(title)
            answer: Any = violation_for(schema)
        else:
            prompt = " ".join(m["content"] for m in messages)
            answer = answer_for(schema, namer=_Namer(subject=brief_topic(prompt)))
        return Completion(json.dumps(answer), Usage(prompt_tokens=10, completion_tokens=10, calls=1), "stop")

    async def aclose(self) -> None:
        return None


def _no_key() -> Any:
    from pydantic import SecretStr

    return SecretStr("not-a-key")


def _title(messages: list[dict[str, str]]) -> str:
    for message in reversed(messages):
        found = re.search(r'the section "([^"]+)"', message["content"])
        if found:
            return found.group(1)
    raise AssertionError("no section named in the request")


Drafted = tuple[Drafter, "ScriptedClient", SpecTemplate]


def _draft(parallel: int, invalid_first: tuple[str, ...] = ()) -> Drafted:
    template = load_template("tech-spec")
    client = ScriptedClient(invalid_first)
    options = DraftOptions(parallel=parallel, fit_to_speed=False, max_retries=1)
    drafter = Drafter(client, load_brief(BRIEF), template, options)
    client.t0 = time.perf_counter()
    result = asyncio.run(drafter.draft())
    assert all(r.status == "ok" for r in result.sections.values())
    return drafter, client, template


def _chains(template: SpecTemplate) -> dict[str, int]:
    weights = {s.key: max_tokens_for(s.model) for s in template.sections}
    return critical_path(dependencies(template), weights.__getitem__)


def test_one_slot_takes_the_longest_ready_chain_first() -> None:
    """With one slot, each section started is the one with the heaviest chain among those ready."""
    drafter, _, template = _draft(parallel=1)
    graph, chains = dependencies(template), _chains(template)
    order = [s.key for s in template.sections]
    done: set[str] = set()
    for key in drafter.start_order:
        ready = [k for k in order if k not in done and set(graph[k]) <= done]
        assert key in ready, f"{key} started before the sections it needs"
        assert chains[key] == max(chains[k] for k in ready), (key, ready)
        done.add(key)
    assert drafter.start_order[0] == "technical_requirements"
    assert sorted(drafter.start_order) == sorted(order)


def test_no_slot_idle_while_a_ready_section_waits() -> None:
    _, client, template = _draft(parallel=4)
    titles = {s.title: s.key for s in template.sections}
    graph = dependencies(template)
    spans = {titles[title]: (start, end) for title, start, end, _ in client.calls}
    tolerance = 0.12
    opened = min(start for start, _ in spans.values())  # once the first prompts are rendered
    for key, (start, _) in spans.items():
        ready = max((spans[dep][1] for dep in graph[key]), default=opened)
        assert start >= ready - tolerance, f"{key} started before its dependencies ended"
        if start - ready <= tolerance:
            continue
        # it waited: at every moment meanwhile all four slots were busy (a call counts as busy from
        # `tolerance` before its start to `tolerance` after its end: rendering a prompt takes time too)
        moments = [ready + tolerance, *(e for _, e in spans.values() if ready < e < start - tolerance)]
        for moment in moments:
            busy = [s for s, e in spans.values() if s - tolerance <= moment < e + tolerance]
            assert len(busy) >= 4, f"{key} waited at {moment:.2f} s with {len(busy)} calls in flight"


def test_sections_that_need_only_the_brief_do_not_wait_for_the_overview() -> None:
    _, client, template = _draft(parallel=4)
    titles = {s.title: s.key for s in template.sections}
    first = {titles[title]: start for title, start, _, _ in reversed(client.calls)}
    overview_end = min(end for title, _, end, _ in client.calls if titles[title] == "overview")
    early = [key for key, start in first.items() if start < overview_end]
    assert len(early) >= 3, "the other slots must not idle while the Overview is drafted"
    assert set(early) - {"overview"} <= set(BRIEF_SUFFICES)


def test_every_request_shares_a_byte_identical_prefix_and_summaries_come_last() -> None:
    _, client, template = _draft(parallel=4, invalid_first=("Testing Strategy", "API Specifications"))
    bodies = [json.dumps(messages[:2]) for _, _, _, messages in client.calls]
    assert len(set(bodies)) == 1, "system + brief must be byte-identical in every request, re-asks included"
    reasks = [messages for title, _, _, messages in client.calls if len(messages) > 3]
    assert len(reasks) == 2 and all(m[3]["role"] == "assistant" for m in reasks)
    for messages in reasks:
        # no example was copied: the re-ask extends the first request's conversation unchanged, so the
        # server's prompt cache covers all of it but the repair note
        first = next(m for t, _, _, m in client.calls if t == _title(messages) and len(m) == 3)
        assert messages[:3] == first
    graph = dependencies(template)
    for section in template.sections:
        task = next(m[2]["content"] for t, _, _, m in client.calls if t == section.title)
        needs = [template.section(dep).title for dep in graph[section.key]]
        if not needs:
            assert "Decided in earlier sections" not in task
            continue
        summaries = task[task.index("Decided in earlier sections") :]
        assert task.index("Return a JSON object") < task.index("Decided in earlier sections")
        for title in needs:
            assert f"- {title}: " in summaries and f"- {title}: (not available)" not in summaries


def test_plan_graph_and_critical_path() -> None:
    template = load_template("tech-spec")
    graph = dependencies(template)
    assert graph["technical_requirements"] == () and graph["api_specifications"] == ()
    assert graph["testing_strategy"] == ("overview", "technical_requirements")
    chains = _chains(template)
    budget = {s.key: max_tokens_for(s.model) for s in template.sections}
    assert chains["technical_requirements"] == budget["technical_requirements"] + max(
        budget["testing_strategy"], budget["implementation_timeline"], budget["success_criteria"]
    )
    assert chains["notes"] == budget["notes"]
    # other templates keep the conservative rule: every section waits for the first one
    adr = load_template("adr")
    root = adr.sections[0].key
    assert all(deps == (root,) for key, deps in dependencies(adr).items() if key != root)


class CopyingClient(ScriptedClient):
    """First answer of Technical Requirements copies the prompt's example; then answers validly."""

    async def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], **kwargs: Any
    ) -> Completion:
        completion = await super().complete_json(messages, schema, **kwargs)
        if len(messages) == 3 and _title(messages) == "Technical Requirements":
            data = json.loads(completion.text)
            data["functional_requirements"][0] = "Users can request a reset link from the sign-in page."
            completion.text = json.dumps(data)
        return completion


def test_a_reask_hides_the_example_only_after_it_was_copied() -> None:
    template = load_template("tech-spec")
    section = template.section("technical_requirements")
    template = dataclasses.replace(template, sections=[template.sections[0], section])
    client = CopyingClient()
    options = DraftOptions(parallel=1, fit_to_speed=False, max_retries=1)
    result = asyncio.run(Drafter(client, load_brief(BRIEF), template, options).draft())
    assert result.sections["technical_requirements"].attempts == 2
    first, reask = [m for t, _, _, m in client.calls if t == section.title]
    assert "Example of one field" in first[2]["content"]
    assert "Example of one field" not in reask[2]["content"]
    assert reask[:2] == first[:2]
