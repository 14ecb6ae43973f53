"""One --context draft on the embedded model, replayed from a cassette."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.context.retrieval import build_context
from agent.drafting.brief import parse_brief
from agent.drafting.drafter import DraftOptions
from agent.drafting.service import draft_with_endpoint
from agent.llm.providers import ModelSettings
from agent.specdoc.document import parse_spec
from agent.specdoc.template_resolver import load_template

ROOT = Path(__file__).resolve().parents[2]
FIXED_DAY = datetime(2026, 11, 25, tzinfo=UTC)
BRIEF = """# Order refunds

Customers request a refund of a delivered order from the orders page. Support approves the refund
and the payment provider returns the money within 5 days. Refunds are stored per order.
"""


def test_adr_grounded_in_the_fixture_repository(
    cassette, model_endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)  # chunk sources are paths relative to the working directory
    template = load_template("adr")
    brief = parse_brief(BRIEF, source="refunds.md")
    context = build_context(["tests/data/context/repo"], f"{brief.title}\n{brief.body}")
    settings = ModelSettings(slots=2)
    options = DraftOptions(max_retries=1, keep_going=True, parallel=2)
    outcome = draft_with_endpoint(
        model_endpoint,
        brief,
        template,
        settings,
        options,
        today=FIXED_DAY,
        spec_path=ROOT / "spec.md",
        context=context,
    )
    bodies = [json.loads(r.body) for r in cassette.requests]
    assert outcome.result.usage.calls == len(bodies)
    shared = bodies[0]["messages"][1]["content"]
    assert "def refund_order" in shared and "Garden note" not in json.dumps(bodies)
    assert len({json.dumps(b["messages"][:2]) for b in bodies}) == 1
    assert outcome.result.usage.cached_tokens > 0  # the longer prefix is still reused across sections
    doc = parse_spec(outcome.markdown)
    assert [s.title for s in doc.sections] == [s.title for s in template.sections]
    files = [f["path"] for f in doc.front_matter["specdraft"]["context"]["files"]]
    assert "tests/data/context/repo/db/schema.sql" in files
