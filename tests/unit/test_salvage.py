"""The last answer's failing list items are dropped, and a few unanswered fields asked as questions, to keep
the rest of a section; nothing else."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest
from helpers.answers import load_corpus

from agent.drafting.policy import ReaskPolicy
from agent.drafting.reask import ask_section
from agent.drafting.salvage import salvage
from agent.errors import SectionFailedError
from agent.llm.client import ChatClient, Completion, Usage
from agent.llm.providers import Endpoint, ModelSettings, Provider
from agent.specdoc.template import TemplateSection
from agent.specdoc.template_resolver import load_template

FILLER = "The system should work well in a variety of different ways for everything."


def _good(section: str) -> dict[str, Any]:
    """A good team-invitations answer of the labelled corpus (it passes every check)."""
    for case in load_corpus():
        if case.label == "good" and case.section == section and case.brief.endswith("team-invitations.md"):
            return copy.deepcopy(case.answer)
    raise AssertionError(f"no good answer for {section}")


class SameAnswerClient(ChatClient):
    """Answers every request with the same JSON (a model that makes the same mistake each time)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        from pydantic import SecretStr

        endpoint = Endpoint(Provider.compatible, "http://127.0.0.1:9/v1", "scripted", SecretStr("k"))
        super().__init__(endpoint, ModelSettings(use_cache=False, timeout=30))
        self.answer = json.dumps(answer)
        self.calls = 0

    async def complete_json(self, messages: Any, schema: Any, **kwargs: Any) -> Completion:
        self.calls += 1
        return Completion(self.answer, Usage(prompt_tokens=10, completion_tokens=10, calls=1), "stop")

    async def aclose(self) -> None:
        return None


def _ask(section: TemplateSection, answer: dict[str, Any], attempts: int = 2) -> tuple[Any, int]:
    client = SameAnswerClient(answer)
    messages = [{"role": "system", "content": "Write the section."}, {"role": "user", "content": "Go."}]
    policy = ReaskPolicy(attempts=attempts)
    accepted = asyncio.run(ask_section(client, messages, section, section.model, policy, Usage()))
    return accepted, client.calls


def test_a_failing_requirement_is_dropped_and_the_section_kept() -> None:
    section = load_template("tech-spec").section("technical_requirements")
    answer = _good("technical_requirements")
    answer["non_functional_requirements"][1]["condition"] = FILLER
    accepted, calls = _ask(section, answer)
    assert calls == 2  # re-asked first: dropping is the last resort
    data = json.loads(accepted.answer)
    assert len(data["non_functional_requirements"]) == len(answer["non_functional_requirements"]) - 1
    assert FILLER not in accepted.answer
    assert data["functional_requirements"] == answer["functional_requirements"]
    assert accepted.dropped and accepted.dropped[0].startswith("non_functional_requirements[1].condition")
    assert accepted.attempt == 2


def test_a_failing_plain_field_still_marks_the_section() -> None:
    section = load_template("tech-spec").section("performance_specifications")
    answer = _good("performance_specifications")
    answer["response_time_requirements"]["api_endpoints"]["condition"] = FILLER
    with pytest.raises(SectionFailedError) as failed:
        _ask(section, answer)
    assert "says nothing specific" in failed.value.errors[0]


def test_a_list_left_empty_marks_the_section() -> None:
    section = load_template("tech-spec").section("technical_requirements")
    answer = _good("technical_requirements")
    answer["quality_requirements"] = [FILLER + " One.", FILLER + " Two."]
    with pytest.raises(SectionFailedError):
        _ask(section, answer)


def test_salvage_drops_only_the_named_items() -> None:
    data = {"risks": ["a", "b", "c"], "notes": "n"}
    assert salvage(data, ["risks[1]: filler", "risks[2].name: loop"]) == {
        "risks": ["a"],
        "notes": "n",
    }
    assert data["risks"] == ["a", "b", "c"]  # the answer itself is not changed


