"""Grounding check of a drafted section: does it speak about the brief's feature?

The section that states what is built (the template's first section) and requirement items must share
key terms with the brief or the sections decided before; otherwise the answer is re-asked with the reason
(the small model likes to describe the prompt's example feature instead of the brief's).
Only the first section is held to the stricter "mostly known terms" test; a functional requirement must
share a key term with them or with a requirement of the same list that does (a vague brief leaves most
words to the requirements: *"Add dark mode"* grounds *"Light, Dark and System themes"*, which grounds
*"the theme follows the operating system"*).
Two more sections are judged as a whole: the API, whose endpoints must not all be about resources the
brief never mentions (generic CRUD on ``/api/v1/users`` for a feature about invitations), and the stack,
whose backend must not contradict the language or database the brief names (*Axum* under a Python
backend). Later sections (deployment, risks) legitimately bring new words and are not judged.
"""

from __future__ import annotations

import re
from typing import Any

from agent.drafting.brief import Brief
from agent.drafting.values import iter_strings, leaf_key
from agent.specdoc.grounding import (
    content_stems,
    is_generic,
    off_topic,
    reference_terms,
    stem,
    word_count,
)
from agent.specdoc.language import ENGLISH, TITLE_WORDS, title_pattern
from agent.specdoc.stacks import stack_conflict
from agent.specdoc.template import TemplateSection

#: strings shorter than this (words) are names, values or fragments: not judged.
MIN_WORDS = 8
_REQUIREMENT_KEYS = re.compile(f"{TITLE_WORDS['requirements']}|{TITLE_WORDS['functional']}", re.IGNORECASE)
#: the values judged in a requirements section: functional ones (NFRs bring their own vocabulary);
#: keys are slugs of the template's titles ("funktionale_anforderungen", "requisitos_funcionales")
_FUNCTIONAL = re.compile(
    r"^(?:functional|fr\b|requirements?\b|funktional|fa\b|anforderungen\b|requisitos_funcionales"
    r"|rf\b|requisitos\b|exigences_fonctionnelles|ef\b|exigences\b)",
    re.IGNORECASE,
)
_API = title_pattern("endpoints")
_STACK = title_pattern("stack")
_BACKEND = title_pattern("backend")
#: the stack fields that decide the language and database (a testing tool may be in another language)
_STACK_FIELDS = frozenset({"language", "framework", "database"})
# an endpoint line: METHOD /path ... # description
_ENDPOINT = re.compile(r"^\s*[A-Z]{3,7}\s+(/\S*)(?:.*?#\s*(?:\([a-z]+\)\s*)?(.*))?$", re.MULTILINE)
#: words of endpoint descriptions that name no resource: CRUD verbs and the template's own
_CRUD = frozenset(
    stem(word)
    for word in (
        *("list", "get", "create", "read", "update", "delete", "fetch", "retrieve", "add", "remove"),
        *("specific", "resource", "resources", "return", "returns", "new", "one", "all", "by", "id"),
    )
)
_PATH_NOISE = re.compile(r"^(?:api|v\d+|\{.*\}|:.*|)$")


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
    language: str = ENGLISH,
) -> list[str]:
    """Off-topic values of a (schema- and quality-valid) section, as re-ask reasons; ``language`` is
    the spec's (the brief's words are read in the brief's own, ``BriefFacts.language``)."""
    facts = brief.facts
    lang = facts.language
    labels = [section.title] + [f.label or f.key for f in section.fields]
    reference = set(facts.terms) | reference_terms(*earlier, *labels, language=lang)
    problems = _stack_problems(data, brief) if _STACK.search(section.key) else []
    if language != lang:  # a section in another language than the brief shares no words with it
        return problems
    if _API.search(section.key) or _API.search(section.title):
        problems += _endpoint_problems(data, reference, lang)
    if not judged(section, root=root):
        return problems
    values = [
        (path, value)
        for path, value in iter_strings(data)
        if word_count(value, lang) >= MIN_WORDS and (root or _FUNCTIONAL.search(path))
    ]
    if not root:
        # a requirement anchored in the brief (its title's words, or two of its terms) grounds the others
        title = {s for s in content_stems(brief.title, lang) if not is_generic(s, lang)}
        for value in [value for _, value in values if _anchored(value, reference, title, lang)]:
            reference |= set(content_stems(value, lang))
    for path, value in values:
        if reason := off_topic(value, reference, strict=root, language=lang):
            problems.append(f"{path or 'value'} is off-topic: {reason}; write about the brief's feature")
    return problems


def _anchored(value: str, reference: set[str], title: set[str], language: str) -> bool:
    """A value firmly about the brief: it names the title's subject, or two of the brief's terms."""
    known = {s for s in content_stems(value, language) if s in reference and not is_generic(s, language)}
    return bool(known & title) or len(known) >= 2


def _endpoint_problems(data: dict[str, Any], reference: set[str], language: str) -> list[str]:
    """The API is off-topic when no endpoint's resources or description names anything the brief does.

    Paths are English words whatever the spec's language (``/invitations`` in a German spec): in
    another language only the descriptions are compared, and endpoints without one are not judged."""
    resources: list[str] = []
    said: set[str] = set()
    for path, value in iter_strings(data):
        if "endpoint" not in path.lower():
            continue
        for match in _ENDPOINT.finditer(value):
            segments = re.split(r"[/\-_.]", match.group(1).lower())
            resources += [stem(s) for s in segments if not _PATH_NOISE.match(s)]
            described = content_stems(match.group(2) or "", language)
            said |= {s for s in described if not is_generic(s, language) and s not in _CRUD}
    if language != ENGLISH:
        resources = resources if said else []
    if not resources or set(resources) & reference or said & reference:
        return []
    shown = ", ".join(dict.fromkeys(resources))
    return [
        f"endpoints is off-topic: the endpoints are about {shown}, which the brief does not mention; "
        "write the endpoints of the brief's feature"
    ]


def _stack_problems(data: dict[str, Any], brief: Brief) -> list[str]:
    """Backend technologies that contradict the language or database the brief names."""
    problems = []
    for path, value in iter_strings(data):
        decides = _BACKEND.search(path) and leaf_key(path) in _STACK_FIELDS
        if decides and (reason := stack_conflict(value, f"{brief.title}\n{brief.body}")):
            problems.append(f"{path} contradicts the brief: {reason}; keep to the brief's stack")
    return problems
