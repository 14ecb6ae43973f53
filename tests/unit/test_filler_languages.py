"""Filler (a sentence whose words are all generic) is found in the spec's language: German and Spanish by
their stems and word lists, Chinese by what is left once its generic words are cut out; "not needed"
answers are judged by their reason in each language."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.drafting.quality import _DECLINED, check_section
from agent.specdoc.template import TemplateSection
from agent.specdoc.template_resolver import load_template

LANG = Path(__file__).resolve().parents[1] / "data" / "languages"
TEMPLATES = {"de": "tech-spec-de", "es": "tech-spec-es", "zh": str(LANG / "template-zh.md")}


def _overview(language: str) -> tuple[TemplateSection, str]:
    """The first section of the language's template and the key of its one prose field."""
    section = load_template(TEMPLATES[language]).sections[0]
    return section, next(iter(section.model.model_fields))


def _filler_problems(language: str, value: str) -> list[str]:
    section, key = _overview(language)
    problems = check_section({key: value}, section, language=language)
    return [p for p in problems if "says nothing specific" in p]


@pytest.mark.parametrize(
    ("language", "value"),
    [
        ("de", "Das System wird so gestaltet, dass es die Anforderungen in allen Fällen erfüllt."),
        ("de", "Die Lösung bietet eine Vielzahl von Vorteilen und verbessert die gesamte Erfahrung der "
               "Benutzer erheblich."),
        ("es", "El sistema se diseña para cumplir con los requisitos en todos los casos."),
        ("es", "La solución ofrece una variedad de beneficios y mejora de manera importante la experiencia "
               "de los usuarios."),
        ("zh", "系统将被设计为在所有情况下满足所有需求。"),
        ("zh", "该功能旨在提供良好的用户体验，并确保系统在各种情况下都能稳定高效地运行。"),
    ],
)  # fmt: skip
def test_a_filler_sentence_is_re_asked_in_its_language(language: str, value: str) -> None:
    (problem,) = _filler_problems(language, value)
    # the re-ask offers the language's own way to decline the field
    declined = {"de": "Nicht nötig:", "es": "No es necesario:", "zh": "不需要:"}[language]
    assert f"write '{declined}' and the reason" in problem


@pytest.mark.parametrize(
    ("language", "value"),
    [
        ("de", "Administratoren laden Kollegen per E-Mail ein; der Link ist sieben Tage gültig und legt ein "
               "Konto an."),
        ("de", "Das System wird so gestaltet, dass abgelaufene Einladungen in allen Fällen gelöscht werden."),
        ("es", "Los administradores invitan a sus compañeros por correo; el enlace caduca a los siete días."),
        ("es", "El sistema se diseña para que las invitaciones caducadas se borren en todos los casos."),
        ("zh", "管理员可以重新发送邀请链接，旧的邀请链接随即失效，新的邀请链接有效期为七天。"),
        ("zh", "系统将被设计为在所有情况下自动删除过期的邀请。"),
    ],
)  # fmt: skip
def test_a_sentence_that_names_what_it_does_is_no_filler(language: str, value: str) -> None:
    assert _filler_problems(language, value) == []


@pytest.mark.parametrize(
    ("language", "declined", "reason"),
    [
        ("de", "Nicht nötig: ", "keine Oberfläche im Browser."),
        ("de", "Nicht erforderlich – ", "der Dienst hat keine Oberfläche im Browser."),
        ("es", "No es necesario: ", "no hay interfaz en el navegador."),
        ("es", "No aplica: ", "no hay interfaz en el navegador."),
        ("zh", "不需要：", "没有浏览器界面。"),
    ],
)
def test_not_needed_is_judged_by_its_reason_in_each_language(
    language: str, declined: str, reason: str
) -> None:
    """The form of 'Not needed:' the filler re-ask asks for, in the spec's language: only the reason is
    judged (a generic reason is still filler)."""
    assert _DECLINED.sub("", declined + reason) == reason
    assert _filler_problems(language, declined + reason) == []
    generic = {
        "de": "Das System wird so gestaltet, dass es die Anforderungen in allen Fällen erfüllt.",
        "es": "El sistema se diseña para cumplir con los requisitos en todos los casos.",
        "zh": "系统将被设计为在所有情况下满足所有需求。",
    }[language]
    assert _filler_problems(language, declined + generic), "a generic reason is still filler"
