"""Grounding check of a drafted section: does it speak about the brief's feature?

The section that states what is built (the template's first section) and requirement items must share
key terms with the brief or the sections decided before; otherwise the answer is re-asked with the reason
(the small model likes to describe the prompt's example feature instead of the brief's).
Only the first section is held to the stricter "mostly known terms" test; functional requirements must
share at least one key term.
Later sections (stack, deployment, risks) legitimately bring new words and are not judged.
"""

from __future__ import annotations

import re
from typing import Any

from agent.drafting.brief import Brief
from agent.drafting.quality import iter_strings
from agent.spec.grounding import extract, off_topic, reference_terms
from agent.spec.template import TemplateSection

#: strings shorter than this (words) are names, values or fragments: not judged.
MIN_WORDS = 8
_REQUIREMENT_KEYS = re.compile(r"requirement|functional", re.IGNORECASE)
#: the values judged in a requirements section: functional ones (NFRs bring their own vocabulary)
_FUNCTIONAL = re.compile(r"^(?:functional|fr\b|requirements?\b)", re.IGNORECASE)


def judged(section: TemplateSection, *, root: bool) -> bool:
    """Whether a section is one whose content must be about the brief's feature."""
    return root or bool(_REQUIREMENT_KEYS.search(section.key) or _REQUIREMENT_KEYS.search(section.title))


def grounding_problems(
    data: dict[str, Any],
    section: TemplateSection,
    brief: Brief,
    earlier: list[str],
    *,
    root: bool,
) -> list[str]:
    """Off-topic values of a (schema- and quality-valid) section, as re-ask reasons."""
    if not judged(section, root=root):
        return []
    facts = extract(brief.body, brief.title)
    labels = [section.title] + [f.label or f.key for f in section.fields]
    reference = set(facts.terms) | reference_terms(*earlier, *labels)
    problems: list[str] = []
    for path, value in iter_strings(data):
        if len(value.split()) < MIN_WORDS or not (root or _FUNCTIONAL.search(path)):
            continue
        reason = off_topic(value, reference, strict=root)
        if reason:
            problems.append(f"{path or 'value'} is off-topic: {reason}; write about the brief's feature")
    return problems
