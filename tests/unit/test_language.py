"""A spec's language: naming and telling it, templates in other languages and scripts, and the ID
prefixes of translated templates in lint, trace and export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.checks.lint import lint_text
from agent.errors import InputError
from agent.integrations.export.tasks import tasks_of
from agent.specdoc.document import parse_spec
from agent.specdoc.language import choose_language, detect, parse_language, spec_language, template_language
from agent.specdoc.schemas.base import json_schema
from agent.specdoc.template import FieldKind, slugify
from agent.specdoc.template_compiler import compile_template
from agent.specdoc.template_resolver import load_template
from agent.specdoc.trace import trace_document

DATA = Path(__file__).resolve().parents[1] / "data"
CLEAN_DE = (DATA / "specs" / "clean-de.md").read_text(encoding="utf-8")

CHINESE_TEMPLATE = """\
# 技术规格：[FEATURE_NAME]

## 概述
[功能的简要技术描述及其目的]

## 技术要求

### 功能需求
- [ ] **FR-001**: [具体的功能需求]
- [ ] **FR-002**: [具体的功能需求]

### 技术栈
- **后端语言**: [例如 Python、Go]
- **数据库**: [例如 PostgreSQL]

## 风险
- [可能的技术风险]
"""


def test_a_language_is_named_by_code_english_name_or_its_own_name() -> None:
    assert parse_language("de") == parse_language("German") == parse_language("Deutsch") == "de"
    assert parse_language(" ES ") == "es"
    assert parse_language("中文") == "zh"
    with pytest.raises(InputError) as caught:
        parse_language("klingon")
    assert "'klingon' is not a language" in str(caught.value)
    assert "de (German)" in (caught.value.hint or "")


def test_the_language_of_a_text_is_told_apart_and_short_texts_are_not_judged() -> None:
    assert detect("Der Dienst speichert die Einladungen in PostgreSQL und versendet E-Mails.") == "de"
    assert detect("El servicio guarda las invitaciones y envía los correos por SMTP.") == "es"
    assert detect("服务把邀请保存在数据库中，并通过邮件发送邀请链接。") == "zh"
    assert detect("The service stores invitations in PostgreSQL and sends the emails.") == "en"
    assert detect("FastAPI") is None


def test_the_setting_wins_then_the_template_then_the_brief() -> None:
    german_brief = (
        "Team-Einladungen\nAdministratoren laden neue Mitglieder per E-Mail in den Arbeitsbereich ein."
    )
    assert choose_language("es", "de", german_brief).code == "es"
    assert choose_language(None, "es", german_brief).code == "es"
    chosen = choose_language(None, "en", german_brief)
    assert (chosen.code, chosen.source) == ("de", "brief")
    assert "--language en" in chosen.note, "English headings with a German brief are pointed out"
    english = choose_language(None, "en", "Team invitations\nAdmins invite new members by email.")
    assert (english.code, english.note) == ("en", "")
    with pytest.raises(InputError):
        choose_language("xx", None, german_brief)


def test_a_template_tells_its_language_by_front_matter_or_headings() -> None:
    german = load_template("tech-spec-de")
    spanish = load_template("tech-spec-es")
    english = load_template("tech-spec")
    assert template_language(german.front_matter, german.headings()) == "de"
    assert template_language(spanish.front_matter, spanish.headings()) == "es"
    assert template_language({}, german.headings()) == "de", "the headings alone say German"
    assert template_language({}, english.headings()) == "en"
    assert spec_language({"language": "de"}) == "de" and spec_language({}) == "en"


def test_slugs_keep_english_keys_and_give_other_scripts_distinct_keys() -> None:
    assert slugify("Request/Response Schemas") == "request_response_schemas"
    assert slugify("Phase 1: Foundation (Week 1-2)") == "phase_1_foundation_week_1_2"
    assert slugify("Übersicht") == "ubersicht"
    assert slugify("功能需求") != slugify("技术栈")
    assert slugify("功能需求").isidentifier()


def test_a_chinese_template_compiles_with_headings_bullets_and_checklists() -> None:
    template = compile_template(CHINESE_TEMPLATE, name="zh", path=Path("zh.md"))
    assert [s.title for s in template.sections] == ["概述", "技术要求", "风险"]
    assert len({s.key for s in template.sections}) == 3
    requirements = template.sections[1]
    kinds = {spec.kind for spec in requirements.fields}
    assert FieldKind.numbered in kinds and FieldKind.text in kinds
    labels = [spec.label for spec in requirements.fields if spec.kind is FieldKind.text]
    assert labels == ["后端语言", "数据库"]
    assert template_language(template.front_matter, template.headings()) == "zh"


def test_schema_names_in_any_script_are_ones_openai_accepts() -> None:
    """OpenAI takes a response_format name of [A-Za-z0-9_-] only: a Chinese section's model was named
    in Chinese (and its nested models must stay distinct)."""
    template = compile_template(CHINESE_TEMPLATE, name="zh", path=Path("zh.md"))
    names: list[str] = []
    for section in template.sections:
        schema = json_schema(section.model)
        names += [schema["title"], *schema.get("$defs", {})]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name) for name in names), names
    assert len(set(names)) == len(names)
    english = [json_schema(s.model)["title"] for s in load_template("tech-spec").sections[:2]]
    assert english == ["Overview", "SystemArchitecture"]  # unchanged for English templates


@pytest.mark.parametrize(
    ("name", "prefixes"), [("tech-spec-de", ["FA", "NFA", "QA"]), ("tech-spec-es", ["RF", "RNF", "RC"])]
)
def test_translated_templates_number_requirements_with_their_own_prefixes(
    name: str, prefixes: list[str]
) -> None:
    template = load_template(name)
    numbered = [
        spec.id_prefix for s in template.sections for spec in s.fields if spec.kind is FieldKind.numbered
    ]
    assert numbered == prefixes
    assert len(template.sections) == 14


def test_lint_reads_german_requirement_prefixes_as_functional_and_non_functional() -> None:
    assert lint_text(CLEAN_DE) == [], "the German spec that follows its template lints clean"
    unmeasured = CLEAN_DE.replace(
        "Das Anlegen einer Einladung dauert im 95. Perzentil höchstens 300 ms.",
        "Das Anlegen einer Einladung geht zügig.",
    )
    assert [f.rule for f in lint_text(unmeasured) if f.rule == "nfr-not-measurable"] == ["nfr-not-measurable"]
    untraced = re.sub(r"\(FA-002\)|FA-002, ", "", CLEAN_DE)
    findings = [f for f in lint_text(untraced) if f.rule == "fr-untraced"]
    assert len(findings) == 1 and "FA-002" in findings[0].message


def test_trace_and_export_follow_a_german_spec() -> None:
    doc = parse_spec(CLEAN_DE)
    matrix = {r.id: r for r in trace_document(doc).requirements}
    assert matrix["FA-001"].covered_by["tests"] and matrix["FA-001"].covered_by["tasks"]
    assert matrix["FA-002"].covered_by["criteria"]
    tasks = tasks_of(doc)
    assert len(tasks) == 9, "only the Zeitplan's items are tasks, not the success criteria"
    assert tasks[0].phase == "Phase 1: Grundlagen (Woche 1-2)"
    assert tasks[0].requirements == ("FA-001",)
    assert any("Alle funktionalen Anforderungen" in line for line in tasks[0].acceptance)


def test_a_translated_templates_example_list_left_in_is_found() -> None:
    left = CLEAN_DE.replace("- **Framework**: React 18", "- **Framework**: z. B. React, Vue, Angular")
    assert [f.rule for f in lint_text(left)] == ["placeholder"]
    one = CLEAN_DE.replace("- **Framework**: React 18", "- **Framework**: z. B. React")
    assert [f.rule for f in lint_text(one)] == ["example-left"]