@pytest.mark.parametrize(
    "problems",
    [
        [],
        ["notes: says nothing specific"],  # a plain field
        ["risks[1]: filler", "the same value 'x' fills 6 fields"],  # one problem not in an item
        ["risks[7]: filler"],  # no such item
        ["notes[0]: filler"],  # not a list
        ["risks[0]: a", "risks[1]: b", "risks[2]: c"],  # nothing would be left
    ],
)
def test_salvage_refuses_what_it_cannot_isolate(problems: list[str]) -> None:
    assert salvage({"risks": ["a", "b", "c"], "notes": "n"}, problems) is None


def test_a_repeated_requirement_is_dropped_and_the_section_kept() -> None:
    """The schema's own list rules (a repeated NFR metric) name the item, so it can be dropped alone
    (measured on the 1.5B: one repeated 'response time' marked a whole Technical Requirements)."""
    section = load_template("tech-spec").section("technical_requirements")
    answer = _good("technical_requirements")
    nfrs = answer["non_functional_requirements"]
    repeat = {**nfrs[1], "metric": nfrs[0]["metric"], "target": 2, "unit": "s"}
    answer["non_functional_requirements"] = [*nfrs, repeat]
    accepted, calls = _ask(section, answer)
    assert calls == 2
    data = json.loads(accepted.answer)
    assert data["non_functional_requirements"] == nfrs
    expected = f"non_functional_requirements.{len(nfrs)}: NFR metric {len(nfrs) + 1} repeats NFR metric 1"
    assert accepted.dropped[0].startswith(expected)


def test_salvage_reads_schema_positions() -> None:
    data = {"risks": ["a", "b", "c"]}
    assert salvage(data, ["risks.2: item 3 repeats item 1"]) == {"risks": ["a", "b"]}
    assert salvage(data, ["risks.2.name: Field required"]) == {"risks": ["a", "b"]}
    assert salvage(data, ["risks: List should have at least 3 items"]) is None


def test_an_unanswered_field_becomes_a_question_and_the_section_is_kept() -> None:
    """A rate limiter's 'Database Sharding' answered with filler twice (measured on the 1.5B)."""
    section = load_template("tech-spec").section("scalability_design")
    answer = _good("scalability_design")
    answer["horizontal_scaling"]["database_sharding"] = (
        "Data is partitioned across multiple databases to improve performance and scalability of the API."
    )
    accepted, calls = _ask(section, answer)
    assert calls == 2  # re-asked first
    data = json.loads(accepted.answer)
    asked = data["horizontal_scaling"]["database_sharding"]
    assert asked.startswith("[NEEDS CLARIFICATION: what does this feature need for database sharding")
    assert data["horizontal_scaling"]["load_balancing"] == answer["horizontal_scaling"]["load_balancing"]
    assert data["vertical_scaling"] == answer["vertical_scaling"]
    assert accepted.dropped[0].startswith("horizontal_scaling.database_sharding: says nothing specific")


def test_the_template_text_in_a_typed_item_is_asked_by_its_field_name() -> None:
    data = {"unit_testing": {"test_data": {"text": "How test data is managed", "covers": ["FR-001"]}}}
    problems = ["unit_testing.test_data.text: contains the template's text 'how test data is managed'; write"]
    kept = salvage(data, problems)
    assert kept is not None and "for test data, if anything?" in kept["unit_testing"]["test_data"]["text"]
    assert kept["unit_testing"]["test_data"]["covers"] == ["FR-001"]
    assert data["unit_testing"]["test_data"]["text"] == "How test data is managed"  # the input is not changed


def test_more_unanswered_fields_than_the_limit_mark_the_section() -> None:
    section = load_template("tech-spec").section("scalability_design")
    answer = _good("scalability_design")
    for key in ("load_balancing", "auto_scaling", "database_sharding"):
        answer["horizontal_scaling"][key] = FILLER + f" ({key})"
    with pytest.raises(SectionFailedError):
        _ask(section, answer)
