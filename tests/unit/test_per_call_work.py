"""Work done once instead of per model call gives the same answers as before."""

from __future__ import annotations

import pytest

from agent.drafting.copying import copies_example
from agent.drafting.reask import max_tokens_for
from agent.io.redact import find_secrets, known_secrets
from agent.specdoc.template_resolver import load_template

KEY = "sk-test-" + "q7Zr2xLm" * 4


def test_find_secrets_with_the_known_values_given_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    secrets = known_secrets()
    line = f"the key is {KEY} here"
    assert find_secrets(line, secrets) == find_secrets(line)
    assert "a configured API key" in find_secrets(line, secrets)
    assert find_secrets("nothing secret here", secrets) == []
    # the given list is what is looked for: an empty one finds no configured key
    assert "a configured API key" not in find_secrets(line, [])


def test_example_copy_is_judged_on_content_words_once_each() -> None:
    """A copy with a word changed is still a copy; a sentence sharing one word with the example is not."""
    example = ["Users export invoices as CSV from the billing page"]
    assert copies_example("Users export invoices as CSV from the billing screen", example)
    assert not copies_example("Support staff see the audit trail of every export", example)
    assert not copies_example("", example)
    assert not copies_example("x", example)


def test_section_budget_is_computed_once_per_model() -> None:
    template = load_template("tech-spec")
    models = [section.model for section in template.sections]
    first = [max_tokens_for(model) for model in models]
    hits = max_tokens_for.cache_info().hits
    assert [max_tokens_for(model) for model in models] == first
    assert max_tokens_for.cache_info().hits == hits + len(models)
    assert all(256 <= budget <= 1536 for budget in first)
