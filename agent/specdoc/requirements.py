"""The requirement IDs of a spec: their pattern, and the ones a piece of Markdown defines.

One home for "which requirement IDs does this spec have": the drafter reads them from the sections
already drafted (rendered), refine and chat from the spec on disk, ``specdraft trace`` and lint from the
whole document. A requirement is a list item whose bold ID leads the line (``- [ ] **FR-001**: ...``),
which is how a numbered template field renders.
"""

from __future__ import annotations

import re

#: a requirement ID: a short upper-case prefix and a number (FR-001, NFR-002, QR-010)
ID_PATTERN = r"[A-Z][A-Z0-9]{0,5}-[0-9]{1,5}"  # [0-9], not \d: llama.cpp grammars reject \d
#: the same, anchored, for JSON schemas (``covers`` items)
ID_SCHEMA_PATTERN = rf"^{ID_PATTERN}$"
#: a line that defines a requirement
REQUIREMENT = re.compile(
    r"^\s*[-*+]\s+(?:\[[ xX]\]\s+)?\*\*(?P<prefix>[A-Z][A-Z0-9]{0,5})-(?P<num>\d{1,5})\*\*:?\s*(?P<text>.*)$"
)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
#: ID prefixes of functional and non-functional requirements, in each template language shipped:
#: FR/NFR (English), FA/NFA (German: funktionale Anforderung), RF/RNF (Spanish, Portuguese: requisito
#: funcional), EF/ENF (French: exigence fonctionnelle)
FUNCTIONAL_PREFIXES = frozenset({"FR", "FA", "RF", "EF"})
NON_FUNCTIONAL_PREFIXES = frozenset({"NFR", "NFA", "RNF", "ENF"})
#: how long the text shown next to an ID in a prompt may be
SHORT_TEXT = 70


def defined_requirements(markdown: str) -> dict[str, str]:
    """ID -> text of every requirement the Markdown defines (first definition wins; fences skipped)."""
    found: dict[str, str] = {}
    fence = ""
    for line in markdown.splitlines():
        opened = _FENCE.match(line)
        if opened is not None:
            mark = opened.group(1)
            if not fence:
                fence = mark
            elif mark[0] == fence[0] and len(mark) >= len(fence):
                fence = ""
            continue
        if fence:
            continue
        match = REQUIREMENT.match(line)
        if match is not None:
            found.setdefault(f"{match.group('prefix')}-{match.group('num')}", match.group("text").strip())
    return found


def short_text(text: str, limit: int = SHORT_TEXT) -> str:
    """A requirement's text cut to one short line, for listing IDs in a prompt."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def listed(ids: dict[str, str] | list[str], limit: int = 12) -> str:
    """``FR-001, FR-002, ...`` for messages (at most ``limit`` IDs shown)."""
    keys = list(ids)
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


_CITATION = re.compile(rf"\s\((?P<ids>{ID_PATTERN}(?:,\s*{ID_PATTERN})*)\)\s*$")


def split_covers(text: str) -> tuple[str, list[str]]:
    """A rendered item read back: its text and the IDs it cites (``Load test (FR-001, NFR-002)``)."""
    match = _CITATION.search(text)
    if match is None:
        return text.strip(), []
    ids = [part.strip() for part in match.group("ids").split(",")]
    return text[: match.start()].strip(), ids


def is_functional(prefix: str) -> bool:
    """A functional requirement's ID prefix (FR, or its translation: FA, RF, EF)."""
    return prefix in FUNCTIONAL_PREFIXES


def is_non_functional(prefix: str) -> bool:
    """A non-functional requirement's ID prefix (NFR, or its translation: NFA, RNF, ENF)."""
    return prefix in NON_FUNCTIONAL_PREFIXES
