"""Checks a JSON schema cannot express: the ways small models degenerate.

Each check returns readable problems with the path of the value, so the re-ask can say exactly
what to fix: leftover template placeholders, the template's instruction or the prompt's example
copied verbatim, a phrase looping, the same item repeated, identifiers instead of prose.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, NamedTuple

from agent.signoff.smells import DRAFTING_SMELLS, drafting_problems
from agent.spec.placeholders import PLACEHOLDER, bracketed_placeholder
from agent.spec.template import FieldKind, TemplateSection

_IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+){2,}$")
_LEFTOVER_WORDS = re.compile(r"\b(TBD|TODO|FIXME|lorem ipsum)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")

# Keys whose values are identifiers or code by nature.
_NON_PROSE_KEYS = {"name", "path", "method", "type", "table_name", "covers"}
# Keys whose values are choices from a closed list (enums): "concurrent users" is a unit, not a copied label.
_CHOICE_KEYS = {"unit", "comparator", "category"}


#: the problem named when an answer copies the prompt's example (a re-ask then hides the example)
EXAMPLE_COPY = "copies the example from the prompt"


class Finding(NamedTuple):
    """One problem of an answer and the check that found it (the bench counts per check)."""

    check: str
    problem: str


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def iter_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (path, string) for every string in a JSON-like value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from iter_strings(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from iter_strings(inner, f"{path}[{index}]")


def looping_phrase(text: str, *, n: int = 4, times: int = 3) -> str | None:
    """The first phrase of ``n`` words that occurs ``times`` or more in ``text``."""
    words = _WORD.findall(text.lower())
    if len(words) < n * times:
        return None
    grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    gram, count = grams.most_common(1)[0]
    return " ".join(gram) if count >= times else None


def check_section(
    data: dict[str, Any], section: TemplateSection, *, examples: list[str] | None = None
) -> list[str]:
    """Problems in one section's (schema-valid) data; an empty list means it passes."""
    return [finding.problem for finding in section_findings(data, section, examples=examples)]


