"""The labelled corpus of section answers (tests/data/answers/) and a runner of every check over it.

Each corpus file names a brief (and a template, tech-spec by default) and lists section answers as a
model returns them, each labelled ``good`` (what a careful engineer would accept) or ``degenerate``
(with its ``kind``); a file may give one ``label`` for all its answers. The runner judges every answer
the way the drafter does: the schema (with the requirement IDs ``covers`` may cite), the quality checks,
the prompt-leak check, brief grounding and the section language check, with the digests of the sections
it depends on as context (taken from the corpus's good answers). A corpus in another language
(``CORPORA``: tests/data/answers-de/, answers-es/, answers-zh/; the file's ``language``) is judged in
that language.
``bench/checks.py`` prints the figures; ``tests/unit/test_checks_corpus.py`` holds them to the goals.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.drafting.brief import Brief, load_brief
from agent.drafting.drafter import summarise
from agent.drafting.examples import example_values
from agent.drafting.grounding_check import grounding_problems
from agent.drafting.language_check import language_problems
from agent.drafting.plan import dependencies
from agent.drafting.prompting import shared_prefix
from agent.drafting.quality import CHECKS as QUALITY_CHECKS
from agent.drafting.quality import section_findings
from agent.drafting.reask import parse_answer, prompt_leaks
from agent.specdoc.grounding import extract
from agent.specdoc.render import SectionContent, render_section
from agent.specdoc.requirements import defined_requirements
from agent.specdoc.schemas.base import SectionData
from agent.specdoc.schemas.covering import defines_requirements
from agent.specdoc.schemas.generic import with_open_points
from agent.specdoc.schemas.techspec import CoveringSection, covering_context
from agent.specdoc.template import SpecTemplate, TemplateSection
from agent.specdoc.template_resolver import load_template

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "answers"
#: the corpus of each language: English, and the translated templates' answers
CORPORA = {
    "en": CORPUS,
    "de": ROOT / "tests" / "data" / "answers-de",
    "es": ROOT / "tests" / "data" / "answers-es",
    "zh": ROOT / "tests" / "data" / "answers-zh",
}

#: at most this share of good answers may be rejected overall, and by any one check
MAX_GOOD_REJECTED = 0.02
MAX_GOOD_REJECTED_PER_CHECK = 0.05
#: at least this share of degenerate answers must be caught (overall)
MIN_DEGENERATE_CAUGHT = 0.90

#: every check, in pipeline order (the schema first; the prompt-leak check and grounding last)
CHECKS = (
    "schema",
    *QUALITY_CHECKS,
    "prompt-leak",
    "grounding",
    "language",
)


@dataclass(frozen=True)
class Case:
    """One labelled answer of the corpus."""

    file: str
    brief: str
    template: str
    section: str
    label: str  # "good" | "degenerate"
    kind: str  # the degeneration ("loop", "copied-example", ...); "" for good answers
    answer: dict[str, Any]
    source: str = ""
    note: str = ""
    language: str = "en"

    @property
    def name(self) -> str:
        what = self.kind or "good"
        return f"{self.file}:{self.section} ({what})"


@dataclass
class Verdict:
    """What every check said about one case: check name -> problems (empty: it passes)."""

    case: Case
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rejected(self) -> bool:
        return any(self.problems.values())

    def reasons(self) -> list[str]:
        return [f"[{check}] {p}" for check, found in self.problems.items() for p in found]


def load_corpus(directory: Path = CORPUS) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in doc["answers"]:
            cases.append(
                Case(
                    file=path.name,
                    brief=doc["brief"],
                    template=entry.get("template", doc.get("template", "tech-spec")),
                    section=entry["section"],
                    label=entry.get("label", doc.get("label")),
                    kind=entry.get("kind", ""),
                    answer=entry["answer"],
                    source=entry.get("source", ""),
                    note=entry.get("note", ""),
                    language=doc.get("language", "en"),
                )
            )
    return cases


@functools.lru_cache(maxsize=64)
def _brief(path: str) -> Brief:
    return load_brief(ROOT / path)


@functools.lru_cache(maxsize=8)
def _template(name: str) -> SpecTemplate:
    # a built-in template's name, or a template file of the repository (the Chinese test template)
    return load_template(str(ROOT / name) if name.endswith(".md") else name)


class Runner:
    """Runs every check on the cases of one corpus (the good answers give each section its context)."""

    def __init__(self, cases: list[Case]) -> None:
        self.good: dict[tuple[str, str, str], dict[str, Any]] = {}
        for case in cases:
            key = (case.brief, case.template, case.section)
            if case.label == "good" and key not in self.good:
                self.good[key] = case.answer

    def run(self, case: Case) -> Verdict:
        brief = _brief(case.brief)
        template = _template(case.template)
        section = template.section(case.section)
        root = section.key == template.sections[0].key
        model = section.model
        if root:
            model = with_open_points(model, require_questions=brief.vague)
        requirements = self._requirements(case, template) if issubclass(model, CoveringSection) else {}
        answer = json.dumps(case.answer, ensure_ascii=False)
        verdict = Verdict(case, {check: [] for check in CHECKS})
        data, verdict.problems["schema"] = parse_answer(
            answer, model, context=covering_context(requirements) if requirements else None
        )
        language = case.language
        terms = extract(brief.body, brief.title).terms
        for finding in section_findings(
            case.answer, section, examples=example_values(section.key), brief_terms=terms, language=language
        ):
            verdict.problems[finding.check].append(finding.problem)
        system = shared_prefix(brief, template, language=language)[0]["content"]
        verdict.problems["prompt-leak"] = prompt_leaks(answer, system)
        if data is not None:
            earlier = self._earlier(case, template)
            verdict.problems["grounding"] = grounding_problems(
                data.render_data(), section, brief, earlier, root=root, language=language
            )
        verdict.problems["language"] = language_problems(case.answer, section, language)
        return verdict

    def _validated(self, case: Case, template: SpecTemplate, key: str) -> SectionData | None:
        answer = self.good.get((case.brief, case.template, key))
        if answer is None:
            return None
        section = template.section(key)
        model = section.model
        if key == template.sections[0].key:
            model = with_open_points(model)
        return model.model_validate(answer)

    def _earlier(self, case: Case, template: SpecTemplate) -> list[str]:
        """Digests of the sections this one is drafted after, as the drafter gives them."""
        digests = []
        for dep in dependencies(template)[case.section]:
            data = self._validated(case, template, dep)
            content = SectionContent(data=data.render_data()) if data is not None else SectionContent()
            digests.append(summarise(content))
        return digests

    def _requirements(self, case: Case, template: SpecTemplate) -> dict[str, str]:
        """The requirement IDs the brief's good requirements sections define (what ``covers`` may cite)."""
        found: dict[str, str] = {}
        for section in template.sections:
            if defines_requirements(section):
                data = self._validated(case, template, section.key)
                if data is not None:
                    found.update(defined_requirements(_rendered(section, data)))
        return found


