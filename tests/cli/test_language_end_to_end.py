"""A German brief drafted with the German template (and a Spanish one with the Spanish template) against
the stand-in server, whose answers are the good answers of that language's corpus: the spec is in the
language, and lint, trace, eval and grounding judge it as they judge an English one (and flag the same
spec held to another feature's brief)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from helpers.cli import invoke
from helpers.fault_server import FaultServer

from agent.specdoc.document import load_spec
from agent.specdoc.schemas.base import json_schema
from agent.specdoc.template_resolver import load_template

DATA = Path(__file__).resolve().parents[1] / "data"
ANSWERS = DATA / "answers-de" / "team-invitations.yaml"
BRIEF = DATA / "languages" / "brief-de-invitations.md"
OTHER_BRIEF = DATA / "languages" / "brief-de-export.md"


@dataclass(frozen=True)
class Case:
    language: str
    answers: Path
    brief: Path
    #: another feature's brief in the same language (an invoice export)
    other_brief: Path
    #: functional, non-functional and quality requirement ID prefixes of the template
    prefixes: tuple[str, str, str]


GERMAN = Case("de", ANSWERS, BRIEF, OTHER_BRIEF, ("FA", "NFA", "QA"))
SPANISH = Case(
    "es",
    DATA / "answers-es" / "team-invitations.yaml",
    DATA / "languages" / "brief-es-invitations.md",
    DATA / "languages" / "brief-es-export.md",
    ("RF", "RNF", "RC"),
)


def _german_replies(answers: Path = ANSWERS) -> dict[str, str]:
    """Schema name (what the server sees) -> the corpus's good answer for that section."""
    corpus = yaml.safe_load(answers.read_text(encoding="utf-8"))
    template = load_template(corpus["template"])
    names = {s.key: json_schema(s.model)["title"] for s in template.sections}
    return {names[a["section"]]: json.dumps(a["answer"], ensure_ascii=False) for a in corpus["answers"]}


def _draft(fault_server: FaultServer, tmp_path: Path, case: Case = GERMAN) -> Path:
    fault_server.replies.update(_german_replies(case.answers))
    brief = tmp_path / "brief.md"
    brief.write_text(case.brief.read_text(encoding="utf-8"), encoding="utf-8")
    spec = tmp_path / "spec.md"
    code, _, err = invoke(
        "draft", brief, "-t", f"tech-spec-{case.language}", "-o", spec,
        "--base-url", fault_server.base_url, "--model", "fault-model",
    )  # fmt: skip
    assert code == 0, err  # no section marked: every German answer passed every check
    return spec


