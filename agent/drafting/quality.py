"""Checks a JSON schema cannot express: the ways small models degenerate.

Each check returns readable problems with the path of the value, so the re-ask can say exactly
what to fix: leftover template placeholders, the template's instruction or the prompt's example
copied (:mod:`agent.drafting.copying`), a phrase looping or a value repeated
(:mod:`agent.drafting.repetition`), identifiers, markup or links instead of prose, filler that says
nothing, smelly requirements. Every check is tuned against the labelled answers of
``tests/data/answers/`` and of the German, Spanish and Chinese corpora beside it (``bench/checks.py``):
good answers of competent models must pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from agent.drafting.copying import copies_example, paraphrased_instruction, prompt_words_in
from agent.drafting.repetition import looping_phrase, repeated_items, same_value_everywhere
from agent.drafting.values import iter_strings, leaf_key, normalise, top_key
from agent.specdoc.grounding import content_stems, said_stems, word_count
from agent.specdoc.language import ENGLISH
from agent.specdoc.placeholders import EXAMPLE_LIST, PLACEHOLDER, bracketed_placeholder, pasted_text
from agent.specdoc.requirements import is_functional
from agent.specdoc.smell_lexicons import drafting_problems_in
from agent.specdoc.smells import DRAFTING_SMELLS
from agent.specdoc.template import FieldKind, FieldSpec, TemplateSection
from agent.specdoc.wordstems import DECLINED

#: the problem named when an answer copies the prompt's example (a re-ask then hides the example)
EXAMPLE_COPY = "copies the example from the prompt"

#: every check of this module, in the order its problems are listed
CHECKS = (
    "placeholder",
    "template-copy",
    "example-copy",
    "prompt-copy",
    "loop",
    "identifier",
    "junk",
    "filler",
    "repeated-items",
    "same-value",
    "smells",
)

_IDENTIFIER = re.compile(
    # SCOPE_INFORMATION_TYPE_NONE, add_to_cart(): a code token, not a sentence. (A snake_case word such
    # as customers_id is one too, but the recorded drafts in cassettes/ accept it: rejecting it needs
    # them re-recorded first.)
    r"^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+){2,}|[A-Za-z_][\w.]*\(\))$"
)
_LEFTOVER_WORDS = re.compile(r"\b(TBD|TODO|FIXME|lorem ipsum)\b", re.IGNORECASE)
_HTML = re.compile(
    r"</?(?:pre|code|b|i|u|em|strong|br|p|div|span|ul|ol|li|h[1-6]|table|tr|td|a|img|script|style)\b[^<>]*>",
    re.IGNORECASE,
)
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
_ALNUM = re.compile(r"[^\W_]")
_TIMESTAMP = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}\S*\s*$")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_NUMBER = re.compile(r"\d")

# Keys whose values are identifiers or code by nature.
_NON_PROSE_KEYS = frozenset(
    {"name", "path", "method", "type", "table_name", "covers", "indexes", "constraints"}
)
# Keys whose values are choices from a closed list (enums): "concurrent users" is a unit, not a copied label.
_CHOICE_KEYS = frozenset({"unit", "comparator", "category"})

#: a value of this many words needs at least one specific word to say something
FILLER_WORDS = 8
#: "Not needed: the API has no browser client", "Nicht nötig: ...": a field the feature does not need (what
#: the filler re-ask asks for, in any language); only its reason is judged as filler, so the declining
#: words do not make a short reason filler
_DECLINED = re.compile(
    r"^\s*(?:" + "|".join(re.escape(form) for forms in DECLINED.values() for form in forms) + r")\b\W*",
    re.IGNORECASE,
)


class AnswerFinding(NamedTuple):
    """One problem of a section answer and the check that found it (the bench counts per check); lint's
    findings on a whole spec are agent.checks.lint.Finding."""

    check: str
    problem: str


@dataclass(frozen=True)
class _Template:
    """What the section's template says, in the forms the checks compare answers with."""

    instructions: set[str]  # whole values that copy an instruction
    descriptions: set[str]  # instructions a value must not paste as a clause
    placeholders: set[str]  # bracketed texts that are the template's own placeholders
    labels: set[str]  # field names a value must not merely repeat
    code: set[str]  # keys holding code
    asks: dict[str, str]  # field key -> the template's instruction for it ("How API endpoints are tested")
    #: the instructions as written (before an "e.g." list), which a value must not merely reword
    wordings: tuple[str, ...] = ()

    @classmethod
    def of(cls, section: TemplateSection) -> _Template:
        fields = list(_all_fields(section))
        instructions = {normalise(spec.description) for spec in fields if len(spec.description) > 8}
        # Template task lists are sensible defaults, so only placeholder instructions count as copies.
        instructions |= {
            normalise(example)
            for spec in fields
            if spec.kind is not FieldKind.tasks and spec.kind is not FieldKind.code
            for example in spec.examples
        }
        # instructions proper: a field whose description is only its label ("What are we building?") has
        # none; kept as written (pasted_text reads the words of any language: "verschlüsselt", "Cómo")
        descriptions = {
            spec.description for spec in fields if normalise(spec.description) != normalise(spec.label or "")
        }
        # a bullet list's template items ("Key architectural decisions and rationale") are instructions too
        descriptions |= {
            example for spec in fields if spec.kind is FieldKind.bullets for example in spec.examples
        }
        # "[Business success]": a heading or label put in brackets is a placeholder too
        placeholders = {normalise(spec.description) for spec in fields}
        placeholders |= {normalise(title) for title in section.subsections}
        placeholders |= {normalise(spec.label) for spec in fields if spec.label}
        labels = {normalise(spec.label) for spec in fields if spec.label}
        labels |= {normalise(key.replace("_", " ")) for key, _ in section.shape}
        code = _code_keys(section) | set(section.model.NON_PROSE_FIELDS)
        asks = {spec.key: spec.description for spec in fields if len(spec.description) > 8}
        return cls(instructions, descriptions, placeholders, labels, code, asks, _wordings(fields))


