"""Brief grounding: key facts, coverage, the off-topic check in drafting and lint, and the trace matrix."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.checks.lint import lint_text
from agent.drafting.brief import load_brief
from agent.drafting.grounding_check import grounding_problems
from agent.signoff.eval import compare, duplicates, report, score
from agent.specdoc.document import parse_spec
from agent.specdoc.grounding import extract, off_topic, stem
from agent.specdoc.template_resolver import load_template, read_template_outline, resolve_template_path
from agent.specdoc.trace import references, trace_document

ROOT = Path(__file__).resolve().parents[2]
BRIEFS = ROOT / "examples" / "briefs"
CLEAN = (ROOT / "tests" / "data" / "specs" / "clean.md").read_text(encoding="utf-8")
OUTLINE = read_template_outline(resolve_template_path("tech-spec"))
PASSWORD_RESET = (
    "A self-service password reset lets users who forgot their password receive a reset link "
    "by email and choose a new password."
)


def facts(name: str):  # type: ignore[no-untyped-def]
    brief = load_brief(BRIEFS / f"{name}.md")
    return extract(brief.body, brief.title)


def test_stemming_matches_plural_and_verb_forms() -> None:
    assert stem("invitations") == stem("invitation") == stem("invites") == stem("invite")
    assert stem("exports") == stem("exporting")


def test_brief_facts_hold_numbers_technologies_and_title_terms() -> None:
    texts = {f.text for f in facts("team-invitations").facts}
    assert {"7 days", "PostgreSQL", "FastAPI", "SMTP", "a few hundred invites per minute"} <= texts
    # sentence-initial words are not technologies
    assert "Workspace" not in texts and "Each" not in texts


def test_coverage_is_high_against_its_own_brief_and_low_against_another() -> None:
    own = facts("team-invitations").coverage(CLEAN)[0]
    others = [facts(name).coverage(CLEAN)[0] for name in ("csv-export", "dark-mode", "webhook-retries")]
    assert own >= 0.9
    assert max(others) <= 0.3


def test_coverage_lists_what_is_missing() -> None:
    text = CLEAN.replace("PostgreSQL", "a database").replace("7 days", "a week")
    ratio, missing = facts("team-invitations").coverage(text)
    assert {f.text for f in missing} == {"PostgreSQL", "7 days"}
    assert ratio < 1


def test_password_reset_is_off_topic_for_team_invitations() -> None:
    reason = off_topic(PASSWORD_RESET, facts("team-invitations").terms)
    assert reason is not None and "password" in reason


def test_on_topic_and_short_generic_sentences_pass() -> None:
    terms = facts("team-invitations").terms
    assert off_topic("Admins invite colleagues by email; each link is valid for 7 days.", terms) is None
    assert off_topic("The system must be reliable and easy to use.", terms) is None


def test_drafting_rejects_an_off_topic_overview_with_a_reason() -> None:
    brief = load_brief(BRIEFS / "team-invitations.md")
    template = load_template("tech-spec")
    overview = template.sections[0]
    key = overview.fields[0].key
    problems = grounding_problems({key: PASSWORD_RESET}, overview, brief, [], root=True)
    assert len(problems) == 1 and "off-topic" in problems[0] and "password" in problems[0]
    on_topic = "Workspace admins invite colleagues by email with a link valid for 7 days and a chosen role."
    assert grounding_problems({key: on_topic}, overview, brief, [], root=True) == []


def test_later_sections_are_not_judged() -> None:
    brief = load_brief(BRIEFS / "team-invitations.md")
    template = load_template("tech-spec")
    risks = next(s for s in template.sections if "risk" in s.key.lower())
    data = {"x": "Redeploy the previous image tag when the nightly snapshot restore fails twice in a row."}
    assert grounding_problems(data, risks, brief, [], root=False) == []


def test_lint_flags_an_off_topic_overview_and_uncovered_facts() -> None:
    start = CLEAN.index("Workspace admins invite colleagues")
    end = CLEAN.index("\n\n", start)
    text = CLEAN[:start] + PASSWORD_RESET + CLEAN[end:]
    findings = lint_text(text, OUTLINE, brief=facts("team-invitations"))
    assert [f.rule for f in findings if f.rule == "off-topic"] == ["off-topic"]
    assert lint_text(CLEAN, OUTLINE, brief=facts("team-invitations")) == []
    other = lint_text(CLEAN, OUTLINE, brief=facts("csv-export"))
    assert any(f.rule == "brief-uncovered" and "CSV" in f.message for f in other)
    # without a brief the grounding rules stay silent
    assert lint_text(text, OUTLINE) == []


def test_references_expand_ranges() -> None:
    assert references("covers FR-001..003 and NFR-002") == {"FR-001", "FR-002", "FR-003", "NFR-002"}
    assert references("FR-001 to FR-002") == {"FR-001", "FR-002"}


def test_trace_matrix_of_the_clean_spec() -> None:
    matrix = trace_document(parse_spec(CLEAN, source="clean.md"))
    ids = [r.id for r in matrix.requirements]
    assert ids[:3] == ["FR-001", "FR-002", "FR-003"]
    fr1 = matrix.requirements[0]
    assert fr1.covered and fr1.covered_by["tasks"]
    data = matrix.to_dict()
    assert data["uncovered"] == [r.id for r in matrix.uncovered]
    assert 0 < data["traced_share"] <= 1


def test_trace_and_fr_untraced_agree() -> None:
    text = CLEAN.replace("(FR-002)", "").replace("FR-001 to FR-003", "FR-001 and FR-003")
    doc = parse_spec(text, source="spec.md")
    untraced_lint = {f.message.split()[0] for f in lint_text(text, OUTLINE) if f.rule == "fr-untraced"}
    untraced_trace = {r.id for r in trace_document(doc).uncovered if r.id.startswith("FR-")}
    assert untraced_lint == untraced_trace == {"FR-002"}


def test_duplicates_count_near_repeats() -> None:
    items = [
        "Admins invite colleagues by email",
        "Admins invite colleagues by email address",
        "Invitations expire after seven days",
    ]
    assert duplicates(items) == 1


def test_score_and_compare() -> None:
    doc = parse_spec(CLEAN, source="clean.md")
    own = score(doc, OUTLINE, facts("team-invitations"), path="clean.md")
    other = score(doc, OUTLINE, facts("csv-export"), path="clean.md")
    assert own["brief_coverage"] >= 0.9 > 0.3 >= other["brief_coverage"]
    assert own["lint_errors"] == 0 and own["requirements"] == 10
    delta = compare(report([other]), report([own]))
    assert delta["brief_coverage"] == pytest.approx(other["brief_coverage"] - own["brief_coverage"])
    assert delta["tokens"] is None
