"""A spec's language: the languages specdraft knows, naming one, and telling which one a text is in.

The spec's language is set (``--language``, ``language`` in specdraft.toml), else the template's front
matter says it (``language: de``), else its headings are in it, else the brief is. It is recorded in the
spec's front matter; lint, smells and grounding read it from there. Telling a language from text uses
``py3langid`` (a trained n-gram classifier, restricted to the languages below), loaded on first use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agent.errors import InputError


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1
    name: str  # English name, for messages and prompts
    native: str  # the language's own name
    #: PyStemmer's algorithm for its words (None: CJK, compared by character pairs)
    stemmer: str | None


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "English", "English", "english"),
        Language("de", "German", "Deutsch", "german"),
        Language("es", "Spanish", "español", "spanish"),
        Language("fr", "French", "français", "french"),
        Language("pt", "Portuguese", "português", "portuguese"),
        Language("ja", "Japanese", "日本語", None),
        Language("zh", "Chinese", "中文", None),
    )
}
ENGLISH = "en"
#: below this probability the classifier's answer is not taken (mixed or too short a text)
MIN_CONFIDENCE = 0.9
#: a text needs this many letters before it is judged at all
MIN_LETTERS = 12
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def parse_language(value: str, *, where: str = "--language") -> str:
    """The code of a language given by code or name (``de``, ``German``, ``Deutsch``); InputError else."""
    wanted = value.strip().lower()
    for lang in LANGUAGES.values():
        if wanted in (lang.code, lang.name.lower(), lang.native.lower()):
            return lang.code
    known = ", ".join(f"{lang.code} ({lang.name})" for lang in LANGUAGES.values())
    raise InputError(f"{where}: '{value}' is not a language specdraft knows.", hint=f"Use one of: {known}.")


def language_name(code: str) -> str:
    return LANGUAGES[code].name if code in LANGUAGES else code


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # loads a 1 s model: only when needed

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def identify(text: str) -> tuple[str, float] | None:
    """(code, probability) of the language ``text`` is in, or None when it is too short to judge."""
    if len(_LETTER.findall(text)) < MIN_LETTERS:
        return None
    code, probability = _identifier().classify(text)
    return str(code), float(probability)


def detect(text: str) -> str | None:
    """The language ``text`` is clearly in (probability >= MIN_CONFIDENCE), else None."""
    found = identify(text)
    return found[0] if found is not None and found[1] >= MIN_CONFIDENCE else None


def template_language(front_matter: Mapping[str, Any], headings: Iterable[str]) -> str | None:
    """A template's language: its front matter's ``language``, else the one its headings are in."""
    given = front_matter.get("language")
    if isinstance(given, str) and given.strip():
        return parse_language(given, where="the template's front matter 'language'")
    return detect("\n".join(headings))


@dataclass(frozen=True)
class LanguageChoice:
    code: str
    #: where it came from: "setting", "template", "brief" or "default"
    source: str
    #: what a person should know about the choice (e.g. English headings for a German brief)
    note: str = ""


def choose_language(setting: str | None, template: str | None, brief: str) -> LanguageChoice:
    """The spec's language: the setting, else the template's, else the brief's, else English."""
    if setting:
        return LanguageChoice(parse_language(setting), "setting")
    brief_language = detect(brief)
    if template is not None and template != ENGLISH:
        return LanguageChoice(template, "template")
    if brief_language is not None and brief_language != ENGLISH:
        name = language_name(brief_language)
        note = (
            f"The brief is in {name} and the template's headings are not: drafting in {name} "
            f"(--language en drafts in English; a template in {name} gives {name} headings)."
        )
        return LanguageChoice(brief_language, "brief", note)
    return LanguageChoice(template or ENGLISH, "template" if template else "default")


_NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]")


def spec_language(front_matter: Mapping[str, Any], body: str = "") -> str:
    """The language a spec records (``language:`` in its front matter). A spec without it (drafted
    before the key existed, or written by hand) is English unless its ``body`` has letters beyond
    ASCII and reads clearly as another language (the classifier is not even loaded for English)."""
    given = front_matter.get("language")
    if isinstance(given, str) and given.strip().lower() in LANGUAGES:
        return given.strip().lower()
    return text_language(body)


def text_language(text: str) -> str:
    """The language ``text`` is in: English unless it has letters beyond ASCII and reads clearly as
    another language (so the classifier is never loaded for English text)."""
    if text and not text.isascii() and _NON_ASCII_LETTER.search(text):  # isascii: no scan
        return detect(text) or ENGLISH
    return ENGLISH


# -- what section titles say, in every language known -------------------------------------------------

#: kind of section -> words of its titles (regex alternatives, searched case-insensitively). English first:
#: these are the words the English rules always used; the others only add titles of other languages.
TITLE_WORDS: dict[str, str] = {
    "requirements": r"requirement|anforderung|requisito|exigence|需求|要求|要件",
    "functional": r"functional|funktional|funcional|fonctionnel|功能|機能",
    "endpoints": r"endpoint|\bapi\b|endpunkt|schnittstelle|point d'accès|接口|エンドポイント",
    "tests": r"test|acceptance|verif|prueba|abnahme|essai|recette|测试|验收|テスト",
    "criteria": r"success|criteri|erfolg|kriteri|éxito|critère|réussite|成功|标准|基準",
    "tasks": r"timeline|task|milestone|rollout|plan|phase|aufgabe|meilenstein|calendario|tarea|hito|fase"
    r"|calendrier|tâche|jalon|计划|阶段|任务|スケジュール|タスク|フェーズ",
    "timeline": r"^implementation timeline$|^zeitplan$|^calendario de implementación$"
    r"|^calendrier de mise en œuvre$|^实施计划$|^実装スケジュール$",
    "stack": r"stack|technolog|tecnolog|(?<![a-z])pila(?![a-z])|技术栈|技術スタック",
    "backend": r"backend|server",
}


@functools.cache
def title_pattern(kind: str) -> re.Pattern[str]:
    """The pattern of section titles of one kind (``TITLE_WORDS``), in any language known."""
    return re.compile(TITLE_WORDS[kind], re.IGNORECASE)