def section_findings(
    data: dict[str, Any],
    section: TemplateSection,
    *,
    examples: list[str] | None = None,
    brief_terms: frozenset[str] = frozenset(),
) -> list[Finding]:
    """:func:`check_section`'s problems, each with the name of the check that found it."""
    problems: list[Finding] = []
    instructions = {normalise(spec.description) for spec in _all_fields(section) if len(spec.description) > 8}
    # Template task lists are sensible defaults, so only placeholder instructions count as copies.
    instructions |= {
        normalise(example)
        for spec in _all_fields(section)
        if spec.kind is not FieldKind.tasks and spec.kind is not FieldKind.code
        for example in spec.examples
    }
    # Short values (an enum, a column type, "for the 95th percentile") may rightly match the example.
    copied_examples = {normalise(example) for example in (examples or []) if len(example.split()) >= 5}
    placeholders = {normalise(spec.description) for spec in _all_fields(section)}
    # instructions proper: a field whose description is only its label ("What are we building?") has none
    descriptions = {
        normalise(spec.description)
        for spec in _all_fields(section)
        if normalise(spec.description) != normalise(spec.label or "")
    }
    # a bullet list's template items ("Key architectural decisions and rationale") are instructions too
    descriptions |= {
        normalise(example)
        for spec in _all_fields(section)
        if spec.kind is FieldKind.bullets
        for example in spec.examples
    }
    # "[Business success]": a heading or label put in brackets is a placeholder too
    placeholders |= {normalise(title) for title in section.subsections}
    placeholders |= {normalise(spec.label) for spec in _all_fields(section) if spec.label}
    code_paths = _code_keys(section) | set(section.model.NON_PROSE_FIELDS)
    for path, value in iter_strings(data):
        leaf = re.sub(r"\[\d+\]", "", path.rsplit(".", 1)[-1])
        top = re.sub(r"\[\d+\]", "", path.split(".", 1)[0])
        is_code = top in code_paths or leaf in code_paths
        norm = normalise(value)
        leftover = None
        if not is_code:
            # template placeholders and placeholder-shaped names; in prose any [bracketed words], as lint
            leftover = _leftover_placeholder(value, placeholders)
            if leftover is None and leaf not in _NON_PROSE_KEYS:
                leftover = bracketed_placeholder(value)
        if leftover:
            problems.append(
                Finding(
                    "placeholder",
                    f"{path}: contains a template placeholder {leftover!r}; write the real content",
                )
            )
        elif word := _LEFTOVER_WORDS.search(value):
            problems.append(
                Finding("placeholder", f"{path}: contains {word.group(0)!r}; write the real content")
            )
        elif not is_code and leaf not in _NON_PROSE_KEYS and _starts_like_placeholder(value):
            # "[Unfinished detail about [the feature] ...": a placeholder the template never had
            problems.append(
                Finding(
                    "placeholder",
                    f"{path}: starts with '[' like a template placeholder; write the content itself",
                )
            )
        if norm and norm in instructions and not is_code and leaf not in _NON_PROSE_KEYS:
            problems.append(
                Finding(
                    "template-copy",
                    f"{path}: copies the template's instruction {value!r}; write content for this feature",
                )
            )
        elif (
            not is_code
            and not leftover
            and leaf not in _NON_PROSE_KEYS
            and (inside := _instruction_inside(norm, descriptions))
        ):
            # "how traffic is distributed; auto_scaling: How the system scales automatically": lint
            # reports template text left in a longer value, so validation must not let it pass
            problems.append(
                Finding(
                    "template-copy",
                    f"{path}: contains the template's text {inside!r}; write content for this feature",
                )
            )
        if norm and (norm in copied_examples or _near_copy(norm, copied_examples)):
            problems.append(
                Finding("example-copy", f"{path}: {EXAMPLE_COPY}; write content for this feature")
            )
        phrase = looping_phrase(value)
        if phrase:
            problems.append(Finding("loop", f"{path}: the phrase {phrase!r} repeats; say it once"))
        if not is_code and leaf not in _NON_PROSE_KEYS and _IDENTIFIER.match(value.strip()):
            problems.append(
                Finding(
                    "identifier", f"{path}: {value!r} is an identifier, not prose; write a plain sentence"
                )
            )
    labels = {normalise(spec.label) for spec in _all_fields(section) if spec.label}
    labels |= {normalise(key.replace("_", " ")) for key, _ in section.shape}
    for path, value in iter_strings(data):
        leaf = re.sub(r"\[\d+\]", "", path.rsplit(".", 1)[-1])
        # names and types ("method" as a request field's name) may rightly equal a label
        if leaf not in _CHOICE_KEYS and leaf not in _NON_PROSE_KEYS and normalise(value) in labels:
            problems.append(
                Finding(
                    "template-copy", f"{path}: {value!r} only repeats the field's name; write its content"
                )
            )
    problems.extend(Finding("repeated-items", p) for p in _repeated_items(data))
    problems.extend(Finding("same-value", p) for p in _same_value_everywhere(data))
    problems.extend(Finding("smells", p) for p in requirement_smells(data, section))
    return problems


def requirement_smells(data: dict[str, Any], section: TemplateSection) -> list[str]:
    """Re-ask reasons for smelly numbered requirements (FR-001, QR-001, ...), as lint's smell rules say.

    Only the precise smells reject (``DRAFTING_SMELLS``: loopholes, open-ended lists, vague quantities,
    and weak modals in functional requirements): a weak model re-asked on a doubtful finding gets worse.
    """
    problems: list[str] = []
    for key, prefix in _numbered_keys(section).items():
        items = data.get(key)
        if not isinstance(items, list):
            continue
        rules = DRAFTING_SMELLS if prefix.startswith("FR") else DRAFTING_SMELLS - {"smell-weak-modal"}
        for index, item in enumerate(items):
            if isinstance(item, str):
                problems.extend(drafting_problems(item, f"{key}[{index}]", rules=rules))
    return problems


def _numbered_keys(section: TemplateSection) -> dict[str, str]:
    """Data key -> ID prefix of every numbered requirement list of the section."""
    keys: dict[str, str] = {}
    for key, entry in section.shape:
        for spec in entry if isinstance(entry, list) else [entry]:
            if spec.kind is FieldKind.numbered:
                keys[key] = keys[spec.key] = spec.id_prefix or ""
    return keys


