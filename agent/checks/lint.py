"""Deterministic checks of a spec against its template: no model involved.

``lint_text(text)`` returns a list of Finding (rule id, severity, section, line, message), sorted by line;
``summary_line(findings)`` is the one line ``specdraft draft`` prints after writing a spec.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate, compress, repeat
from pathlib import Path
from typing import Literal, NamedTuple

from agent.context.chunking import Facts, table_name
from agent.context.known import known_facts
from agent.io.redact import find_secrets, known_secrets
from agent.io.sanitize import CONTROL_CHARS
from agent.specdoc.alternation import any_of
from agent.specdoc.document import (
    SpecDocument,
    load_spec,
    normalise_heading,
    parse_spec,
    split_lines,
)
from agent.specdoc.grounding import BriefFacts, off_topic, reference_terms, word_count
from agent.specdoc.language import spec_language
from agent.specdoc.lifecycle import STATUSES
from agent.specdoc.placeholders import BRACKET as _BRACKET
from agent.specdoc.placeholders import EXAMPLE_LIST, is_placeholder, pasted_text, pasted_text_clues
from agent.specdoc.requirements import REQUIREMENT, is_functional, is_non_functional
from agent.specdoc.smell_lexicons import detect_in
from agent.specdoc.smells import SMELLS
from agent.specdoc.template_resolver import TemplateOutline, spec_outline
from agent.specdoc.trace import trace_document

Severity = Literal["error", "warning"]

#: every rule: id -> (severity, what it checks); docs/signoff.md lists the same rules.
RULES: dict[str, tuple[Severity, str]] = {
    "section-missing": ("error", "a ## or ### section of the template is absent"),
    "section-order": ("error", "template sections appear out of the template's order"),
    "section-duplicate": ("error", "the same ## section appears twice"),
    "section-extra": ("warning", "a ## section the template does not have"),
    "section-empty": ("error", "a section or subsection with no content"),
    "placeholder": (
        "error",
        "template text left unfilled: [...], TBD, TODO, FIXME, an 'e.g.' ('z. B.', 'p. ej.') example list",
    ),
    "example-left": ("warning", "'e.g.' ('z. B.', 'p. ej.') in the text (often left from the template)"),
    "needs-attention": ("error", "a [NEEDS ATTENTION: ...] marker: a section the model could not fill"),
    "needs-clarification": ("warning", "a [NEEDS CLARIFICATION: ...] marker: an open question"),
    "req-id-duplicate": ("error", "a requirement ID (FR-001, NFR-002, ...) defined twice"),
    "req-id-sequence": ("warning", "requirement IDs of one prefix not numbered 001, 002, ... in order"),
    "nfr-not-measurable": (
        "error",
        "a non-functional requirement without a number and unit, percentile or ratio",
    ),
    **{rule: ("warning", what) for rule, (what, _fix) in SMELLS.items()},
    "endpoint-invalid": ("error", "an endpoint line without a valid HTTP method and a path starting with /"),
    "endpoint-duplicate": ("error", "the same method and path listed twice"),
    "endpoint-conflict": (
        "error",
        "an endpoint marked (new) that already exists in the spec's --context files",
    ),
    "table-unknown": (
        "warning",
        "a table the spec alters or references that its --context files do not have and it does not create",
    ),
    "fr-untraced": ("warning", "a functional requirement no test, success criterion or task refers to"),
    "status-missing": ("error", "no status in the front matter or no **Status**: line in the footer"),
    "status-invalid": ("error", "a status other than DRAFT, REVIEW or APPROVED"),
    "status-mismatch": ("error", "front matter status and footer **Status**: line disagree"),
    "title-missing": ("warning", "no '# ' title line"),
    "structure-unexpected": (
        "error",
        "structure no template has: a setext heading (a line under '===' or '---'), an empty '#' heading, "
        "a second '# ' title, a thematic break spelled '- - -', '***' or '___'",
    ),
    "control-character": ("error", "an invisible control character: ESC, BEL, a bidi override (U+202E), ..."),
    "secret-like": (
        "warning",
        "text shaped like an API key, token or private key (sk-..., AKIA..., Bearer ...)",
    ),
    "off-topic": (
        "warning",
        "a sentence of the first section or a functional requirement that is not about the brief",
    ),
    "brief-uncovered": (
        "warning",
        "brief facts (numbers with units, technologies, title terms) never mentioned",
    ),
}


#: how to fix what each rule reports (the smells' fixes come from ``SMELLS``); the review page shows it
FIXES: dict[str, str] = {
    "section-missing": "add the section under the heading the template uses",
    "section-order": "move the section to where the template has it",
    "section-duplicate": "merge the two sections into one",
    "section-extra": "move its content into a template section, or keep it if it is meant",
    "section-empty": "write the section's content, or mark it [NEEDS CLARIFICATION: what is unknown]",
    "placeholder": "replace the template text with the spec's own",
    "example-left": "replace the example with the spec's own values, or remove 'e.g.'",
    "needs-attention": "write the section (the model could not), e.g. `specdraft refine SPEC -m ...`",
    "needs-clarification": "answer the question in the text and remove the marker",
    "req-id-duplicate": "give one of the two requirements the next free ID",
    "req-id-sequence": "renumber the requirements 001, 002, ... in order",
    "nfr-not-measurable": "give a metric, a comparator, a number and a unit (p95 latency < 300 ms)",
    **{rule: fix for rule, (_what, fix) in SMELLS.items()},
    "endpoint-invalid": "write it as METHOD /path (GET /invitations)",
    "endpoint-duplicate": "list each method and path once",
    "endpoint-conflict": "mark it (changed), or choose a path the repository does not have",
    "table-unknown": "create the table in the spec, or name a table the repository has",
    "fr-untraced": "refer to the requirement's ID from a test, a success criterion or a task",
    "status-missing": "set 'status: DRAFT' in the front matter and the footer's **Status**: line",
    "status-invalid": "use DRAFT, REVIEW or APPROVED",
    "status-mismatch": "make the front matter and the footer say the same status",
    "title-missing": "add a '# ' title line above the first section",
    "structure-unexpected": "use '## '/'### ' headings and '---' rules as the template does",
    "control-character": "delete the invisible character",
    "secret-like": "remove the secret from the spec (and rotate it if it is real)",
    "off-topic": "rewrite the sentence about the brief's subject, or remove it",
    "brief-uncovered": "mention the brief's facts the spec leaves out",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    section: str
    line: int
    message: str

    def to_dict(self) -> dict[str, str | int]:
        # what dataclasses.asdict gives (its fields in order), without its deep copy: lint DIR --json
        # converts every finding of every spec
        return {
            "rule": self.rule,
            "severity": self.severity,
            "section": self.section,
            "line": self.line,
            "message": self.message,
        }

    @property
    def fix(self) -> str:
        return FIXES.get(self.rule, "")


def finding(rule: str, section: str, line: int, message: str) -> Finding:
    return Finding(rule, RULES[rule][0], section, line, message)


# -- entry points -----------------------------------------------------------------------------------


def lint_text(
    text: str,
    outline: TemplateOutline | None = None,
    *,
    source: str = "spec",
    brief: BriefFacts | None = None,
) -> list[Finding]:
    """Lint a spec's text. ``outline`` defaults to the template its front matter names, else tech-spec.

    Raises InputError when the text is not a spec (no ``##`` sections) or its front matter is malformed.
    """
    doc = parse_spec(text, source=source)
    if outline is None:
        outline = spec_outline(None, doc, None)
    return lint_document(doc, outline, brief=brief)


def lint_path(
    path: str | Path, template: str | None = None
) -> tuple[SpecDocument, TemplateOutline, list[Finding]]:
    """Load a spec file and lint it against ``template`` (name or path), or the one it names."""
    doc = load_spec(path)
    outline = spec_outline(template, doc, Path(path))
    return doc, outline, lint_document(doc, outline, base=Path(path).parent)


def lint_document(
    doc: SpecDocument,
    outline: TemplateOutline,
    *,
    brief: BriefFacts | None = None,
    base: Path | None = None,
) -> list[Finding]:
    """All findings; with ``brief`` (the spec's brief's facts) also ``off-topic`` and ``brief-uncovered``;
    ``base``, the spec's directory, lets the context rules read the files its provenance lists."""
    lines = _Lines(doc)
    found: list[Finding] = []
    found += _check_sections(doc, outline)
    found += _check_placeholders(lines, outline)
    found += _check_requirements(lines)
    endpoints: list[tuple[str, str, _Line]] = []
    found += _check_endpoints(lines, endpoints)
    facts = known_facts(doc.front_matter, base) if base is not None else None
    if facts is not None:
        found += _check_context(lines, endpoints, facts)
    found += _check_front_matter(doc)
    found += _check_status(doc)
    found += _check_structure(lines)
    found += _check_characters(lines)
    if doc.title is None:
        found.append(finding("title-missing", "", 1, "The spec has no '# ' title line."))
    if brief is not None:
        found += _check_grounding(lines, outline, brief)
    return sorted(found, key=lambda f: (f.line, f.rule))


def count_errors(findings: list[Finding]) -> tuple[int, int]:
    errors = sum(1 for f in findings if f.severity == "error")
    return errors, len(findings) - errors


def failed(findings: list[Finding], *, strict: bool = False) -> bool:
    errors, warnings = count_errors(findings)
    return errors > 0 or (strict and warnings > 0)


def summary_line(findings: list[Finding]) -> str:
    """One line for a terminal, e.g. ``lint: 2 errors, 1 warning (1 NEEDS CLARIFICATION)``.

    ``specdraft draft`` prints it after writing a spec: ``summary_line(lint_text(text))``.
    """
    errors, warnings = count_errors(findings)
    if not findings:
        return "lint: clean (0 errors, 0 warnings)"
    text = f"lint: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    markers = [
        f"{n} {label}"
        for rule, label in (
            ("needs-attention", "NEEDS ATTENTION"),
            ("needs-clarification", "NEEDS CLARIFICATION"),
        )
        if (n := sum(1 for f in findings if f.rule == rule))
    ]
    if markers:
        text += f" ({', '.join(markers)})"
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- line index -------------------------------------------------------------------------------------