def check_section(
    data: dict[str, Any],
    section: TemplateSection,
    *,
    examples: list[str] | None = None,
    brief_terms: frozenset[str] = frozenset(),
    language: str = ENGLISH,
) -> list[str]:
    """Problems in one section's (schema-valid) data; an empty list means it passes.

    ``examples``: the strings of the prompt's worked example; ``brief_terms``: the brief's content stems,
    the words an answer may share with the example without copying it.
    """
    return [
        finding.problem
        for finding in section_findings(
            data, section, examples=examples, brief_terms=brief_terms, language=language
        )
    ]


def section_findings(
    data: dict[str, Any],
    section: TemplateSection,
    *,
    examples: list[str] | None = None,
    brief_terms: frozenset[str] = frozenset(),
    language: str = ENGLISH,
) -> list[AnswerFinding]:
    """:func:`check_section`'s problems, each with the name of the check that found it."""
    template = _Template.of(section)
    found: list[AnswerFinding] = []
    for path, value in iter_strings(data):
        leaf = leaf_key(path)
        is_code = top_key(path) in template.code or leaf in template.code
        prose = (
            not is_code and leaf not in _NON_PROSE_KEYS and leaf not in _CHOICE_KEYS and bool(value.strip())
        )
        found.extend(_value_findings(path, value, template, prose=prose, is_code=is_code, language=language))
        if prose and copies_example(value, examples or [], brief_terms):
            problem = f"{path}: {EXAMPLE_COPY}; write content for this feature"
            found.append(AnswerFinding("example-copy", problem))
    found.extend(AnswerFinding("repeated-items", p) for p in repeated_items(data))
    found.extend(
        AnswerFinding("same-value", p)
        for p in same_value_everywhere(data, _CHOICE_KEYS | _NON_PROSE_KEYS, asks=template.asks)
    )
    found.extend(AnswerFinding("smells", p) for p in requirement_smells(data, section, language))
    order = {check: index for index, check in enumerate(CHECKS)}
    return sorted(found, key=lambda finding: order[finding.check])


