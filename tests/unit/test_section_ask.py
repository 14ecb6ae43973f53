"""The re-ask loop's two steps (agent.drafting.reask.SectionAsk): the request of attempt n, and the
judgement of an answer; the live loop and the batch waves both drive them."""

from __future__ import annotations

import json

import pytest
from helpers.fault_server import answer_for

from agent.drafting.policy import ReaskPolicy
from agent.drafting.reask import MIN_TIMEOUT_BUDGET, SectionAsk
from agent.errors import SectionFailedError
from agent.llm.client import Completion
from agent.specdoc.schemas.base import json_schema
from agent.specdoc.template_resolver import load_template

SECTION = load_template("adr").sections[0]
POLICY = ReaskPolicy(attempts=3, temperature=0.2, temperature_step=0.25, repeat_penalty=1.0)
MESSAGES = [{"role": "system", "content": "Write one section."}, {"role": "user", "content": "The brief."}]
INVALID = json.dumps({"description": 12345})


def ask() -> SectionAsk:
    return SectionAsk(list(MESSAGES), SECTION, SECTION.model, POLICY, budget=512)


def valid() -> str:
    return json.dumps(answer_for(json_schema(SECTION.model)))


def test_a_rejected_answer_moves_to_the_next_attempt_hotter_with_its_problems() -> None:
    steps = ask()
    first = steps.request()
    assert (first.temperature, first.max_tokens, first.messages) == (0.2, 512, MESSAGES)
    assert steps.judge(Completion(INVALID)) is None
    second = steps.request()
    assert steps.attempt == 2 and second.temperature == pytest.approx(0.45)
    assert second.messages[: len(MESSAGES)] == MESSAGES
    assert second.messages[-2] == {"role": "assistant", "content": INVALID}
    assert "description" in second.messages[-1]["content"]
    accepted = steps.judge(Completion(valid()))
    assert accepted is not None and accepted.attempt == 2


def test_a_malformed_reply_is_asked_again_unchanged_and_the_last_failure_raises() -> None:
    steps = ask()
    assert steps.judge(Completion("", fault="the server sent a reply with no choices")) is None
    assert steps.request().messages == MESSAGES and steps.attempt == 2
    assert steps.judge(Completion(INVALID)) is None
    with pytest.raises(SectionFailedError) as failed:
        steps.judge(Completion(INVALID))
    assert failed.value.attempts == 3 and failed.value.last_output == INVALID


def test_a_timed_out_attempt_is_asked_again_with_half_the_budget_while_attempts_last() -> None:
    steps = SectionAsk(list(MESSAGES), SECTION, SECTION.model, POLICY, budget=300)
    assert steps.timed_out() and steps.request().max_tokens == 150 and steps.attempt == 2
    assert steps.timed_out() and steps.request().max_tokens == MIN_TIMEOUT_BUDGET
    assert not steps.timed_out() and steps.attempt == 3
