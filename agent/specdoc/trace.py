"""Traceability: which endpoints, tasks, tests and success criteria refer to each requirement.

Parsed from the rendered Markdown, so it works on any spec: requirements are checklist or bullet items
whose bold ID leads the line (``- [ ] **FR-001**: ...``); a reference is an ID (``FR-001``) or a range
(``FR-001..003``, ``FR-001 to FR-003``) in a line of a section that plans, tests or measures the work.
``specdraft trace`` prints the matrix and lint's ``fr-untraced`` reports the same uncovered requirements.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from agent.specdoc.document import SpecDocument
from agent.specdoc.language import title_pattern
from agent.specdoc.requirements import REQUIREMENT

__all__ = ["KINDS", "REQUIREMENT", "TraceMatrix", "TracedRequirement", "references", "trace_document"]
_REF_RANGE = re.compile(r"\b([A-Z][A-Z0-9]{0,5})-(\d{1,5})\s*(?:\.\.|–|—|-|to|through)\s*(?:\1-)?(\d{1,5})\b")
_REF = re.compile(r"\b([A-Z][A-Z0-9]{0,5})-(\d{1,5})\b")
_DASH_DIGIT = re.compile(r"-\d")
_CHECKBOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])?\s*(?:\[[ xX]\]\s*)?")

#: kind of a referring line, by its section or subsection title (first match wins)
KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, title_pattern(kind)) for kind in ("endpoints", "tests", "criteria", "tasks")
)


def references(text: str) -> set[str]:
    """Requirement IDs a text refers to, ranges expanded (``FR-001..003`` -> FR-001, FR-002, FR-003)."""
    found: set[str] = set()
    if _DASH_DIGIT.search(text) is None:
        return found  # every ID has one: most lines of a plan or a test list name none
    for match in _REF_RANGE.finditer(text):
        prefix, low, high = match.group(1), int(match.group(2)), int(match.group(3))
        width = len(match.group(2))
        found.update(f"{prefix}-{n:0{width}d}" for n in range(low, min(high, low + 999) + 1))
    found.update(f"{m.group(1)}-{m.group(2)}" for m in _REF.finditer(text))
    return found


@dataclass
class TracedRequirement:
    id: str
    text: str
    line: int
    section: str
    #: kind -> the referring lines (text, stripped of list markers)
    covered_by: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind, _ in KINDS})

    @property
    def covered(self) -> bool:
        return any(self.covered_by.values())


@dataclass
class TraceMatrix:
    requirements: list[TracedRequirement]

    @property
    def uncovered(self) -> list[TracedRequirement]:
        return [r for r in self.requirements if not r.covered]

    @property
    def traced_share(self) -> float:
        if not self.requirements:
            return 1.0
        return round(1 - len(self.uncovered) / len(self.requirements), 3)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "specdraft.trace/1",
            "requirements": [
                {"id": r.id, "text": r.text, "line": r.line, "section": r.section, **r.covered_by}
                for r in self.requirements
            ],
            "uncovered": [r.id for r in self.uncovered],
            "traced_share": self.traced_share,
        }


@functools.lru_cache(maxsize=4096)
def _kind(section: str, subsection: str) -> str | None:
    for kind, pattern in KINDS:
        if pattern.search(subsection) or pattern.search(section):
            return kind
    return None


def trace_document(doc: SpecDocument) -> TraceMatrix:
    """The requirement -> endpoints/tests/criteria/tasks matrix of a parsed spec."""
    offset = doc.front_matter_text.count("\n")
    raw, mask, sections = doc.body_lines, doc.body_fenced, doc.body_line_sections
    requirements = doc.body_requirements
    defined: dict[str, TracedRequirement] = {}
    referring: list[tuple[str, str, str]] = []  # (kind, line text, the ID it defines or "")
    sub = current = ""
    kind: str | None = None  # the kind of the current (sub)section, worked out when it changes
    for i, (text, fenced, section) in enumerate(zip(raw, mask, sections, strict=True)):
        if section != current:
            current, sub = section, ""
            kind = _kind(section, sub)
        if fenced:
            if kind == "endpoints":
                referring.append((kind, text.strip(), ""))
            continue
        if "### " in text and text.lstrip().startswith("### "):
            sub = text.rstrip("\n").lstrip()[4:].strip()
            kind = _kind(section, sub)
            continue
        # a line that is not a requirement matters only in a referring section
        match = requirements[i]
        if match is None and kind is None:
            continue
        own = ""
        if match is not None:
            own = f"{match.group('prefix')}-{match.group('num')}"
            if own not in defined and kind is None:
                where = f"{section} / {sub}" if sub else section
                defined[own] = TracedRequirement(own, match.group("text").strip(), i + 1 + offset, where)
        if kind is not None and text.strip():
            body = match.group("text") if match is not None else text.rstrip("\n")
            referring.append((kind, _CHECKBOX.sub("", body).strip(), own))
    for kind, text, own in referring:
        for rid in references(text):
            if rid in defined and rid != own:
                defined[rid].covered_by[kind].append(text)
    return TraceMatrix(list(defined.values()))