def _value_findings(
    path: str, value: str, template: _Template, *, prose: bool, is_code: bool, language: str = ENGLISH
) -> list[AnswerFinding]:
    """Problems of one string of the answer (all but the example copy, which needs the brief)."""
    leaf = leaf_key(path)
    leftover = None if is_code else _placeholder_in(value, leaf, template)
    found = _placeholder_findings(path, value, leftover, prose=prose)
    found += _copy_findings(
        path, value, leaf, template, prose=prose, pasted_too=not leftover, language=language
    )
    found += _form_findings(path, value, leaf, prose=prose, is_code=is_code)
    labels = template.labels | {normalise(leaf.replace("_", " "))}
    if prose and not found and _filler(_DECLINED.sub("", value), labels, language):
        declined = _declined_form(language)
        problem = (
            f"{path}: says nothing specific about the feature; name what it is or does for this feature, "
            f"or, if this feature does not need it, write '{declined}:' and the reason in a few words"
        )
        found.append(AnswerFinding("filler", problem))
    return found


def _declined_form(language: str) -> str:
    """How the spec's language declines a field ('Not needed', 'Nicht nötig'): what the filler re-ask asks."""
    return DECLINED.get(language, DECLINED[ENGLISH])[0]


def _placeholder_in(value: str, leaf: str, template: _Template) -> str | None:
    """Template placeholders and placeholder-shaped names; in prose any [bracketed words], as lint."""
    leftover = _leftover_placeholder(value, template.placeholders)
    if leftover is None and leaf not in _NON_PROSE_KEYS:
        leftover = bracketed_placeholder(_INLINE_CODE.sub("", value))
    return leftover


def _placeholder_findings(path: str, value: str, leftover: str | None, *, prose: bool) -> list[AnswerFinding]:
    """A placeholder left in the value, a TBD/TODO word, or a value opening like a placeholder."""
    if leftover:
        problem = f"{path}: contains a template placeholder {leftover!r}; write the real content"
    elif word := _LEFTOVER_WORDS.search(value):
        problem = f"{path}: contains {word.group(0)!r}; write the real content"
    elif prose and _starts_like_placeholder(value):
        # "[Unfinished detail about [the feature] ...": a placeholder the template never had
        problem = f"{path}: starts with '[' like a template placeholder; write the content itself"
    else:
        return []
    return [AnswerFinding("placeholder", problem)]


def _copy_findings(
    path: str, value: str, leaf: str, template: _Template, *, prose: bool, pasted_too: bool, language: str
) -> list[AnswerFinding]:
    """The template's instructions, text or field names, or the prompt's own words, as the value."""
    found: list[AnswerFinding] = []
    norm = normalise(value)
    if prose and norm and norm in template.instructions:
        problem = f"{path}: copies the template's instruction {value!r}; write content for this feature"
        found.append(AnswerFinding("template-copy", problem))
    elif prose and pasted_too and (pasted := pasted_text(value, template.descriptions)):
        # "how traffic is distributed; auto_scaling: How the system scales automatically": lint
        # reports template text left in a longer value, so validation must not let it pass
        # quoted as before for ASCII instructions (the re-asks the cassettes recorded), else as written
        shown = normalise(pasted) if pasted.isascii() else pasted.lower()
        problem = f"{path}: contains the template's text {shown!r}; write content for this feature"
        found.append(AnswerFinding("template-copy", problem))
    elif prose and pasted_too and (reworded := paraphrased_instruction(value, template.wordings, language)):
        problem = (
            f"{path}: only rewords the template's instruction {reworded!r}; write what it asks for this "
            "feature instead"
        )
        found.append(AnswerFinding("template-copy", problem))
    if prose and (echoed := prompt_words_in(value)):
        problem = f"{path}: repeats the prompt's words {echoed!r}; write only the content"
        found.append(AnswerFinding("prompt-copy", problem))
    if leaf not in _CHOICE_KEYS and leaf not in _NON_PROSE_KEYS and norm and norm in template.labels:
        # names and types ("method" as a request field's name) may rightly equal a label
        problem = f"{path}: {value!r} only repeats the field's name; write its content"
        found.append(AnswerFinding("template-copy", problem))
    return found