class _Line(NamedTuple):  # a tuple: a spec has hundreds of lines and lint builds one per line
    number: int
    text: str
    fenced: bool
    section: str
    subsection: str
    where: str  # "Section / Subsection" (or the section alone), as findings name the place


#: builds a _Line without the Python-level __new__ a NamedTuple has (half the cost, once per line)
_new_line = tuple.__new__


class _Lines:
    """Every body line with its number, whether it is in a code fence, and its section/subsection."""

    def __init__(self, doc: SpecDocument) -> None:
        self.doc = doc
        fenced, sections = doc.body_fenced, doc.body_line_sections
        count = len(fenced)
        texts = doc.body.split("\n")[:count]  # each line without its line end
        # The subsection a line is under, and its place name ("Section / Subsection"), by runs: from a
        # '### ' heading to the next one or the end of its section. The tuples are then built in C.
        subs, wheres = [""] * count, list(sections)
        heads = [
            n
            for n, text in enumerate(texts)
            if "### " in text and not fenced[n] and text.lstrip().startswith("### ")
        ]
        changes = [n for n in range(1, count) if sections[n] != sections[n - 1]]  # where a section starts
        for k, n in enumerate(heads):
            sub = texts[n].lstrip()[4:].strip()
            if not sub:
                continue  # an empty '### ' ends the previous subsection: the defaults stand
            later = bisect.bisect_right(changes, n)
            end = min(
                heads[k + 1] if k + 1 < len(heads) else count,
                changes[later] if later < len(changes) else count,
            )
            subs[n:end] = [sub] * (end - n)
            wheres[n:end] = [f"{sections[n]} / {sub}"] * (end - n)
        first = doc.front_matter_text.count("\n") + 1
        rows = zip(range(first, first + count), texts, fenced, sections, subs, wheres, strict=True)
        items: list[_Line] = list(map(_new_line, repeat(_Line), rows))
        self.items = items
        self.language = spec_language(doc.front_matter, doc.body)  # read once: two rule groups ask
        #: each line's match of the requirement expression, read by the requirement and grounding rules
        #: (and trace, for fr-untraced)
        self.requirements: list[re.Match[str] | None] = doc.body_requirements
        #: the lines joined (the body without its last line end), and where each line ends in it: the
        #: placeholder rules search the whole text once and count their matches to their lines
        self.joined = "\n".join(texts)
        self.ends = _line_ends(texts)


