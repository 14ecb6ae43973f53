"""How a section that never passes is marked: the reason follows the failure's type, not its wording."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import SecretStr

from agent.drafting import drafter as drafter_module
from agent.drafting.brief import parse_brief
from agent.drafting.drafter import Drafter, DraftOptions, EventKind, ResultStatus, SectionEvent
from agent.errors import ModelTimeoutError, SectionFailedError
from agent.llm.client import ChatClient
from agent.llm.providers import Endpoint, ModelSettings, Provider
from agent.specdoc.template_resolver import load_template

BRIEF = parse_brief(
    "# Invoice export\n\nFinance users export their invoices as CSV files from the billing page, filtered by "
    "month and customer, so that the accountants can reconcile payments without asking support.\n"
)


def _draft(monkeypatch: pytest.MonkeyPatch, failure: Exception) -> tuple[Any, list[SectionEvent]]:
    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(drafter_module, "ask_section", failing)
    endpoint = Endpoint(Provider.compatible, "http://127.0.0.1:9/v1", "scripted-7b", SecretStr("k"))
    client = ChatClient(endpoint, ModelSettings(use_cache=False, timeout=30))
    events: list[SectionEvent] = []
    drafter = Drafter(client, BRIEF, load_template("adr"), DraftOptions(max_retries=1), events.append)
    return asyncio.run(drafter.draft()), events


def test_a_rejected_answer_quoting_the_timeout_words_failed_validation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The model's own text may say "did not answer": the section still failed validation."""
    problem = "decision: 'the vendor did not answer' is not a decision (got 'the vendor did not answer')"
    result, events = _draft(monkeypatch, SectionFailedError("Decision", 2, [problem], '{"decision": "x"}'))
    for section in result.sections.values():
        assert section.status is ResultStatus.ATTENTION
        assert section.content.attention == f"failed validation after 2 attempt(s): {problem}"
        assert section.rejected_answer == '{"decision": "x"}'
    assert {event.kind for event in events} == {EventKind.STARTED, EventKind.ATTENTION}


def test_a_timeout_is_marked_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    result, _ = _draft(monkeypatch, ModelTimeoutError("Section 'Decision': no answer within 30 s."))
    for section in result.sections.values():
        assert section.content.attention.startswith("timed out after 2 attempt(s): the model did not answer")
        assert section.rejected_answer == ""