def _form_findings(path: str, value: str, leaf: str, *, prose: bool, is_code: bool) -> list[AnswerFinding]:
    """A looping phrase, an identifier where prose belongs, or markup, links and no words (junk)."""
    found: list[AnswerFinding] = []
    if phrase := looping_phrase(value, code=is_code):
        found.append(AnswerFinding("loop", f"{path}: the phrase {phrase!r} repeats; say it once"))
    if prose and _IDENTIFIER.match(value.strip()):
        problem = f"{path}: {value!r} is an identifier, not prose; write a plain sentence"
        found.append(AnswerFinding("identifier", problem))
    if prose and (junk := _junk(value, leaf)):
        found.append(AnswerFinding("junk", f"{path}: {junk}; write plain sentences"))
    return found


def _junk(value: str, leaf: str) -> str | None:
    """Why a prose value is not text: markup, only links, or no words (a bare date only where asked)."""
    if tag := _HTML.search(value):
        return f"contains HTML markup {tag.group(0)!r}"
    if _URL.search(value) and len(_URL.sub(" ", value).split()) < 2:
        return "is only a link"
    if not _ALNUM.search(value):
        return f"{value.strip()!r} has no words"
    if _TIMESTAMP.match(value) and "date" not in leaf:
        return f"{value.strip()!r} is a timestamp, not an answer"
    return None


def _wordings(fields: list[FieldSpec]) -> tuple[str, ...]:
    """The section's instructions as written, each cut before its example list ("z. B. React, Vue":
    naming one of those is a choice, not a copy); a description that only repeats its label is none."""
    texts = [
        spec.description for spec in fields if normalise(spec.description) != normalise(spec.label or "")
    ]
    texts += [example for spec in fields if spec.kind is FieldKind.bullets for example in spec.examples]
    cut = [EXAMPLE_LIST.split(text, maxsplit=1)[0] for text in texts]
    return tuple(dict.fromkeys(text.strip(" -;,") for text in cut if text.strip(" -;,")))


def _filler(value: str, labels: set[str], language: str = ENGLISH) -> bool:
    """A sentence (8+ words) whose words are all generic or filler, or the field's own name, but one.

    A number counts as one specific word: "with up to 1000 concurrent users" states a load even though
    "concurrent users" is the template's own unit label (measured: the 1.5B's load conditions). Words
    are read in the spec's language (its stems, its generic and filler words; CJK: character pairs).
    """
    if word_count(value, language) < FILLER_WORDS:
        return False
    named = {stem for label in labels for stem in content_stems(label, language)}
    words = [s for s in content_stems(value, language) if not s.isdigit()]
    specific = [s for s in said_stems(value, language) if not s.isdigit() and s not in named]
    specific += ["#"] if _NUMBER.search(value) else []
    return len(set(specific)) <= 1 and len(specific) * 5 < len(words)


def requirement_smells(data: dict[str, Any], section: TemplateSection, language: str = ENGLISH) -> list[str]:
    """Re-ask reasons for smelly numbered requirements (FR-001, QR-001, ...), as lint's smell rules say.

    Only the precise smells reject (``DRAFTING_SMELLS``: loopholes, open-ended lists, vague quantities,
    and weak modals in functional requirements): a weak model re-asked on a doubtful finding gets worse.
    """
    problems: list[str] = []
    for key, prefix in _numbered_keys(section).items():
        items = data.get(key)
        if not isinstance(items, list):
            continue
        rules = (
            DRAFTING_SMELLS
            if prefix.startswith("FR") or is_functional(prefix)
            else DRAFTING_SMELLS - {"smell-weak-modal"}
        )
        for index, item in enumerate(items):
            if isinstance(item, str):
                problems.extend(drafting_problems_in(item, f"{key}[{index}]", language, rules))
    return problems


def _numbered_keys(section: TemplateSection) -> dict[str, str]:
    """Data key -> ID prefix of every numbered requirement list of the section."""
    keys: dict[str, str] = {}
    for key, entry in section.shape:
        for spec in entry if isinstance(entry, list) else [entry]:
            if spec.kind is FieldKind.numbered:
                keys[key] = keys[spec.key] = spec.id_prefix or ""
    return keys


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