# -- sections ---------------------------------------------------------------------------------------

_HEADING_PLACEHOLDER = re.compile(r"\[[^\]]+\]")
_SUBHEADINGS = re.compile(r" {0,3}#{2,3}\s")  # matched at a line's start
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*$")


@functools.lru_cache(maxsize=4096)
def _heading_matcher(title: str) -> re.Pattern[str]:
    """A template heading with ``[placeholders]`` matches any text in their place."""
    parts = _HEADING_PLACEHOLDER.split(normalise_heading(title))
    return re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$")


def _match_in_order(
    wanted: list[str], present: list[str], *, section: str, lines: list[int], end_line: int, prefix: str
) -> list[Finding]:
    """Missing and out-of-order headings of ``wanted`` among ``present`` (both in document order).

    The longest run of template headings already in order stands; each heading outside it is reported
    once, so one moved section gives one finding.
    """
    found: list[Finding] = []
    missing, misplaced = _alignment(tuple(wanted), tuple(present))
    for title, after in missing:
        line = lines[after] if after is not None else end_line
        message = f"Template section '{prefix}{title}' is missing."
        found.append(finding("section-missing", section or title, line, message))
    for title, index, previous, following in misplaced:
        where = (
            f"should come after '{prefix}{previous}'"
            if previous is not None
            else f"should come before '{prefix}{following}'"
        )
        found.append(
            finding(
                "section-order",
                section or title,
                lines[index],
                f"'{prefix}{title}' {where} (template order).",
            )
        )
    return found


@functools.lru_cache(maxsize=1024)
def _alignment(
    wanted: tuple[str, ...], present: tuple[str, ...]
) -> tuple[tuple[tuple[str, int | None], ...], tuple[tuple[str, int, str | None, str | None], ...]]:
    """How the headings ``present`` line up with the template's ``wanted`` ones: each missing title with
    the index of the first heading after it (None: the end), and each heading out of order with its
    index and the in-order titles before and after it. Specs drafted from one template share their
    headings, so this is worked out once for all of them."""
    used: set[int] = set()
    matched: list[tuple[str, int]] = []  # (template title, index in present), in template order
    missing: list[tuple[str, int | None]] = []
    keys = [normalise_heading(p) for p in present]
    for title in wanted:
        pattern = _heading_matcher(title)
        index = next((i for i, key in enumerate(keys) if i not in used and pattern.match(key)), None)
        if index is None:
            before = [i for _, i in matched]
            after = [i for i in range(max(before, default=-1) + 1, len(present)) if i not in used]
            missing.append((title, after[0] if after else None))
            continue
        used.add(index)
        matched.append((title, index))
    keep = _longest_increasing([i for _, i in matched])
    misplaced: list[tuple[str, int, str | None, str | None]] = []
    for n, (title, index) in enumerate(matched):
        if n in keep:
            continue
        previous = next((matched[k][0] for k in range(n - 1, -1, -1) if k in keep), None)
        following = next((matched[k][0] for k in range(n + 1, len(matched)) if k in keep), None)
        misplaced.append((title, index, previous, following))
    return tuple(missing), tuple(misplaced)


def _longest_increasing(values: list[int]) -> set[int]:
    """Positions of one longest strictly increasing subsequence of ``values`` (O(n^2), n is small)."""
    if not values:
        return set()
    best = [1] * len(values)
    back = [-1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i] and best[j] + 1 > best[i]:
                best[i], back[i] = best[j] + 1, j
    i = max(range(len(values)), key=lambda k: best[k])
    keep: set[int] = set()
    while i != -1:
        keep.add(i)
        i = back[i]
    return keep


@functools.lru_cache(maxsize=1024)
def _template_section(
    sections: tuple[tuple[str, tuple[str, ...]], ...], key: str
) -> tuple[str, tuple[str, ...]] | None:
    """The template section (title, subsection titles) a spec heading (normalised) stands for, if any."""
    return next((section for section in sections if _heading_matcher(section[0]).match(key)), None)