def test_a_german_draft_is_german_and_lints_traces_and_evaluates(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    spec = _draft(fault_server, tmp_path)
    doc = load_spec(spec)
    assert doc.front_matter["language"] == "de"
    assert [s.title for s in doc.sections][:3] == [
        "Überblick",
        "Systemarchitektur",
        "Technische Anforderungen",
    ]
    text = spec.read_text(encoding="utf-8")
    assert "**FA-001**" in text and "**NFA-001**" in text and "NEEDS ATTENTION" not in text

    code, out, _ = invoke("lint", spec, "--json")
    findings = json.loads(out)["files"][0]["findings"]
    assert not [f for f in findings if f["severity"] == "error"], findings
    assert "off-topic" not in {f["rule"] for f in findings}

    code, out, _ = invoke("trace", spec, "--json")
    assert code in (0, 1)
    traced = json.loads(out)
    assert any(row["id"].startswith("FA-") for row in traced["requirements"])

    code, out, _ = invoke("eval", spec, "--json")
    own = json.loads(out)
    assert own["specs"][0]["brief_coverage"] >= 0.8 and own["overall"]["off_topic"] == 0
    code, out, _ = invoke("eval", spec, "--json", "--brief", OTHER_BRIEF)
    other = json.loads(out)
    assert other["specs"][0]["brief_coverage"] <= 0.5


@pytest.mark.parametrize("case", [GERMAN, SPANISH], ids=["de", "es"])
def test_a_translated_draft_links_its_requirements_to_tests_tasks_and_criteria(
    case: Case, fault_server: FaultServer, tmp_path: Path
) -> None:
    """The translated templates' test, timeline and criteria sections are drafted with ``covers`` like the
    English ones: their prompts list the spec's requirement IDs, and trace links requirements to them."""
    spec = _draft(fault_server, tmp_path, case)
    functional, non_functional, quality = case.prefixes
    # the three citing sections' prompts listed the requirement IDs (after the requirements were drafted)
    prompts = [json.dumps(r.body, ensure_ascii=False) for r in fault_server.chat_requests()]
    assert sum(f"- {functional}-001: " in p for p in prompts) == 3
    text = spec.read_text(encoding="utf-8")
    assert f"({non_functional}-001, {non_functional}-002)" in text  # a load test cites what it measures

    code, out, _ = invoke("trace", spec, "--json")
    assert code == 1  # one quality requirement is cited by nothing
    matrix = json.loads(out)
    assert matrix["uncovered"] == [f"{quality}-002"] and matrix["traced_share"] == 0.9
    rows = {row["id"]: row for row in matrix["requirements"]}
    for number in range(1, 5):
        row = rows[f"{functional}-{number:03d}"]
        assert row["tests"] and row["tasks"] and row["criteria"], row
    assert rows[f"{non_functional}-001"]["tests"] and rows[f"{quality}-001"]["criteria"]
    code, out, _ = invoke("lint", spec, "--json")
    rules = {f["rule"] for f in json.loads(out)["files"][0]["findings"]}
    assert "fr-untraced" not in rules
    # the timeline's tasks are exported with the requirements they cite
    _, out, _ = invoke("export", spec, "--to", "json")
    tasks = json.loads(out)["tasks"]
    assert len(tasks) == 9 and [r["id"] for r in tasks[0]["requirements"]] == [f"{functional}-001"]


@pytest.mark.parametrize("case", [GERMAN, SPANISH], ids=["de", "es"])
def test_eval_finds_a_translated_spec_off_topic_against_another_features_brief(
    case: Case, fault_server: FaultServer, tmp_path: Path
) -> None:
    """Held to its own brief the spec is on topic; held to another feature's brief in the same language
    its requirements are off-topic, as an English spec's are (the spec's own title grounded them)."""
    spec = _draft(fault_server, tmp_path, case)
    _, out, _ = invoke("eval", spec, "--json", "--brief", case.brief)
    own = json.loads(out)["specs"][0]
    assert own["off_topic"] == 0 and own["brief_coverage"] == 1.0 and own["lint_warnings"] == 0, own
    _, out, _ = invoke("eval", spec, "--json", "--brief", case.other_brief)
    other = json.loads(out)["specs"][0]
    assert other["off_topic"] >= 3 and other["brief_coverage"] <= 0.5, other
    _, out, _ = invoke("lint", spec, "--json", "--brief", case.other_brief)
    off = [f for f in json.loads(out)["files"][0]["findings"] if f["rule"] == "off-topic"]
    requirements = load_template(f"tech-spec-{case.language}").sections[2].title
    assert sum(f["section"].startswith(requirements) for f in off) >= 2, off  # the functional ones


#: good Chinese answers for tests/data/languages/template-zh.md (the spec tests/data/languages/spec-zh.md)
CHINESE = {
    "概述": {
        "description": "工作区管理员通过电子邮件邀请同事加入工作区。每个邀请链接在7天后过期，"
        "受邀者通过链接创建账户，并以管理员选择的角色加入工作区。"
        "邀请服务使用FastAPI，邀请保存在PostgreSQL中，邮件通过SMTP中继发送。",
        "assumptions": [],
        "open_questions": ["邀请邮件使用哪种语言发送？"],  # a short brief: the overview must ask one
    },
    "技术要求": {
        "功能需求": [
            "管理员可以通过电子邮件地址邀请一名或多名同事加入工作区，并为每位受邀者选择角色。",
            "管理员可以重新发送或撤销尚未接受的邀请，撤销后邀请链接立即失效。",
        ],
        "非功能需求": ["创建邀请的接口在第95百分位的响应时间不超过300 ms。"],
    },
    "测试策略": {
        "items": [
            {"text": "集成测试覆盖邀请的创建、重新发送和撤销", "covers": ["FR-001", "FR-002"]},
            {"text": "负载测试验证创建邀请的响应时间", "covers": ["NFR-001"]},
        ]
    },
}


def test_a_chinese_template_cites_requirements_by_its_headings(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    template_path = DATA / "languages" / "template-zh.md"
    template = load_template(str(template_path))
    fault_server.replies.update(
        {
            json_schema(s.model)["title"]: json.dumps(CHINESE[s.key], ensure_ascii=False)
            for s in template.sections
        }
    )
    brief, spec = tmp_path / "brief.md", tmp_path / "spec.md"
    brief.write_text(
        (DATA / "languages" / "brief-zh-invitations.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code, _, err = invoke(
        "draft", brief, "-t", template_path, "-o", spec,
        "--base-url", fault_server.base_url, "--model", "fault-model",
    )  # fmt: skip
    assert code == 0, err
    prompts = [json.dumps(r.body, ensure_ascii=False) for r in fault_server.chat_requests()]
    assert sum("- FR-001: " in p for p in prompts) == 1  # 测试策略 was given the IDs to cite
    assert "- 集成测试覆盖邀请的创建、重新发送和撤销 (FR-001, FR-002)" in spec.read_text(encoding="utf-8")
    _, out, _ = invoke("trace", spec, "--json")
    matrix = json.loads(out)
    assert matrix["traced_share"] == 1.0 and all(row["tests"] for row in matrix["requirements"])
