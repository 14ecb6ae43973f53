"""Every answer check over the labelled corpus (tests/data/answers/): good answers pass, degenerate ones
are caught, within the goals (``bench/checks.py`` prints the same figures)."""

from __future__ import annotations

from collections import Counter

import pytest
from helpers.answers import (
    MAX_GOOD_REJECTED,
    MIN_DEGENERATE_CAUGHT,
    Case,
    Report,
    evaluate,
    load_corpus,
)

from agent.drafting import quality
from agent.specdoc.template_resolver import load_template


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate()


def test_the_corpus_is_large_labelled_and_covers_every_section() -> None:
    cases = load_corpus()
    labels = Counter(case.label for case in cases)
    assert len(cases) >= 200 and set(labels) == {"good", "degenerate"}
    assert all(case.kind for case in cases if case.label == "degenerate")
    # every tech-spec section has a good answer for at least six briefs
    sections = [s.key for s in load_template("tech-spec").sections]
    for key in sections:
        briefs = {
            c.brief for c in cases if c.section == key and c.label == "good" and c.template == "tech-spec"
        }
        assert len(briefs) >= 6, key
    kinds = Counter(case.kind for case in cases if case.label == "degenerate")
    for kind in ("loop", "copied-example", "template-copy", "off-topic", "filler", "junk-markup", "url"):
        assert kinds[kind] >= 3, kind
    assert any(case.source.startswith("cassette") for case in cases)


def test_the_checks_meet_the_goals_on_the_corpus(report: Report) -> None:
    rejects = "\n".join(f"{v.case.name}: {v.reasons()}" for v in report.false_rejects)
    misses = "\n".join(v.case.name for v in report.misses)
    assert report.failed_goals() == [], f"false rejects:\n{rejects}\nmisses:\n{misses}"


def test_no_degenerate_kind_is_mostly_missed(report: Report) -> None:
    for kind, (total, caught, _) in report.per_kind().items():
        assert caught / total >= 0.6, kind


def test_a_check_that_rejects_good_answers_fails_the_goals(monkeypatch: pytest.MonkeyPatch) -> None:
    """The goals can fail: a loop detector that sees a loop everywhere rejects every good answer."""
    monkeypatch.setattr(quality, "looping_phrase", lambda *args, **kwargs: "a loop")
    broken = evaluate()
    assert broken.good_rejected_share() > MAX_GOOD_REJECTED
    assert any("check loop rejects" in goal for goal in broken.failed_goals())


def test_a_check_that_catches_nothing_fails_the_goals(monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [case for case in load_corpus() if case.label == "degenerate" and case.kind == "loop"]
    monkeypatch.setattr(quality, "looping_phrase", lambda *args, **kwargs: None)
    broken = evaluate(cases)
    assert broken.degenerate_caught_share() < MIN_DEGENERATE_CAUGHT
    assert broken.failed_goals()


def test_a_case_names_its_file_section_and_kind() -> None:
    case = Case("x.yaml", "b.md", "tech-spec", "overview", "degenerate", "loop", {})
    assert case.name == "x.yaml:overview (loop)"


@pytest.mark.parametrize("language", ["de", "es"])
def test_the_translated_templates_corpora_meet_the_goals(language: str) -> None:
    """Judged in their language: every good answer passes, and answers that only reword the template's
    instructions are caught by the copy check (compared by the language's stems)."""
    report = evaluate(language=language)
    assert report.failed_goals() == [], [v.reasons() for v in report.false_rejects]
    assert len(report.good) >= 18 and not report.false_rejects
    reworded = [v for v in report.degenerate if v.case.kind == "template-copy"]
    caught = [v for v in reworded if v.problems["template-copy"]]
    assert len(reworded) >= 8 and len(caught) >= 0.9 * len(reworded)
    assert all("rewords the template's instruction" in v.problems["template-copy"][0] for v in caught[:3])


@pytest.mark.parametrize("language", ["de", "es", "zh"])
def test_loops_and_filler_are_caught_in_each_language(language: str) -> None:
    """Each language's loops and filler sentences are caught by the loop and filler checks themselves
    (not by another check by chance), and its good answers, some close to filler, all pass."""
    report = evaluate(language=language)
    assert report.failed_goals() == [], [v.reasons() for v in report.false_rejects]
    for kind in ("loop", "filler"):
        cases = [v for v in report.degenerate if v.case.kind == kind]
        caught = [v for v in cases if v.problems[kind]]
        assert len(cases) >= 4 and len(caught) >= 0.9 * len(cases), (kind, [v.case.name for v in cases])
    if language == "zh":
        assert len(report.good) >= 15 and len(report.degenerate) >= 10


@pytest.mark.parametrize(
    ("language", "instruction", "reworded", "answered"),
    [
        ("de", "Wie gespeicherte Daten verschlüsselt werden",
         "Beschreibt, wie die gespeicherten Daten verschlüsselt sind.",
         "Gespeicherte Daten werden mit AES-256 auf den Volumes des Clusters verschlüsselt."),
        ("de", "Kurze technische Beschreibung des Features und seines Zwecks",
         "Wir beschreiben kurz und technisch das Feature und seinen Zweck.",
         "Administratoren laden Kollegen per E-Mail ein; der Link ist 7 Tage gültig."),
        ("es", "Cómo se cifran los datos almacenados",
         "Se explica cómo se cifran los datos que se almacenan.",
         "Los datos almacenados se cifran con AES-256 en los volúmenes del clúster."),
        ("en", "How the application is built",
         "This describes how the application gets built.",
         "GitHub Actions builds the application into a container image on every merge."),
    ],
)  # fmt: skip
def test_a_reworded_instruction_is_told_from_an_answer(
    language: str, instruction: str, reworded: str, answered: str
) -> None:
    from agent.drafting.copying import paraphrased_instruction

    assert paraphrased_instruction(reworded, [instruction], language) == instruction
    assert paraphrased_instruction(answered, [instruction], language) is None