def _check_sections(doc: SpecDocument, outline: TemplateOutline) -> list[Finding]:
    titles = [s.title for s in doc.sections]
    starts = [s.start_line for s in doc.sections]
    end = doc.footer.start_line if doc.footer else doc.sections[-1].end_line
    found = _match_in_order(
        [t for t, _ in outline.sections], titles, section="", lines=starts, end_line=end, prefix="## "
    )
    offset = doc.front_matter_text.count("\n")
    seen: set[str] = set()
    for section in doc.sections:
        key = normalise_heading(section.title)
        if key in seen:
            found.append(
                finding(
                    "section-duplicate",
                    section.title,
                    section.start_line,
                    f"'## {section.title}' appears twice.",
                )
            )
        seen.add(key)
        match = _template_section(outline.sections, key)
        if match is None:
            found.append(
                finding(
                    "section-extra",
                    section.title,
                    section.start_line,
                    f"'## {section.title}' is not a section of template '{outline.name}'.",
                )
            )
        else:
            found += _match_in_order(
                list(match[1]),
                [s.title for s in section.subsections],
                section=section.title,
                lines=[s.line for s in section.subsections],
                end_line=section.end_line,
                prefix="### ",
            )
        # the section's lines and fences as the whole body has them: a section starts outside any fence
        first = section.start_line - 1 - offset
        last = first + section.text.count("\n") + (0 if section.text.endswith("\n") else 1)
        if "[NEEDS ATTENTION" in section.text:
            continue  # the marker is the finding; its empty subsections follow from it
        rows = doc.body_heading_rows
        candidates = rows[bisect.bisect_left(rows, first) : bisect.bisect_left(rows, last)]
        found += _check_empty(
            section.title, section.start_line, doc.body_lines[first:last], [i - first for i in candidates]
        )
    return found


def _check_empty(section: str, start: int, lines: list[str], candidates: list[int]) -> list[Finding]:
    """A heading followed only by blank lines (or directly by a deeper/sibling heading) is empty.
    ``candidates``: the section's lines that can be headings (outside code, '#' first), in order."""
    found: list[Finding] = []
    heads = [i for i in candidates if _SUBHEADINGS.match(lines[i])]
    for n, i in enumerate(heads):
        stop = heads[n + 1] if n + 1 < len(heads) else len(lines)
        body = "".join(lines[i + 1 : stop]).strip()
        is_h2 = lines[i].lstrip().startswith("## ")
        if is_h2 and n + 1 < len(heads) and not body:
            continue  # a ## followed by its ### subsections is fine
        if not body:
            title = lines[i].strip().lstrip("#").strip()
            found.append(finding("section-empty", section, start + i, f"'{title}' has no content."))
    return found


# -- placeholders and markers -----------------------------------------------------------------------

#: (never across a line end: the bare lines are worked out on the whole text at once)
_MARKER = re.compile(r"\[NEEDS (CLARIFICATION|ATTENTION)\b:?[^\S\n]*([^\]\n]*)\]")
_TODO = re.compile(r"\b(TBD|TBA|TODO|FIXME)\b")


@functools.lru_cache(maxsize=64)
def _leftover_keys(placeholders: frozenset[str]) -> tuple[tuple[str, str, frozenset[str]], ...]:
    """A template's instructions long enough to report when left in a spec, longest first (ties in
    text order), each with its lower-case form and its inner words (whitespace on both sides): worked
    out once per template, not once per spec."""
    long_enough = sorted((p for p in placeholders if len(p) >= 12), key=lambda p: (-len(p), p))
    return tuple((p, p.lower(), frozenset(p.lower().split()[1:-1])) for p in long_enough)


def _placeholder_candidates(
    lines: _Lines, bares: list[str], everything: str, leftovers: list[str]
) -> list[int]:
    """The lines the placeholder rules can find something on, in order; the others are not visited.

    ``bares``: each line without its brackets and markers ("" in code); ``everything``: them joined in
    lower case. A marker, bracket or TODO needs its characters; an example list needs "e.g.", "z." or
    "p." (case ignored: no other letter folds onto these); a pasted leftover needs one of its clues in
    an ASCII line (any other line is looked at). Each is looked for in the joined text at once, and its
    matches counted to their lines.
    """
    visit = _lines_matching(_MARKED, lines.joined, lines.ends)
    lowered_ends = _line_ends(everything.split("\n"))  # lower-casing adds no line break: aligned
    visit |= _lines_matching(_EXAMPLE_START, everything, lowered_ends)
    if leftovers:
        clues = pasted_text_clues(leftovers)
        if clues is None:
            visit.update(n for n, bare in enumerate(bares) if bare)
        else:
            if not everything.isascii():
                visit.update(n for n, bare in enumerate(bares) if not bare.isascii())
            visit |= _lines_matching(any_of(clues), everything, lowered_ends)
    return sorted(visit)


#: what a marker, a bracket or a TODO word needs on its line (in their case)
_MARKED = re.compile(r"\[|TB|TODO|FIXME")
#: how every example list starts, in lower case ("e.g.", "z. B.", "p. ej.", "p. ex.")
_EXAMPLE_START = re.compile(r"e\.g\.|z\.|p\.")


def _line_ends(lines: Iterable[str]) -> list[int]:
    """The offset of the line break after each line in the lines joined with line breaks (each line and
    its break added up from -1, all in C)."""
    return list(accumulate(map((1).__add__, map(len, lines)), initial=-1))[1:]


def _lines_matching(pattern: re.Pattern[str], joined: str, ends: list[int]) -> set[int]:
    """The lines (by index) on which ``pattern`` matches in ``joined`` (no match starts at a line break)."""
    return {bisect.bisect_right(ends, match.start()) for match in pattern.finditer(joined)}


def _bare_lines(lines: _Lines) -> list[str]:
    """Each line without its brackets and markers ("" in code). Neither spans a line end: the whole
    text is read at once."""
    joined = lines.joined
    bares = (_MARKER.sub("", _BRACKET.sub("", joined)) if "[" in joined else joined).split("\n")
    for n in compress(range(len(bares)), lines.doc.body_fenced):
        bares[n] = ""
    return bares