def _rendered(section: TemplateSection, data: SectionData) -> str:
    return render_section(section, SectionContent(data=data.render_data()))


@dataclass
class Report:
    """The corpus's figures: per check and overall, good answers rejected and degenerate ones caught."""

    verdicts: list[Verdict]

    @property
    def good(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.case.label == "good"]

    @property
    def degenerate(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.case.label == "degenerate"]

    def per_check(self) -> dict[str, tuple[int, int]]:
        """check -> (good answers it rejects, degenerate answers it catches)."""
        return {
            check: (
                sum(1 for v in self.good if v.problems.get(check)),
                sum(1 for v in self.degenerate if v.problems.get(check)),
            )
            for check in CHECKS
        }

    def per_kind(self) -> dict[str, tuple[int, int, Counter[str]]]:
        """kind -> (answers, caught, how often each check caught one)."""
        kinds: dict[str, tuple[int, int, Counter[str]]] = {}
        for v in self.degenerate:
            total, caught, by = kinds.get(v.case.kind, (0, 0, Counter()))
            by.update(check for check, found in v.problems.items() if found)
            kinds[v.case.kind] = (total + 1, caught + v.rejected, by)
        return dict(sorted(kinds.items()))

    @property
    def false_rejects(self) -> list[Verdict]:
        return [v for v in self.good if v.rejected]

    @property
    def misses(self) -> list[Verdict]:
        return [v for v in self.degenerate if not v.rejected]

    def good_rejected_share(self) -> float:
        return len(self.false_rejects) / max(1, len(self.good))

    def degenerate_caught_share(self) -> float:
        return 1 - len(self.misses) / max(1, len(self.degenerate))

    def failed_goals(self) -> list[str]:
        """The goals the checks miss on this corpus, readable; empty when all are met."""
        failed = []
        if self.good_rejected_share() > MAX_GOOD_REJECTED:
            failed.append(
                f"{self.good_rejected_share():.1%} of good answers rejected (at most {MAX_GOOD_REJECTED:.0%})"
            )
        for check, (rejected, _) in self.per_check().items():
            if rejected / max(1, len(self.good)) > MAX_GOOD_REJECTED_PER_CHECK:
                limit = f"{MAX_GOOD_REJECTED_PER_CHECK:.0%}"
                failed.append(f"check {check} rejects {rejected} good answers (at most {limit})")
        if self.degenerate_caught_share() < MIN_DEGENERATE_CAUGHT:
            failed.append(
                f"{self.degenerate_caught_share():.1%} of degenerate answers caught "
                f"(at least {MIN_DEGENERATE_CAUGHT:.0%})"
            )
        return failed


def evaluate(cases: list[Case] | None = None, *, language: str = "en") -> Report:
    """Every check over ``cases``, else over the corpus of ``language``."""
    cases = load_corpus(CORPORA[language]) if cases is None else cases
    runner = Runner(cases)
    return Report([runner.run(case) for case in cases])
