"""intent.plain_kind: what a message's form says it is, before a model is asked."""

from __future__ import annotations

import pytest

from agent.drafting.intent import plain_kind


@pytest.mark.parametrize(
    "message",
    [
        "What does the spec say about Redis?",
        "Why do we need Redis?",
        "how long is the invitation link valid?",
        "Is there a rate limit on invitations?",
        "  which tables does this add? ",
        "What's the p95 target?",
    ],
)
def test_an_interrogative_ending_in_a_question_mark_is_a_question(message: str) -> None:
    assert plain_kind(message) == "question"


@pytest.mark.parametrize(
    "message",
    [
        "drop the admin role, only members can be invited",
        "Add Okta single sign-on to the Overview",
        "please use PostgreSQL instead of MySQL",
        "also remove the CSV export",
        "Make the link valid for 3 days.",
    ],
)
def test_an_editing_verb_first_is_an_edit(message: str) -> None:
    assert plain_kind(message) == "edit"


@pytest.mark.parametrize(
    "message",
    [
        "can you make the link valid for 3 days?",  # a request phrased as a question
        "the invitation email is sent by Postmark, not SES",  # a statement: edit or remark
        "what if we dropped Redis",  # no question mark: could be either
        "add Redis?",  # a verb, but asked
        "",
        "???",
    ],
)
def test_anything_else_is_left_to_the_model(message: str) -> None:
    assert plain_kind(message) is None