def _check_placeholders(lines: _Lines, outline: TemplateOutline) -> list[Finding]:
    found: list[Finding] = []
    # A leftover never spans lines: look for each in the whole text once, then only for those present.
    # each expression below needs a character it looks for first ('[', '.', an upper-case word): a line
    # without it is not searched at all (most lines of a spec)
    bares = _bare_lines(lines)
    everything = "\n".join(bares).lower()  # lower-cased once, not once per leftover
    # an inner word of a leftover has whitespace on both sides in the text too, so it is one of its words:
    # most leftovers are ruled out without a search of the text
    words = frozenset(everything.split())
    leftovers = [
        text_left
        for text_left, lower, inner in _leftover_keys(outline.placeholders)
        if inner <= words and lower in everything
    ]
    items = lines.items
    for n in _placeholder_candidates(lines, bares, everything, leftovers):
        line, bare = items[n], bares[n]
        text = line.text
        where = line.where
        bracketed = "[" in text
        for marker in _MARKER.finditer(text) if bracketed else ():
            kind = marker.group(1)
            rule = "needs-attention" if kind == "ATTENTION" else "needs-clarification"
            reason = marker.group(2).strip() or "(no reason given)"
            found.append(finding(rule, where, line.number, f"[NEEDS {kind}]: {reason}"))
        for match in _BRACKET.finditer(text) if bracketed else ():
            if is_placeholder(text, match, fenced=line.fenced):
                found.append(
                    finding(
                        "placeholder",
                        where,
                        line.number,
                        f"Unfilled template placeholder '{match.group(0)}'.",
                    )
                )
        todo = "TB" in text or "TODO" in text or "FIXME" in text  # _TODO's words, in its case
        for match in _TODO.finditer(text) if todo else ():
            found.append(finding("placeholder", where, line.number, f"'{match.group(1)}' left in the text."))
        reported = False
        if not line.fenced:
            eg = EXAMPLE_LIST.search(bare) if "." in bare else None  # every form has a dot
            if eg:
                reported = True
                if eg.group(1).count(",") >= 2:
                    found.append(
                        finding(
                            "placeholder",
                            where,
                            line.number,
                            f"Template example list left in: '{_clip(eg.group(0))}'; choose one.",
                        )
                    )
                else:
                    found.append(finding("example-left", where, line.number, f"'{_clip(eg.group(0))}'."))
            # the template's text as a clause of its own; its words in a sentence are the author's
            if not reported and leftovers and (text_left := pasted_text(bare, leftovers)):
                found.append(
                    finding(
                        "placeholder", where, line.number, f"Template text left unchanged: '{text_left}'."
                    )
                )
    return found


