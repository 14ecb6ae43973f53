"""Section language check: is a drafted section written in the spec's language?

A model asked for a German spec sometimes answers in English (small models fall back to the language of
the prompt's instructions). The section's sentences (values of ``MIN_WORDS`` words or more, code left
out: names, values and fences are the same in every language) are joined and told apart by the language
classifier (``agent.specdoc.language.identify``); when they clearly read as another language the answer
is re-asked with the reason, and marked when the re-asks run out, as any failed check. Only specs in
another language than English are checked, so English drafts ask nothing more.
"""

from __future__ import annotations

from typing import Any

from agent.drafting.values import iter_strings, leaf_key, top_key
from agent.specdoc.grounding import word_count
from agent.specdoc.language import ENGLISH, MIN_CONFIDENCE, identify, language_name
from agent.specdoc.template import FieldKind, TemplateSection

#: a value shorter than this (words) is a name, a value or a fragment: it says nothing of its language
MIN_WORDS = 5
#: the joined sentences must hold this many words before the section is judged
MIN_SECTION_WORDS = 12


def _code_keys(section: TemplateSection) -> set[str]:
    keys: set[str] = set()
    for key, entry in section.shape:
        for spec in entry if isinstance(entry, list) else [entry]:
            if spec.kind is FieldKind.code:
                keys |= {key, spec.key}
    return keys


def sentences(data: dict[str, Any], section: TemplateSection, language: str) -> str:
    """The section's sentences (the values a language shows in), joined."""
    code = _code_keys(section)
    kept = [
        value
        for path, value in iter_strings(data)
        if top_key(path) not in code
        and leaf_key(path) not in code
        and word_count(value, language) >= MIN_WORDS
    ]
    return "\n".join(kept)


def language_problems(data: dict[str, Any], section: TemplateSection, language: str) -> list[str]:
    """Why the section is not in ``language`` (a re-ask reason), or nothing."""
    if language == ENGLISH:
        return []
    text = sentences(data, section, language)
    if word_count(text, language) < MIN_SECTION_WORDS:
        return []
    found = identify(text)
    if found is None or found[0] == language or found[1] < MIN_CONFIDENCE:
        return []
    wanted, written = language_name(language), language_name(found[0])
    return [
        f"the section is written in {written}, not {wanted}: write every sentence in {wanted}; keep names, "
        "requirement IDs, paths and code as they are"
    ]
