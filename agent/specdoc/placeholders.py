"""The one placeholder rule: what a ``[bracketed]`` template instruction is, and what counts as
template text left in a spec (``[bracketed words]`` that are not links, indexes, numbers or markers).

Shared by the template compiler (a field's instruction), the renderer, lint (on a written spec) and the
quality checks (on a model's answer), so an answer that passes validation is not then reported by lint.
"""

from __future__ import annotations

import functools
import re

#: any single-line ``[...]`` (lint and quality then decide with :func:`is_placeholder`)
BRACKET = re.compile(r"\[([^\[\]\n]*)\]")
#: a template's instruction placeholder: ``[List of UI components]`` (not ``[]`` nor a ``[NEEDS ...]`` marker)
PLACEHOLDER = re.compile(r"\[(?!\s*\]|NEEDS )([^\[\]\n]{1,300})\]")
#: an example list and what follows it: "e.g." and the translated templates' own, "z. B." (German),
#: "p. ej." (Spanish), "p. ex." (French); lint reports one left in a spec, the copy check cuts it off
EXAMPLE_LIST = re.compile(r"\b(?:e\.g\.|z\.\s?B\.|p\.\s?ej\.|p\.\s?ex\.),?\s*(.*)", re.IGNORECASE)
_INSTRUCTION_WORD = re.compile(r"[^\W_]+")
_NUMBERS = re.compile(r"[\d\s.,:-]+")
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9 _|/.,+'()-]*")


def template_placeholders(text: str) -> frozenset[str]:
    """The instruction texts of a template's placeholders (checkbox marks like ``[x]`` excluded)."""
    found = (m.group(1).strip() for m in PLACEHOLDER.finditer(text))
    return frozenset(item for item in found if len(item) >= 2)


def is_placeholder(text: str, match: re.Match[str], *, fenced: bool) -> bool:
    inner = match.group(1).strip()
    start, end = match.start(), match.end()
    if inner in ("", "x", "X") or inner.startswith(("^", "NEEDS CLARIFICATION", "NEEDS ATTENTION")):
        return False
    if end < len(text) and text[end] in "([:":
        return False  # a link, a reference or a YAML/ref definition
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_])"):
        return False  # indexing or a type: list[str], a[0]
    if _NUMBERS.fullmatch(inner):
        return False  # [1], [0, 1]: numbers, citations
    if fenced:
        # In code (JSON arrays, regexes), only bracketed words look like template placeholders.
        return _WORDS.fullmatch(inner) is not None and '"' not in inner
    return True


def bracketed_placeholder(text: str) -> str | None:
    """The first ``[...]`` in prose that reads as a placeholder, or None."""
    for match in BRACKET.finditer(text):
        if is_placeholder(text, match, fenced=False):
            return match.group(0)
    return None


# what may stand before / after template text pasted as a clause of its own (not ':' after it: that
# opens a sentence about it, "Maximum resources per instance: 2 vCPU")
_BEFORE = re.compile(r"(?:^|[;,.:|(\n-])[\s*]*$")
_AFTER = re.compile(r"^[\s*]*(?:$|[;,.|)\n])")


def pasted_text(text: str, instructions: set[str] | list[str] | frozenset[str]) -> str | None:
    """A template instruction (12+ characters, 3+ words) standing as a clause of its own in ``text``.

    ``React pages; List of UI components and their responsibilities; a settings panel`` keeps the
    template's text; ``Maximum resources per instance: 2 vCPU`` and ``Potential performance issues when
    a large customer ...`` use its words in a sentence of their own. Case and punctuation inside the
    instruction do not matter; words are those of any language (``Cómo se cifran los datos almacenados``).
    """
    lower = text.lower() if text.isascii() else None
    for instruction, pattern, clue in _clause_patterns(tuple(instructions)):
        if lower is not None and clue is not None and clue not in lower:
            continue  # the instruction's longest word is not in the text: no need to search it
        for match in pattern.finditer(text):
            if _BEFORE.search(text[: match.start()]) and _AFTER.match(text[match.end() :]):
                return instruction
    return None


def pasted_text_clues(instructions: set[str] | list[str] | frozenset[str]) -> tuple[str, ...] | None:
    """Words one of which (lower case) an ASCII text holds whenever :func:`pasted_text` finds something
    in it; None when no such words can be named (an instruction whose longest word is not ASCII)."""
    clues = tuple(clue for _, _, clue in _clause_patterns(tuple(instructions)))
    return None if None in clues else tuple(clue for clue in clues if clue is not None)


@functools.lru_cache(maxsize=256)
def _clause_patterns(instructions: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str], str | None], ...]:
    """Each instruction long enough to count with its compiled pattern, longest first (lint and the
    quality checks ask about the same template's instructions for every line and every answer), and
    its clue: its longest word in lower case when that is ASCII (an ASCII text the pattern matches,
    case ignored, holds it; re's case folding maps a few other letters onto ASCII ones, so only then)."""
    patterns = []
    for instruction in sorted(instructions, key=len, reverse=True):
        words = _INSTRUCTION_WORD.findall(instruction)  # letters of any language: "verschlüsselt" is one word
        if len(instruction) < 12 or len(words) < 3:
            continue
        pattern = r"\b" + r"\W+".join(map(re.escape, words)) + r"\b"
        longest = max(words, key=len).lower()
        clue = longest if longest.isascii() else None
        patterns.append((instruction, re.compile(pattern, flags=re.IGNORECASE), clue))
    return tuple(patterns)