def _clip(text: str, width: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= width else text[: width - 3] + "..."


# -- requirements -----------------------------------------------------------------------------------

_REQ = REQUIREMENT
_UNITS = (
    r"ms|msec|milliseconds?|µs|us|microseconds?|ns|s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|days?|weeks?|"
    r"months?|years?|[kKMGTP]i?B|bytes?|kb|mb|gb|tb|bps|[kKMG]bps|rps|qps|tps|rpm|req/s|requests?|reqs?|"
    r"users?|connections?|sessions?|clients?|tenants?|workspaces?|accounts?|invites?|invitations?|items?|"
    r"records?|rows?|events?|messages?|emails?|mails?|calls?|transactions?|ops|operations?|jobs?|tasks?|"
    r"instances?|nodes?|replicas?|pods?|cores?|v?CPUs?|threads?|retries|attempts?|times|x|errors?|failures?|"
    r"files?|pages?|characters?|chars?|tokens?|lines?|points?|pts|px|dpi|fps|Hz|kHz|MHz|GHz|W|kW|regions?|zones?|"
    r"concurrent|simultaneous|per|nines|decimal|digits?|bits?|hits?|queries|query|writes?|reads?|uploads?|"
    r"downloads?|steps?|clicks?|levels?|versions?|releases?|sprints?"
    # the same units in the other template languages (German, Spanish, French)
    r"|Sekunden?|Minuten?|Stunden?|Tagen?|Wochen?|Monaten?|Jahren?|Benutzern?|Nutzern?|Anfragen|Verbindungen"
    r"|gleichzeitige|Versuchen?|segundos?|minutos?|horas?|días|semanas?|meses|años?|usuarios?|peticiones"
    r"|solicitudes|conexiones|simultáneos|intentos?|secondes?|heures?|jours?|semaines?|mois|ans"
    r"|utilisateurs?|requêtes|connexions|simultanés|tentatives?|Bits?|Einladungen|invitaciones|Arbeitsbereiche"
)
_MEASURABLE = re.compile(
    r"(\bp\d{2}(\.\d+)?\b|\d+(st|nd|rd|th)\s+percentile|percentile"
    r"|\d(\.\d+)?\s?%"
    r"|\b\d+(\.\d+)?\s?(:|/)\s?\d+(\.\d+)?\b|\b\d+\s+in\s+\d[\d,]*\b"
    rf"|\d[\d,]*(\.\d+)?\s?[kKMG]?\s?(-\s?)?({_UNITS})\b)",
)
# list items of these sections are requirements too (any template): smell rules run on them
_REQUIREMENT_SECTIONS = re.compile(
    r"requirement|performance|success|scalab|constraint|acceptance|user stor|\bshall\b|\bmust\b"
    # the same titles in the other template languages (agent.specdoc.language)
    r"|anforderung|leistung|erfolg|skalier|abnahme|requisito|rendimiento|éxito|escalab|aceptación"
    r"|exigence|performance|réussite|critère|需求|要求|性能|成功|要件",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(
    r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?(?:\*\*(?P<label>[^*]{1,60})\*\*:?\s*)?(?P<text>.*)$"
)
_LOOSE_ID = re.compile(r"^(?:[A-Z][A-Z0-9]{0,5}-\d{1,5}|[A-Z]{1,4}\d{1,4}(?:\.\d+)*)\b[:.)]?\s*")
#: what a ``_LOOSE_ID`` needs: a digit after a letter, or after a letter or digit and a dash (digit first:
#: ``re`` skips to the next digit at once)
_LOOSE_ID_CLUE = re.compile(r"\d(?:(?<=[A-Z0-9]-\d)|(?<=[A-Z]\d))")
_REF_RANGE = re.compile(r"\b([A-Z][A-Z0-9]{0,5})-(\d{1,5})\s*(?:\.\.|–|—|-|to|through)\s*(?:\1-)?(\d{1,5})\b")
_REF = re.compile(r"\b([A-Z][A-Z0-9]{0,5})-(\d{1,5})\b")


def _check_requirements(lines: _Lines) -> list[Finding]:
    found: list[Finding] = []
    language = lines.language
    defined: dict[str, int] = {}
    last: dict[str, int] = {}
    functional: list[tuple[str, _Line]] = []
    for line, match in zip(lines.items, lines.requirements, strict=True):
        if line.fenced:
            continue
        where = line.where
        if match is None:
            first = line.text.lstrip()[:1]
            # a list item outside a requirements section is a requirement only with an ID
            if (first in ("-", "*", "+") or first.isdecimal()) and (  # _LIST_ITEM's starts (any Nd digit)
                _in_requirement_section(line) or _LOOSE_ID_CLUE.search(line.text)
            ):
                found += _smells_of_item(line, where, language)
            continue
        prefix, num, text = match.group("prefix"), int(match.group("num")), match.group("text")
        rid = f"{prefix}-{match.group('num')}"
        if rid in defined:
            found.append(
                finding(
                    "req-id-duplicate",
                    where,
                    line.number,
                    f"{rid} is defined twice (first on line {defined[rid]}).",
                )
            )
        else:
            defined[rid] = line.number
            expected = last.get(prefix, 0) + 1
            if num != expected:
                found.append(
                    finding(
                        "req-id-sequence",
                        where,
                        line.number,
                        f"{rid} follows {prefix}-{last[prefix]:03d}; expected {prefix}-{expected:03d}."
                        if prefix in last
                        else f"{rid} is the first {prefix} requirement; expected {prefix}-001.",
                    )
                )
            last[prefix] = max(num, last.get(prefix, 0))
        if is_non_functional(prefix) and not _MEASURABLE.search(text):
            found.append(
                finding(
                    "nfr-not-measurable",
                    where,
                    line.number,
                    f"{rid} has no measurable target (a number with a unit, a percentile or a ratio): "
                    f"'{_clip(text)}'.",
                )
            )
        found += _smells(line, where, rid, text, language)
        if is_functional(prefix) and defined[rid] == line.number:
            functional.append((rid, line))
    found += _check_traceability(lines, functional)
    return found


def _smells_of_item(line: _Line, where: str, language: str) -> list[Finding]:
    """Smells of a list item that is a requirement: in a requirements-like section, or with an ID."""
    item = _LIST_ITEM.match(line.text)
    if item is None:
        return []
    text = item.group("text")
    loose = _LOOSE_ID.match(text)
    if loose:
        return _smells(line, where, loose.group(0).strip().rstrip(":.)"), text[loose.end() :], language)
    if not _in_requirement_section(line):
        return []
    return _smells(line, where, None, text, language)


def _in_requirement_section(line: _Line) -> bool:
    return _is_requirement_section(line.section) or _is_requirement_section(line.subsection)


@functools.lru_cache(maxsize=1024)
def _is_requirement_section(title: str) -> bool:
    """A (sub)section whose list items are requirements; asked for every list item, of few titles."""
    return _REQUIREMENT_SECTIONS.search(title) is not None


def _smells(line: _Line, where: str, rid: str | None, text: str, language: str) -> list[Finding]:
    subject = rid or "This item"
    return [
        finding(smell.rule, where, line.number, f"{subject}: {smell.message}.")
        for smell in detect_in(text, language)
    ]


def _check_traceability(lines: _Lines, functional: list[tuple[str, _Line]]) -> list[Finding]:
    """FRs the trace matrix (``specdraft trace``) finds no test, task, criterion or endpoint for."""
    uncovered = {r.id for r in trace_document(lines.doc).uncovered}
    return [
        finding(
            "fr-untraced",
            line.where,
            line.number,
            f"{rid} is not referenced by any test, success criterion or task.",
        )
        for rid, line in functional
        if rid in uncovered
    ]


# -- endpoints --------------------------------------------------------------------------------------

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_PATH = re.compile(r"^/[A-Za-z0-9._~%!$&'()*+,;=:@/{}\-]*$")
_METHODISH = re.compile(r"^\s*([A-Za-z]+)\s+/")


def _check_endpoints(lines: _Lines, endpoints: list[tuple[str, str, _Line]] | None = None) -> list[Finding]:
    """Endpoint lines; each valid one is also appended to ``endpoints`` as (key, marker, line)."""
    found: list[Finding] = []
    blocks: list[list[_Line]] = []
    current: list[_Line] | None = None
    for line in lines.items:
        if line.fenced:
            if current is None:
                current = []  # the opening fence line
            elif _FENCE_LINE.match(line.text):
                blocks.append(current)
                current = None
            else:
                current.append(line)
        elif current is not None:
            blocks.append(current)
            current = None
    seen: dict[str, int] = {}
    for block in blocks:
        in_endpoints = bool(block) and "endpoint" in block[0].subsection.lower()
        starts_with_method = any(
            (m := _METHODISH.match(b.text)) and m.group(1).upper() in METHODS for b in block if b.text.strip()
        )
        if not (in_endpoints or starts_with_method):
            continue
        for line in block:
            code = line.text.split("#", 1)[0].strip()
            if not code:
                continue
            where = line.where
            parts = code.split()
            if any(is_placeholder(code, m, fenced=True) for m in _BRACKET.finditer(code)):
                continue  # reported as a placeholder already
            method, path = parts[0], parts[1] if len(parts) > 1 else ""
            problem = None
            if method not in METHODS:
                problem = f"'{method}' is not an HTTP method ({', '.join(METHODS)})"
            elif len(parts) != 2 or not _PATH.match(path):
                problem = f"'{' '.join(parts[1:]) or '(nothing)'}' is not a path starting with '/'"
            if problem:
                found.append(finding("endpoint-invalid", where, line.number, f"{problem}: '{_clip(code)}'."))
                continue
            key = f"{method} {_canonical_path(path)}"
            if endpoints is not None:
                comment = line.text.split("#", 1)[1] if "#" in line.text else ""
                marker = re.match(r"\s*\((new|changed)\)", comment)
                endpoints.append((key, marker.group(1) if marker else "", line))
            if key in seen:
                found.append(
                    finding(
                        "endpoint-duplicate",
                        where,
                        line.number,
                        f"{method} {path} is listed twice (first on line {seen[key]}).",
                    )
                )
            else:
                seen[key] = line.number
    return found


_ALTERED = re.compile(r"\b(?:alter\s+table|references)\s+([\w.\"`]+)", re.IGNORECASE)
_CREATED = re.compile(
    r"(?:\*\*Table Name\*\*:\s*|\bcreate\s+table\s+(?:if\s+not\s+exists\s+)?)`?([\w.\"]+)", re.IGNORECASE
)


def _check_context(lines: _Lines, endpoints: list[tuple[str, str, _Line]], facts: Facts) -> list[Finding]:
    found: list[Finding] = []
    existing = {f"{e.split(' ', 1)[0]} {_canonical_path(e.split(' ', 1)[1])}" for e in facts.endpoints}
    for key, marker, line in endpoints:
        if marker == "new" and key in existing:
            found.append(
                finding(
                    "endpoint-conflict",
                    line.where,
                    line.number,
                    f"{key} is marked new but already exists in the context; mark it (changed) or rename it.",
                )
            )
    created = {table_name(m.group(1)) for line in lines.items for m in _CREATED.finditer(line.text)}
    for line in lines.items:
        for match in _ALTERED.finditer(line.text):
            name = table_name(match.group(1))
            if name and name not in facts.tables and name not in created:
                found.append(
                    finding(
                        "table-unknown",
                        line.where,
                        line.number,
                        f"Table '{name}' is altered or referenced; neither the context nor the spec has it.",
                    )
                )
    return found


def _canonical_path(path: str) -> str:
    path = re.sub(r"\{[^}/]*\}|:[A-Za-z_][A-Za-z0-9_]*|<[^>/]*>", "{}", path)
    return path.rstrip("/") or "/"


# -- front matter ------------------------------------------------------------------------------------


def _check_front_matter(doc: SpecDocument) -> list[Finding]:
    """Template values left in the front matter: ``[FEATURE_NAME]`` or ``[low|medium|high]`` (a list)."""
    found: list[Finding] = []
    lines = split_lines(doc.front_matter_text)
    for key, value in doc.front_matter.items():
        if key in ("specdraft", "approvals"):
            continue
        shown = None
        if isinstance(value, str) and any(
            is_placeholder(value, m, fenced=False) for m in _BRACKET.finditer(value)
        ):
            shown = value
        elif isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) and "|" in value[0]:
            shown = f"[{value[0]}]"
        if shown is not None:
            line = next((n + 1 for n, text in enumerate(lines) if text.startswith(f"{key}:")), 1)
            found.append(
                finding(
                    "placeholder",
                    "front matter",
                    line,
                    f"Front matter '{key}' is still a placeholder: '{shown}'.",
                )
            )
    return found


# -- structure, characters, secrets -----------------------------------------------------------------

_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_ODD_BREAK = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|-[ \t]+-[ \t]*(?:-[ \t]*)+)$")
_EMPTY_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]*$")
_H1 = re.compile(r"^ {0,3}#(?:[ \t]|$)")
_LIST_OR_HEADING = re.compile(r"^ {0,3}([-*+]\s|\d+[.)]\s|#|>|\||```|~~~)")