def _same_value_everywhere(data: dict[str, Any], limit: int = 3) -> list[str]:
    """One prose value pasted into many fields ('text/javascript' as every security measure)."""
    seen: dict[str, list[str]] = {}
    for path, value in iter_strings(data):
        leaf = re.sub(r"\[\d+\]", "", path.rsplit(".", 1)[-1])
        if leaf in _CHOICE_KEYS or leaf in _NON_PROSE_KEYS or "[" in path:
            continue
        norm = normalise(value)
        if norm:
            seen.setdefault(norm, []).append(path)
    return [
        f"{paths[0]}: the same value {norm!r} fills {len(paths)} fields ({', '.join(paths[:4])}); "
        "give each field its own content"
        for norm, paths in seen.items()
        if len(paths) >= limit
    ]


def _instruction_inside(norm: str, instructions: set[str]) -> str | None:
    """A template instruction of 12+ characters and 3+ words inside a longer value (lint's threshold)."""
    padded = f" {norm} "
    for instruction in instructions:
        if len(instruction) >= 12 and len(instruction.split()) >= 3 and f" {instruction} " in padded:
            return instruction
    return None


def _starts_like_placeholder(value: str) -> bool:
    """Prose opening with '[' that is not a [NEEDS CLARIFICATION: ...] marker."""
    text = value.lstrip()
    return text.startswith("[") and not text.startswith("[NEEDS ")


_PLACEHOLDER_LIKE = re.compile(
    r"^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z][a-z]+(?:[A-Z][a-z0-9]+){2,}|\.\.\.|e\.g\..*)$"
)


def _leftover_placeholder(value: str, placeholders: set[str]) -> str | None:
    """Bracketed text that is a template placeholder or shaped like one ([FEATURE_NAME], [YourName])."""
    for match in PLACEHOLDER.finditer(value):
        inner = match.group(1).strip()
        if normalise(inner) in placeholders or _PLACEHOLDER_LIKE.match(inner):
            return match.group(0)
    return None


def without_example_copies(answer: str, examples: list[str]) -> str:
    """The answer with every value that copies the prompt's example emptied, to quote back in a re-ask.

    A small model shown its own copy of the example copies it again ("keep what was right"), even once
    the example itself is gone from the prompt; the other values stay, so it can keep those.
    """
    copied = {normalise(example) for example in examples if len(example.split()) >= 5}
    try:
        obj = json.loads(answer)
    except ValueError:
        return answer
    if not copied:
        return answer

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            norm = normalise(value)
            return "" if norm and (norm in copied or _near_copy(norm, copied)) else value
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        return value

    cleaned = clean(obj)
    return answer if cleaned == obj else json.dumps(cleaned, ensure_ascii=False)


def _near_copy(norm: str, examples: set[str]) -> bool:
    """The example with a word or two changed is still a copy."""
    from difflib import SequenceMatcher

    for example in examples:
        matcher = SequenceMatcher(None, norm, example)
        # the quick ratios are upper bounds of ratio(): most strings are ruled out without the full match
        if matcher.real_quick_ratio() >= 0.85 and matcher.quick_ratio() >= 0.85 and matcher.ratio() >= 0.85:
            return True
    return False


def _repeated_items(value: Any, path: str = "") -> list[str]:
    problems: list[str] = []
    if isinstance(value, list) and path.endswith("covers"):
        return problems  # cited requirement IDs: a repeat is dropped by the model, not re-asked
    if isinstance(value, list):
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            key = (
                normalise(item)
                if isinstance(item, str)
                else normalise(repr(sorted(item.items())) if isinstance(item, dict) else repr(item))
            )
            if key and key in seen:
                problems.append(f"{path}[{index}]: repeats item {seen[key]}; every item must be different")
            else:
                seen[key] = index
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                problems.extend(_repeated_items(item, f"{path}[{index}]"))
    elif isinstance(value, dict):
        for key, inner in value.items():
            problems.extend(_repeated_items(inner, f"{path}.{key}" if path else key))
    return problems


def _all_fields(section: TemplateSection) -> Iterator[Any]:
    for spec in section.fields:
        yield spec
        yield from spec.children


def _code_keys(section: TemplateSection) -> set[str]:
    keys = set()
    for key, entry in section.shape:
        specs = entry if isinstance(entry, list) else [entry]
        for spec in specs:
            if spec.kind is FieldKind.code:
                keys.add(spec.key)
                keys.add(key)
    return keys
