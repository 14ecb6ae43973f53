"""Grounding beyond English: brief facts, coverage, off-topic (drafting and lint) and eval's coverage on a
German and a Chinese spec, each against its own brief and against another feature's brief."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.checks.lint import lint_text
from agent.drafting.brief import load_brief
from agent.drafting.grounding_check import grounding_problems
from agent.signoff.eval import score
from agent.specdoc.document import parse_spec
from agent.specdoc.grounding import BriefFacts, content_stems, extract, off_topic
from agent.specdoc.template_compiler import compile_template
from agent.specdoc.template_resolver import TemplateOutline, read_template_outline, resolve_template_path

DATA = Path(__file__).resolve().parents[1] / "data"
LANG = DATA / "languages"
SPECS = {"de": (DATA / "specs" / "clean-de.md"), "zh": (LANG / "spec-zh.md")}
OUTLINES = {
    "de": read_template_outline(resolve_template_path("tech-spec-de")),
    "zh": read_template_outline(LANG / "template-zh.md"),
}
#: the same off-topic paragraph (a password reset) in each language
PASSWORD_RESET = {
    "de": "Ein Passwort-Reset im Selbstbedienungsportal schickt vergesslichen Anwendern einen Rücksetzlink "
    "per Nachricht, damit sie ein neues Passwort wählen und sich danach wieder anmelden.",
    "zh": "自助密码重置功能让忘记密码的人收到重置链接，"
    "然后设置新的密码并重新登录账户，重置链接只能使用一次。",
}
#: the first sentence of each spec's overview, replaced by the paragraph above
OVERVIEW = {"de": "Administratoren eines Arbeitsbereichs laden", "zh": "工作区管理员通过电子邮件邀请同事"}


def _facts(language: str, feature: str) -> BriefFacts:
    brief = load_brief(LANG / f"brief-{language}-{feature}.md")
    return brief.facts


def _spec(language: str) -> str:
    return SPECS[language].read_text(encoding="utf-8")


def _outline(language: str) -> TemplateOutline:
    return OUTLINES[language]


def test_a_brief_is_read_in_its_own_language() -> None:
    german = _facts("de", "invitations")
    chinese = _facts("zh", "export")
    assert german.language == "de" and chinese.language == "zh"
    assert {"7 Tage", "FastAPI", "PostgreSQL"} <= {f.text for f in german.facts}
    assert "E-Mail" not in {f.text for f in german.facts}, "a German noun is no technology"
    assert {"10000行", "30秒", "CSV", "发票导出"} == {f.text for f in chinese.facts}
    # German forms of one word share a stem; Chinese is read in character pairs without particles
    assert set(content_stems("Einladungen", "de")) == set(content_stems("Einladung", "de"))
    assert content_stems("团队的邀请", "zh") == ["团队", "邀请"]
    # an English brief is read as before
    assert extract("Admins invite colleagues by email.", "Team invitations").language == "en"


@pytest.mark.parametrize("language", ["de", "zh"])
def test_coverage_is_high_against_its_own_brief_and_low_against_another(language: str) -> None:
    spec = _spec(language)
    assert _facts(language, "invitations").coverage(spec)[0] == 1.0
    assert _facts(language, "export").coverage(spec)[0] <= 0.5


@pytest.mark.parametrize("language", ["de", "zh"])
def test_an_off_topic_paragraph_is_found_and_an_on_topic_one_is_not(language: str) -> None:
    terms = _facts(language, "invitations").terms
    assert off_topic(PASSWORD_RESET[language], terms, language=language) is not None
    spec = _spec(language)
    start = spec.index(OVERVIEW[language])
    on_topic = spec[start : spec.index("\n\n", start)]
    assert off_topic(on_topic, terms, language=language) is None


@pytest.mark.parametrize("language", ["de", "zh"])
def test_lint_off_topic_and_brief_uncovered(language: str) -> None:
    spec, outline = _spec(language), _outline(language)
    own = _facts(language, "invitations")
    assert lint_text(spec, outline, brief=own) == [], "on-topic against its own brief"
    start = spec.index(OVERVIEW[language])
    end = spec.index("\n\n", start)
    replaced = spec[:start] + PASSWORD_RESET[language] + spec[end:]
    findings = lint_text(replaced, outline, brief=own)
    assert [f.rule for f in findings if f.rule == "off-topic"] == ["off-topic"]
    other = lint_text(spec, outline, brief=_facts(language, "export"))
    assert any(f.rule == "brief-uncovered" and "30" in f.message for f in other)


@pytest.mark.parametrize("language", ["de", "zh"])
def test_eval_scores_coverage_against_each_brief(language: str) -> None:
    doc = parse_spec(_spec(language))
    own = score(doc, _outline(language), _facts(language, "invitations"))
    other = score(doc, _outline(language), _facts(language, "export"))
    assert own["brief_coverage"] == 1.0 and own["off_topic"] == 0
    assert other["brief_coverage"] is not None and other["brief_coverage"] <= 0.5
    # held to another feature's brief, the spec is off-topic: its own title grounds nothing
    assert other["off_topic"] >= 1


def test_the_german_stop_words_ground_nothing() -> None:
    """'mit' (with) was a term of every German brief: a requirement about another feature shared it."""
    reference = _facts("de", "export").terms
    assert "mit" not in reference
    requirement = (
        "Ein Administrator muss eine oder mehrere E-Mail-Adressen mit der Rolle Mitglied einladen können."
    )
    assert off_topic(requirement, reference, strict=False, language="de") is not None


@pytest.mark.parametrize(
    ("language", "items"),
    [
        ("de", ["Ein Administrator muss offene Einladungen widerrufen können",
                "Ein Administrator muss die offene Einladung widerrufen können"]),
        ("zh", ["管理员可以撤销尚未接受的邀请", "管理员可以撤销尚未被接受的邀请"]),
    ],
)  # fmt: skip
def test_eval_counts_near_duplicates_in_the_specs_language(language: str, items: list[str]) -> None:
    from agent.signoff.eval import duplicates

    assert duplicates(items, language) == 1
    assert duplicates([items[0], PASSWORD_RESET[language]], language) == 0


@pytest.mark.parametrize("language", ["de", "zh"])
def test_drafting_re_asks_an_off_topic_overview(language: str) -> None:
    template_path = resolve_template_path("tech-spec-de") if language == "de" else LANG / "template-zh.md"
    template = compile_template(template_path.read_text(encoding="utf-8"), name="t", path=template_path)
    overview = template.sections[0]
    key = overview.fields[0].key
    brief = load_brief(LANG / f"brief-{language}-invitations.md")
    problems = grounding_problems(
        {key: PASSWORD_RESET[language]}, overview, brief, [], root=True, language=language
    )
    assert len(problems) == 1 and "off-topic" in problems[0]
    spec = _spec(language)
    start = spec.index(OVERVIEW[language])
    on_topic = spec[start : spec.index("\n\n", start)]
    assert grounding_problems({key: on_topic}, overview, brief, [], root=True, language=language) == []
    # a section written in another language than the brief cannot be judged by its words
    assert grounding_problems({key: PASSWORD_RESET[language]}, overview, brief, [], root=True) == []


def test_template_text_pasted_as_a_clause_is_found_in_german_and_spanish() -> None:
    """Instructions with letters beyond ASCII (verschlüsselt, Cómo) were cut into pieces and never
    matched: lint's 'Template text left unchanged' and drafting's template-copy missed them."""
    from agent.drafting.quality import section_findings
    from agent.specdoc.placeholders import pasted_text
    from agent.specdoc.template_resolver import load_template

    spec = _spec("de").replace(
        "PostgreSQL auf verschlüsselten Volumes",
        "PostgreSQL auf Volumes; Wie gespeicherte Daten verschlüsselt werden",
    )
    findings = lint_text(spec, _outline("de"))
    assert any("Template text left unchanged" in f.message for f in findings), findings
    spanish = "AES-256; Cómo se cifran los datos almacenados; TLS"
    assert pasted_text(spanish, ["Cómo se cifran los datos almacenados"]) is not None
    section = load_template("tech-spec-es").section("seguridad")
    answer = {
        "autenticacion_y_autorizacion": {
            "metodo_de_autenticacion": "El inicio de sesión existente del espacio de trabajo.",
            "modelo_de_autorizacion": "Solo los administradores gestionan las invitaciones.",
            "gestion_de_sesiones": "Las sesiones caducan tras 12 horas de inactividad.",
        },
        "proteccion_de_datos": {
            "cifrado_en_reposo": spanish,
            "cifrado_en_transito": "TLS 1.3 en todas las conexiones.",
            "datos_personales": "Las direcciones caducadas se borran a los 30 días.",
            "conservacion_de_datos": "Las invitaciones se borran a los 90 días.",
        },
    }
    found = section_findings(answer, section, language="es")
    assert [f.check for f in found] == ["template-copy"] and "cifrado_en_reposo" in found[0].problem