_STRUCTURE_STARTS = frozenset("#*_-=")
#: what a thematic break or a setext underline is made of
_RULE_CHARACTERS = " \t*_-="


def _structure_candidates(items: list[_Line]) -> list[int]:
    """The lines outside code that ``_check_structure``'s expressions can match: each needs a '#' after
    the indentation, or a line of only ``_RULE_CHARACTERS`` (a list item, "- text", is not looked at)."""
    return [
        n
        for n, line in enumerate(items)
        if not line.fenced
        and (start := line.text.lstrip(" ")[:1]) in _STRUCTURE_STARTS
        and (start == "#" or not line.text.strip(_RULE_CHARACTERS))
    ]


def _check_structure(lines: _Lines) -> list[Finding]:
    """Markdown structure model text can smuggle in and no template has (the renderer escapes it)."""
    found: list[Finding] = []
    titles = 0
    items = lines.items
    for n in _structure_candidates(items):
        line = items[n]
        text = line.text
        previous = items[n - 1] if n > 0 and not items[n - 1].fenced else None  # the line above, outside code
        problem = None
        if _EMPTY_HEADING.match(text):
            problem = f"an empty heading '{text.strip()}'"
        elif _H1.match(text):
            titles += 1
            if titles > 1:
                problem = f"a second '# ' title line '{_clip(text)}'"
        elif _ODD_BREAK.match(text):
            problem = f"a thematic break '{text.strip()}'"
        elif (
            _SETEXT.match(text)
            and previous is not None
            and previous.text.strip()
            and not _LIST_OR_HEADING.match(previous.text)
            and not _SETEXT.match(previous.text)
        ):
            problem = f"'{_clip(text.strip())}' under '{_clip(previous.text.strip())}' makes it a heading"
        if problem is not None:
            found.append(
                finding(
                    "structure-unexpected",
                    line.where,
                    line.number,
                    f"{problem}: structure the template does not have (often from model text).",
                )
            )
    return found


