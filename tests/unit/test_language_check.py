"""The section language check, measured: the German template's own good answers pass every check (the
quality rules, the prompt-leak check and grounding judged in German, and the language check), and the
good English answers of the corpus, as a German spec's sections, are caught as written in English."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.cli import invoke
from helpers.fault_server import FaultServer

from agent.drafting.brief import load_brief
from agent.drafting.examples import example_values
from agent.drafting.grounding_check import grounding_problems
from agent.drafting.language_check import language_problems
from agent.drafting.prompting import shared_prefix
from agent.drafting.quality import section_findings
from agent.drafting.reask import parse_answer, prompt_leaks
from agent.specdoc.document import load_spec
from agent.specdoc.schemas.generic import with_open_points
from agent.specdoc.template_resolver import load_template

ROOT = Path(__file__).resolve().parents[2]
GERMAN = yaml.safe_load((ROOT / "tests/data/answers-de/team-invitations.yaml").read_text(encoding="utf-8"))
ENGLISH = yaml.safe_load((ROOT / "tests/data/answers/team-invitations.yaml").read_text(encoding="utf-8"))


def _problems(section_key: str, answer: dict[str, Any], earlier: list[str]) -> list[str]:
    brief = load_brief(ROOT / GERMAN["brief"])
    template = load_template(GERMAN["template"])
    section = template.section(section_key)
    root = section_key == template.sections[0].key
    model = with_open_points(section.model) if root else section.model
    text = json.dumps(answer, ensure_ascii=False)
    data, problems = parse_answer(text, model)
    assert data is not None, problems
    found = [f.problem for f in section_findings(answer, section, examples=example_values(section.key),
                                                  brief_terms=brief.facts.terms, language="de")]  # fmt: skip
    system = shared_prefix(brief, template, language="de")[0]["content"]
    found += prompt_leaks(text, system)
    found += grounding_problems(data.render_data(), section, brief, earlier, root=root, language="de")
    found += language_problems(answer, section, "de")
    return found


def test_the_german_templates_good_answers_pass_every_check() -> None:
    answers = GERMAN["answers"]
    overview = answers[0]["answer"]["was_bauen_wir"]
    rejected = {
        a["section"]: problems
        for a in answers
        if (problems := _problems(a["section"], a["answer"], [] if a is answers[0] else [overview]))
    }
    assert len(answers) == 14
    assert rejected == {}


def test_english_answers_to_a_german_spec_are_caught() -> None:
    template = load_template("tech-spec")
    good = [a for a in ENGLISH["answers"] if a["label"] == "good"]
    caught = [a for a in good if language_problems(a["answer"], template.section(a["section"]), "de")]
    judged = [a for a in good if a["section"] not in ("technology_stack",)]
    # every English section with sentences enough to judge is caught; a stack of names is not judged
    assert len(caught) >= 0.9 * len(judged), (len(caught), len(judged))
    problem = language_problems(good[0]["answer"], template.section(good[0]["section"]), "de")[0]
    assert "written in English, not German" in problem and "write every sentence in German" in problem
    # an English spec asks nothing of the kind
    assert language_problems(good[0]["answer"], template.section(good[0]["section"]), "en") == []


def test_a_section_answered_in_english_is_re_asked_then_marked(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """The scripted server answers in English (its generated sentences): a German draft re-asks each
    judged section once, then marks it [NEEDS ATTENTION] with the reason."""
    brief = tmp_path / "brief.md"
    brief.write_text((ROOT / GERMAN["brief"]).read_text(encoding="utf-8"), encoding="utf-8")
    spec = tmp_path / "spec.md"
    server = ["--base-url", fault_server.base_url, "--model", "fault-model"]
    code, _, err = invoke("draft", brief, "-t", "tech-spec-de", "-o", spec, *server)
    assert code == 3, err
    text = spec.read_text(encoding="utf-8")
    assert "written in English, not German" in text
    assert load_spec(spec).front_matter["language"] == "de"
    retried = [
        r for r in fault_server.chat_requests() if "written in English, not German" in json.dumps(r.body)
    ]
    assert retried, "the section was asked again with the reason"


@pytest.mark.parametrize("language", ["de"])
def test_the_check_leaves_short_and_code_only_sections_alone(language: str) -> None:
    template = load_template("tech-spec-de")
    stack = template.section("technologie_stack")
    names = {"frontend_technologien": {"framework": "React 18", "sprache": "TypeScript"}}
    assert language_problems(names, stack, language) == []
    api = template.section("api_spezifikation")
    code = {"endpunkte": "GET /api/v1/invitations  # List the pending invitations of the workspace today"}
    assert language_problems(code, api, language) == []
