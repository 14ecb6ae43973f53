"""Scoring of existing specs: one scorecard per spec and the overall figures, no model involved.

Figures: sections ok / needing attention, lint errors and warnings by rule, smells per 10 requirements
(rules ``smell-*``), brief coverage (0-1), off-topic items, duplicate or near-duplicate items,
clarification markers, traced requirements share, and tokens, seconds and cost from the front matter's
usage when present. ``compare`` gives the change of every figure against a baseline.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from agent.checks.lint import lint_document
from agent.specdoc.document import SpecDocument
from agent.specdoc.grounding import BriefFacts, content_stems
from agent.specdoc.language import ENGLISH, spec_language
from agent.specdoc.template_resolver import TemplateOutline
from agent.specdoc.trace import REQUIREMENT, trace_document

_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(?:\*\*[^*]+\*\*:?\s*)?(?P<text>.+)$")
_NEAR = 0.8


def _items(doc: SpecDocument) -> list[str]:
    items: list[str] = []
    for section in doc.sections:
        for line in section.content.splitlines():
            match = _ITEM.match(line)
            if match and len(match.group("text").split()) >= 4:
                items.append(match.group("text"))
    return items


def duplicates(items: list[str], language: str = ENGLISH) -> int:
    """Items that repeat an earlier one, exactly or nearly (Jaccard of stems >= 0.8), the stems read in
    the spec's ``language`` (German *Einladungen* and *Einladung* are one word)."""
    seen: list[set[str]] = []
    count = 0
    for item in items:
        stems = set(content_stems(item, language))
        if not stems:
            continue
        if any(len(stems & other) / len(stems | other) >= _NEAR for other in seen):
            count += 1
        seen.append(stems)
    return count


def _usage(doc: SpecDocument) -> dict[str, float | None]:
    meta = doc.front_matter.get("specdraft")
    usage = meta.get("usage") if isinstance(meta, dict) else None
    usage = usage if isinstance(usage, dict) else {}

    def number(*keys: str) -> float | None:
        for key in keys:
            value = usage.get(key)
            if isinstance(value, int | float):
                return float(value)
        return None

    prompt, completion = number("prompt_tokens"), number("completion_tokens")
    summed = prompt + completion if prompt is not None and completion is not None else None
    return {
        "tokens": number("total_tokens", "tokens") or summed,
        "seconds": number("seconds"),
        "cost": number("cost_usd", "cost"),
    }


def score(
    doc: SpecDocument, outline: TemplateOutline, brief: BriefFacts | None, *, path: str = ""
) -> dict[str, Any]:
    """The scorecard of one spec (a JSON-ready dict)."""
    findings = lint_document(doc, outline, brief=brief)
    by_rule = Counter(f.rule for f in findings)
    errors = sum(1 for f in findings if f.severity == "error")
    attention = {f.section.split(" / ")[0] for f in findings if f.rule == "needs-attention"}
    requirements = sum(1 for line in doc.body.splitlines() if REQUIREMENT.match(line))
    smells = sum(n for rule, n in by_rule.items() if rule.startswith("smell-"))
    matrix = trace_document(doc)
    coverage = brief.coverage(doc.body)[0] if brief is not None else None
    return {
        "path": path or doc.source,
        "sections_ok": len(doc.sections) - len(attention),
        "sections_attention": len(attention),
        "lint_errors": errors,
        "lint_warnings": len(findings) - errors,
        "lint_by_rule": dict(sorted(by_rule.items())),
        "requirements": requirements,
        "smells_per_10_requirements": round(10 * smells / requirements, 2) if requirements else 0.0,
        "brief_coverage": coverage,
        "off_topic": by_rule.get("off-topic", 0),
        "duplicates": duplicates(_items(doc), spec_language(doc.front_matter, doc.body)),
        "clarifications": by_rule.get("needs-clarification", 0),
        "traced_share": matrix.traced_share,
        **_usage(doc),
    }


_SUMMED = (
    "sections_ok",
    "sections_attention",
    "lint_errors",
    "lint_warnings",
    "requirements",
    "off_topic",
    "duplicates",
    "clarifications",
    "tokens",
    "seconds",
    "cost",
)
_AVERAGED = ("smells_per_10_requirements", "brief_coverage", "traced_share")


def overall(cards: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals (counts, usage) and means (ratios) over specs; a figure no spec has is None."""
    out: dict[str, Any] = {"specs": len(cards)}
    for key in _SUMMED:
        values = [c[key] for c in cards if c.get(key) is not None]
        out[key] = round(sum(values), 4) if values else None
    for key in _AVERAGED:
        values = [c[key] for c in cards if c.get(key) is not None]
        out[key] = round(sum(values) / len(values), 3) if values else None
    rules: Counter[str] = Counter()
    for card in cards:
        rules.update(card.get("lint_by_rule", {}))
    out["lint_by_rule"] = dict(sorted(rules.items()))
    return out


def report(cards: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schema": "specdraft.eval/1", "specs": cards, "overall": overall(cards)}


FIGURES = (*_SUMMED[:8], *_AVERAGED, *_SUMMED[8:])


def compare(current: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Change of every overall figure (current - baseline); None where either side lacks it."""
    now, then = current.get("overall", {}), baseline.get("overall", {})
    delta: dict[str, Any] = {}
    for key in FIGURES:
        a, b = now.get(key), then.get(key)
        delta[key] = round(a - b, 4) if isinstance(a, int | float) and isinstance(b, int | float) else None
    return delta


def markdown(result: dict[str, Any]) -> str:
    """The scorecard as a Markdown table (one row per spec, then overall)."""
    head = ["spec", *FIGURES]
    rows = [[c["path"], *(_cell(c.get(k)) for k in FIGURES)] for c in result["specs"]]
    rows.append(["**overall**", *(_cell(result["overall"].get(k)) for k in FIGURES)])
    if "delta" in result:
        rows.append(["change vs baseline", *(_cell(result["delta"].get(k), signed=True) for k in FIGURES)])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value: Any, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:+.3g}" if signed else f"{value:.3g}"
    number = int(value) if isinstance(value, float) else value
    return f"{number:+d}" if signed and isinstance(number, int) else str(number)