def _check_characters(lines: _Lines) -> list[Finding]:
    found: list[Finding] = []
    known = known_secrets()
    # most specs have neither: one look at the whole text spares a look at every line
    whole = lines.doc.body.removesuffix("\n")  # the lines joined (each held one line end)
    controls_anywhere = CONTROL_CHARS.search(whole) is not None
    secrets_anywhere = bool(find_secrets(whole, known))
    if not (controls_anywhere or secrets_anywhere):
        return found
    for line in lines.items:
        where = line.where
        controls = sorted({f"U+{ord(ch):04X}" for ch in CONTROL_CHARS.findall(line.text)})
        if controls:
            found.append(
                finding(
                    "control-character",
                    where,
                    line.number,
                    f"Invisible control character(s) {', '.join(controls)}; remove them.",
                )
            )
        kinds = find_secrets(line.text, known) if secrets_anywhere else []
        if kinds:
            found.append(
                finding(
                    "secret-like",
                    where,
                    line.number,
                    f"This line holds what looks like {' and '.join(kinds)}; a spec must not carry "
                    "secrets. Remove it and revoke the secret if it is real.",
                )
            )
    return found


# -- grounding --------------------------------------------------------------------------------------

#: lines shorter than this (words) are not judged off-topic
_MIN_JUDGED_WORDS = 8


def _check_grounding(lines: _Lines, outline: TemplateOutline, brief: BriefFacts) -> list[Finding]:
    """Overview prose and requirements that are not about the brief; brief facts the spec never mentions."""
    found: list[Finding] = []
    first = lines.doc.sections[0].title if lines.doc.sections else ""
    language = brief.language  # the spec is read as the brief is: their words must match
    # The headings are the template's words; the spec's title is not grounding: it names the spec's own
    # feature (the brief's title, already among its terms), and held to another feature's brief it
    # made every line that names the feature look grounded, so nothing was ever off-topic.
    reference = set(brief.terms) | reference_terms(*(s.title for s in lines.doc.sections), language=language)
    del outline  # the template's own words are instructions and examples, not grounding
    # a spec in another language than its brief shares no words with it: off-topic cannot be judged
    same_language = lines.language == language
    first_key = normalise_heading(first)
    # the lines judged: the first section's (however its title is spaced or cased) and functional
    # requirements; no other line is looked at
    overviews = {
        title for title in {line.section for line in lines.items} if normalise_heading(title) == first_key
    }
    judged = [
        n
        for n, (line, requirement) in enumerate(zip(lines.items, lines.requirements, strict=True))
        if line.section in overviews
        or (requirement is not None and is_functional(requirement.group("prefix")))
    ]
    for n in judged if same_language else []:
        line, requirement = lines.items[n], lines.requirements[n]
        if line.fenced or line.text.lstrip().startswith("#"):
            continue
        if "[NEEDS " in line.text:  # markers are reported by their own rules
            continue
        overview = line.section in overviews
        if word_count(line.text, language) < _MIN_JUDGED_WORDS:  # counted only for the lines judged
            continue
        text = requirement.group("text") if requirement else line.text
        reason = off_topic(text, reference, strict=overview, language=language)
        if reason:
            found.append(finding("off-topic", line.where, line.number, f"'{_clip(text)}': {reason}."))
    ratio, missing = brief.coverage(lines.doc.body)
    if missing:
        listed = ", ".join(f"'{fact.text}'" for fact in missing)
        found.append(
            finding(
                "brief-uncovered",
                "",
                lines.doc.title_line or 1,
                f"The spec never mentions {len(missing)} brief fact(s) ({ratio:.0%} covered): {listed}.",
            )
        )
    return found


# -- status -----------------------------------------------------------------------------------------


def _check_status(doc: SpecDocument) -> list[Finding]:
    found: list[Finding] = []
    fm_status = doc.status
    footer_status = doc.footer.status if doc.footer else None
    status_line = doc.footer.field_lines.get("Status", 1) if doc.footer else 1
    if fm_status is None:
        found.append(finding("status-missing", "front matter", 1, "The front matter has no 'status'."))
    elif fm_status.strip().upper() not in STATUSES:
        found.append(
            finding(
                "status-invalid",
                "front matter",
                1,
                f"Front matter status '{fm_status}' is not one of {', '.join(STATUSES)}.",
            )
        )
    if footer_status is None:
        line = doc.footer.start_line if doc.footer else doc.sections[-1].end_line
        found.append(finding("status-missing", "footer", line, "The footer has no '**Status**:' line."))
    elif "[" not in footer_status and footer_status.strip().upper() not in STATUSES:
        found.append(
            finding(
                "status-invalid",
                "footer",
                status_line,
                f"Footer status '{footer_status}' is not one of {', '.join(STATUSES)}.",
            )
        )
    if (
        fm_status is not None
        and footer_status is not None
        and "[" not in footer_status
        and fm_status.strip().upper() != footer_status.strip().upper()
    ):
        found.append(
            finding(
                "status-mismatch",
                "footer",
                status_line,
                f"Footer says '{footer_status}' but the front matter says '{fm_status}'.",
            )
        )
    return found
