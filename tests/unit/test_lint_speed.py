"""What makes lint fast changes no finding: a spec's lines, fences and sections worked out once per
document, patterns compiled once per template, expressions skipped where they cannot match, a body's
quantities read only in the units the brief's figures use."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

import agent.checks.lint as lint_module
import agent.specdoc.document as document_module
from agent.checks.lint import lint_document
from agent.specdoc import grounding, placeholders, smells
from agent.specdoc import trace as trace_module
from agent.specdoc.alternation import any_of, literal_trie
from agent.specdoc.document import SpecDocument, fence_mask, load_spec, split_lines
from agent.specdoc.placeholders import pasted_text
from agent.specdoc.template_resolver import spec_outline
from agent.specdoc.trace import trace_document

FENCED = """# Fenced

## Overview
Text.

```
## not a section
```

## Functional Requirements
- FR-001: The system shall export invoices.
~~~
- FR-002: inside a fence
~~~

## Testing Strategy
- Test the export (FR-001)
"""


def test_fences_are_found_once_per_spec_for_every_rule(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = load_spec(spec)
    outline = spec_outline(None, doc, spec)
    calls: list[int] = []

    def counted(lines: list[str]) -> list[bool]:
        calls.append(len(lines))
        return fence_mask(lines)

    monkeypatch.setattr(document_module, "fence_mask", counted)
    findings = lint_document(doc, outline, base=spec.parent)
    trace_document(doc)
    # parse_spec's own (before the spy) serves every rule: not again for the body, per section or for trace
    assert calls == []
    assert doc.body_fenced == fence_mask(split_lines(doc.body)) and doc.body == "".join(doc.body_lines)
    assert len(doc.sections) > 10
    assert findings == lint_document(load_spec(spec), outline, base=spec.parent)


FOOTER = "\n---\n\n**Technical Specifications by**: @me\n**Status**: DRAFT\n"


@pytest.mark.parametrize(
    ("front", "body"),
    [
        ("---\nstatus: DRAFT\n---\n", FENCED),
        ("---\nstatus: DRAFT\ntitle: x\n---\n", "Preamble line.\n\n" + FENCED + FOOTER),
        ("", FENCED + "\n## Empty\n" + FOOTER),
        ("", "# T\n\nPreamble.\n\n## One\ntext\n\n## Two\n"),
    ],
)
def test_the_line_index_is_what_section_at_and_fence_mask_say(tmp_path: Path, front: str, body: str) -> None:
    path = tmp_path / "fenced.md"
    path.write_text(front + body, encoding="utf-8")
    doc = load_spec(path)
    offset = doc.front_matter_text.count("\n")
    assert doc.body_lines == split_lines(doc.body)
    assert doc.body_fenced == fence_mask(split_lines(doc.body))
    # worked out in one sweep: the same as asking section_at line by line
    assert doc.body_line_sections == [doc.section_at(i + 1 + offset) for i in range(len(doc.body_lines))]
    if "## Overview" in body:
        titles = [s.title for s in doc.sections]
        assert titles[:3] == ["Overview", "Functional Requirements", "Testing Strategy"]
    if FOOTER in body:
        assert doc.footer is not None and doc.body_line_sections[-1] == "footer"


def test_clause_patterns_are_compiled_once_per_set_of_instructions() -> None:
    placeholders._clause_patterns.cache_clear()
    instructions = ["List of UI components and their responsibilities", "short one", "How the system scales"]
    lines = [
        "React pages; List of UI components and their responsibilities; a settings panel",
        "Maximum resources per instance: 2 vCPU",
        "how the system scales, with more replicas",
    ] * 20
    found = [pasted_text(line, instructions) for line in lines]
    assert found[:3] == ["List of UI components and their responsibilities", None, "How the system scales"]
    assert placeholders._clause_patterns.cache_info().misses == 1


def test_an_instruction_is_searched_only_in_texts_that_hold_its_longest_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instructions = [
        "List of UI components and their responsibilities",
        "How the system scales",
        "C\u00f3mo se cifran los datos almacenados",
        "Max \u017fessions per user",  # a long s: re folds it onto 's', so no clue can rule it out
    ]
    rng = random.Random(11)
    texts: list[str] = []
    for _ in range(4000):  # an instruction, altered or not, as a clause or inside a sentence
        words = re.findall(r"[^\W_]+", rng.choice(instructions))
        if rng.random() < 0.3:
            words.pop(rng.randrange(len(words)))
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] = rng.choice(["sessions", "systems", "\u017fcales", "LIST"])
        separator = rng.choice([" ", ", ", " - ", "  "])
        clause = separator.join(w.upper() if rng.random() < 0.2 else w for w in words)
        texts.append(
            rng.choice(["", "React pages; ", "We show ", "a "]) + clause + rng.choice(["", "; a panel", "."])
        )
    texts += ["Max sessions per user", "We cap it; max SESSIONS per user"]
    with_clues = [pasted_text(text, instructions) for text in texts]
    placeholders._clause_patterns.cache_clear()
    every = placeholders._clause_patterns
    monkeypatch.setattr(
        placeholders,
        "_clause_patterns",
        lambda given: tuple((i, p, None) for i, p, _ in every(given)),  # no clue: every text searched
    )
    assert [pasted_text(text, instructions) for text in texts] == with_clues
    assert 500 < sum(1 for found in with_clues if found) < 3500


def _corpus() -> list[str]:
    path = Path(__file__).resolve().parent.parent / "data" / "smells" / "requirements.jsonl"
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return texts + [text.upper() for text in texts]


class _Everything(frozenset[str]):
    """A set that shares a member with every other: a word filter asking it rules nothing out."""

    def isdisjoint(self, other: Iterable[object]) -> bool:
        return False


def test_the_smell_word_filter_changes_no_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    rationale = [
        "The export must finish within 5 s because users wait for it, as appropriate.",
        "Exports should be fast. Rationale: users wait for it etc.",
        "The API must reject requests where possible,\nsince the quota is shared and so on.",
        "Users may retry, so that the job finishes in order that nothing is lost.",
        "NOTE: the exporter must retry several times if needed.",
        "The job reads the queue and the cache, then it retries; the API and/or the CLI report it.",
        "When the user saves the draft and the form, it must be stored, or they see an error.",
        "The exporter retries; it must log the failure.",  # two sentences: the second starts with 'it'
        "The service will export the file and will notify the admin.",  # obligations without shall/must
    ]
    texts = _corpus() + rationale + [text.upper() for text in rationale]
    filtered = [smells.detect(text) for text in texts]
    # every expression searched, as before the filter
    everywhere = re.compile("")
    monkeypatch.setattr(smells, "_NEEDLES", {pattern: everywhere for pattern in smells._NEEDS})
    monkeypatch.setattr(smells, "_ANY_NEEDLE", everywhere)
    monkeypatch.setattr(smells, "_UNIVERSAL_NEEDLE", everywhere)
    monkeypatch.setattr(smells, "_SENTENCE_END", everywhere)  # every text split
    monkeypatch.setattr(smells, "_OBLIGATION_WORDS", ("",))  # in every text
    monkeypatch.setattr(smells, "_AND_OR_TEXT", "")  # in every text
    monkeypatch.setattr(smells, "_CLAUSE_PRONOUNS", _Everything())
    assert [smells.detect(text) for text in texts] == filtered
    assert sum(1 for found in filtered if found) > 50


def test_text_beyond_ascii_is_searched_by_every_expression() -> None:
    # re's case folding matches the long s (U+017F) with 's': no word filter may skip such text
    assert [s.rule for s in smells.detect("The exporter \u017fhould finish within 5 seconds.")] == [
        "smell-weak-modal"
    ]


def test_quantities_are_read_only_in_the_units_asked_for() -> None:
    text = "p95 under 300 ms for 20k workspaces; 5 retries; 40% of 1,000 users"
    everything = grounding._quantities(text)
    assert ("300", "ms") in everything and ("20000", "workspac") in everything
    assert grounding._quantities(text, {"ms", "%"}) == {q for q in everything if q[1] in ("ms", "%")}
    assert grounding._quantities(text, set()) == set()
    # CJK counters are looked for only when one of them is asked for (or all are)
    mixed = "链接 7天 内有效, 500个 邀请; p95 under 300 ms ──► 20k workspaces"
    every = grounding._quantities(mixed)
    assert ("7", "天") in every and ("500", "个") in every and ("300", "ms") in every
    for units in ({"天"}, {"ms", "个"}, {"ms"}, {"workspac"}):
        assert grounding._quantities(mixed, units) == {q for q in every if q[1] in units}


def test_coverage_finds_the_brief_figures_among_others() -> None:
    brief = grounding.extract("Exports must finish within 300 ms for 20k workspaces.", "CSV export")
    assert {f.text for f in brief.facts if f.kind == "number"}
    spec = "Each export of 20,000 workspaces finishes in 300 ms; 5 retries; 40% of 1,000 users; 2 GB."
    _, missing = brief.coverage(spec)
    assert not [f for f in missing if f.kind == "number"]
    _, missing_without = brief.coverage("Each export finishes in 2 s for 500 users.")
    assert [f for f in missing_without if f.kind == "number"]


def test_the_needle_trie_finds_exactly_the_texts_that_contain_a_needle() -> None:
    rng = random.Random(7)
    # needles that are prefixes of each other ("eas", "easi", "easiest") and share first letters
    needles = ["eas", "easi", "easiest", "simpl", "seamless", "a+b", "x.y", "most", "mo"]
    finder = any_of(tuple(needles))
    letters = "aeimosx+.b"
    texts = ["".join(rng.choice(letters) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    texts += ["uneasily", "simplest", "a+b=c", "xzy", "x.y", "m o"]
    hits = [finder.search(text) is not None for text in texts]
    assert hits == [any(needle in text for needle in needles) for text in texts]
    assert 100 < sum(hits) < len(texts) - 100


def test_list_items_numbered_in_any_script_are_still_judged(tmp_path: Path) -> None:
    # the list-item precheck admits what the list-item expression does: '\\d' is any decimal digit
    body = "## Performance Requirements\n\n\u0661. Pages should load quickly.\n- Pages should load quickly.\n"
    path = tmp_path / "digits.md"
    path.write_text("---\nstatus: DRAFT\n---\n# Digits\n\n" + body, encoding="utf-8")
    doc = load_spec(path)
    found = [f for f in lint_document(doc, spec_outline(None, doc, path)) if f.rule == "smell-weak-modal"]
    assert [f.line for f in found] == [8, 9]


def test_the_word_expression_reads_the_words_it_always_read() -> None:
    # the former expression (it backtracked at every word): a word never ends in a dot
    former = re.compile(r"[A-Za-z][A-Za-z0-9+#.]*[A-Za-z0-9+#]|[A-Za-z]")
    rng = random.Random(3)
    alphabet = "aZ9+#. ,-_\u00e9\n"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(5000)]
    texts += ["Node.js and C++ on e.g. ASP.NET... v2.0.", "a. b.c.. d"]
    assert [grounding.words(text) for text in texts] == [former.findall(text) for text in texts]
    assert grounding.words("Node.js, C++ e.g.") == ["Node.js", "C++", "e.g"]


def test_numbers_are_found_as_the_plain_expression_found_them() -> None:
    # the former expression: units as a plain alternation, searched from a word boundary at every position
    plain = re.compile(
        rf"\b(\d[\d,]*(?:\.\d+)?)\s?(k\b|m\b|%)?\s?({grounding._UNIT_WORDS})?\b(?:\s+per\s+([a-z]+))?",
        re.IGNORECASE,
    )
    rng = random.Random(5)
    # digits, separators, unit letters, letters re folds onto ASCII ones (long s, Kelvin sign), '_'
    alphabet = "0123 ,.kmMK%s\u017f\u212apeusrday\u00e9_\n"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25))) for _ in range(20_000)]
    texts += ["20k workspaces per day, 5 ms, 1,000 users; 7 d\u00edas; FR-001 and 3x", "5 \u017feconds"]

    def found(matches: Iterable[re.Match[str]]) -> list[object]:
        return [(m.span(), m.groups()) for m in matches]

    assert [found(grounding._number_matches(t)) for t in texts] == [found(plain.finditer(t)) for t in texts]
    assert sum(1 for t in texts if any(m.group(3) for m in plain.finditer(t))) > 200


def test_a_factored_alternation_matches_exactly_its_alternatives() -> None:
    words = ["ms", "millisecond", "milliseconds", "minute", "m", "%", "a+b", "día"]
    factored = re.compile(literal_trie(words))
    assert factored.pattern.count("|") < len(words)  # shared first letters share a branch
    candidates = [*words, "mil", "mss", "minutes", "", "a+", "dia", "%%", "b"]
    assert [w for w in candidates if factored.fullmatch(w)] == words
    assert re.compile(literal_trie([])).search("anything at all") is None  # none: matches nothing


def test_specs_of_one_template_share_the_alignment_of_their_headings(spec: Path) -> None:
    doc = load_spec(spec)
    outline = spec_outline(None, doc, spec)
    lint_module._alignment.cache_clear()
    first = lint_document(doc, outline, base=spec.parent)
    misses = lint_module._alignment.cache_info().misses
    again = lint_document(load_spec(spec), outline, base=spec.parent)
    assert again == first
    assert lint_module._alignment.cache_info().misses == misses  # the second spec asked nothing new
    assert lint_module._alignment.cache_info().hits >= misses > 1


def _specs_with_lines(tmp_path: Path, pool: list[str], seed: int, before: str, count: int = 30) -> list[Path]:
    """``count`` copies of the clean spec, each with lines drawn from ``pool`` before the heading
    ``before`` (a new last section when the spec has no such heading)."""
    clean = (Path(__file__).resolve().parent.parent / "data" / "specs" / "clean.md").read_text(
        encoding="utf-8"
    )
    rng = random.Random(seed)
    head, _, tail = clean.partition(before)
    specs = []
    for n in range(count):
        extra = "\n".join(rng.choice(pool) for _ in range(rng.randint(3, 25)))
        path = tmp_path / f"spec-{n}.md"
        path.write_text(head + extra + "\n\n" + before + tail, encoding="utf-8")
        specs.append(path)
    return specs


def _lint_all(specs: list[Path]) -> list[list[str]]:
    out = []
    for path in specs:
        doc = load_spec(path)
        out.append([repr(f) for f in lint_document(doc, spec_outline(None, doc, path), base=path.parent)])
    return out


def test_the_placeholder_rules_skip_only_lines_they_can_find_nothing_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = [
        "- List of UI components and their responsibilities",
        "- React pages; list of UI components, and their responsibilities; a panel",
        "- Formats, e.g. CSV, JSON, XML",
        "- Formats (E.G. CSV)",
        "- Sprachen, z. B. Deutsch, Englisch, Spanisch",
        "- Formatos, p. ej. CSV",
        "- The [component] stores it",
        "- TODO: decide; TBD later; FIXME",
        "- TODO decide",
        "- FEATURE_NAME stays",  # a leftover of one word: no clause pattern, so no clue to look for
        "- FIXME later",
        "- List of UI components and their re\u017fponsibilities",  # re folds the long s onto 's'
        "- Lists: list of UI components and their responsibilities \u2014 \u2713",
        "- C\u00f3mo se cifran los datos almacenados",
        "- Plain text with a dot. And more.",
        "```",
        "[inside] a fence, TODO",
        "```",
        "- A step. Then help.",
        "- [NEEDS CLARIFICATION\n] e.g. a, b, c",  # a marker left open does not reach into the next line
        "- [NEEDS ATTENTION: why] and [x] List of UI components and their responsibilities",
    ]
    specs = _specs_with_lines(tmp_path, pool, 17, "## Functional Requirements")
    skipping = _lint_all(specs)
    monkeypatch.setattr(lint_module, "_placeholder_candidates", lambda lines, *_: range(len(lines.items)))
    assert _lint_all(specs) == skipping
    assert sum(1 for found in skipping for f in found if "placeholder" in f or "example-left" in f) > 50
    # the bare lines, worked out on the whole text at once, are those of each line on its own
    for path in specs:
        index = lint_module._Lines(load_spec(path))
        one_by_one = [
            "" if line.fenced else lint_module._MARKER.sub("", lint_module._BRACKET.sub("", line.text))
            for line in index.items
        ]
        assert lint_module._bare_lines(index) == one_by_one


def test_list_items_without_an_id_outside_requirement_sections_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = [
        "- AB-12: The service should be fast and user-friendly",
        "- R1. It must be robust, etc.",
        "- R1.2) Some users may want several exports",
        "1. Q7 The cache should be appropriate",
        "- a3-4 is not an ID, but it is fast",
        "- The export is simple and intuitive",
        "* X-\u0663 Arabic-Indic digit, easy to use",
        "- [ ] **Label**: ZZ9 every user gets it as soon as possible",
        "Plain prose R2 with an ID-like word, and/or more",
        "### Requirements",
        "### Notes",
    ]
    specs = _specs_with_lines(tmp_path, pool, 29, "## API Specifications")
    skipping = _lint_all(specs)
    monkeypatch.setattr(lint_module, "_LOOSE_ID_CLUE", re.compile(""))  # every line looked at
    assert _lint_all(specs) == skipping
    assert sum(1 for found in skipping for f in found if "This item:" not in f and "smell-" in f) > 30


def _line_index_line_by_line(doc: SpecDocument) -> list[tuple[object, ...]]:
    """What the line index holds, worked out one line after the other (as it was before the runs)."""
    number = doc.front_matter_text.count("\n")
    out: list[tuple[object, ...]] = []
    current = sub = where = ""
    for text, fenced, section in zip(doc.body_lines, doc.body_fenced, doc.body_line_sections, strict=True):
        number += 1
        if section != current:
            current, sub, where = section, "", section
        stripped = text.rstrip("\n")
        if not fenced and "### " in stripped and stripped.lstrip().startswith("### "):
            sub = stripped.lstrip()[4:].strip()
            where = f"{section} / {sub}" if sub else section
        out.append((number, stripped, fenced, section, sub, where))
    return out


def test_the_line_index_by_runs_is_the_line_by_line_one(tmp_path: Path) -> None:
    pool = [
        "## Overview\n", "## Testing\n", "### Unit\n", "### \n", "   ### Indented\n", "    ### Code-like\n",
        "\t### Tabbed\n", "text\n", "- item\n", "```\n", "~~~\n", "### in a fence?\n", "\n", "---\n",
        "**Status**: DRAFT\n", "# Title\n", "#### Deeper\n",
    ]  # fmt: skip
    rng = random.Random(23)
    for n in range(300):
        body = "## First\n" + "".join(rng.choice(pool) for _ in range(rng.randint(0, 40)))
        if rng.random() < 0.3:
            body = body.rstrip("\n")
        front = rng.choice(["", "---\nstatus: DRAFT\n---\n"])
        path = tmp_path / f"s{n}.md"
        path.write_text(front + rng.choice(["", "Preamble\n### Early\n"]) + body, encoding="utf-8")
        doc = load_spec(path)
        assert [tuple(line) for line in lint_module._Lines(doc).items] == _line_index_line_by_line(doc), body


def test_the_stems_of_a_text_looked_up_are_the_stems_of_all_its_words() -> None:
    rng = random.Random(11)
    # synonyms, suffixes, stop words, word characters ('+', '#', '.'), digits, a letter that lower-cases
    # onto ASCII (Kelvin sign), one whose lower case is longer (dotted capital I), separators
    pieces = [
        *("mail", "Mails", "e-mail", "invitee", "Invites", "invitation", "retrying", "retry", "export"),
        *("downloads", "hooks", "callback", "Postgres", "the", "and", "C++", "C#", "Node.js", "e.g."),
        *("running", "ations", "nationalities", "x", "ab", "3d", "k8s", "\u212aeys", "keys", "v2.0"),
        *(" ", " ", "\n", "-", "/", ",", ".", "(", "\u2500\u25ba", "_"),
    ]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))) for _ in range(3_000)]
    texts += ["\u0130nvites and mails", "Retrying the exports via callbacks"]
    asked = [grounding.stem(w) for w in pieces] + ["email", "invit", "retr", "webhook", "e-mail", "", "k"]
    for text in texts:
        every = grounding.content_stem_set(text)
        looked_up = grounding.StemsOf(text)
        assert [s for s in asked if s in looked_up] == [s for s in asked if s in every], text
    assert sum(1 for t in texts if "email" in grounding.StemsOf(t)) > 100
    assert 3 not in grounding.StemsOf("3 days")


def test_references_skip_lines_without_a_dash_and_digit(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    pieces = ["FR-001", "FR-", "NFR-12", "..", " to ", "\u2013", "-", "0", "7", " ", "FR", "x", "-\u0663"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) for _ in range(5_000)]
    quick = [trace_module.references(t) for t in texts]
    monkeypatch.setattr(trace_module, "_DASH_DIGIT", re.compile(""))  # every line searched
    assert quick == [trace_module.references(t) for t in texts]
    assert sum(1 for found in quick if found) > 1_000


def test_the_structure_rule_looks_at_every_line_its_expressions_match(tmp_path: Path) -> None:
    pool = [
        "# Title", "## Heading", "#", "  ##  ", "***", "* * *", "_ _ _", "- - -", "-\t-\t-", "---", "===",
        "   ---  ", "- item", "* item", "text", "== not only", "-- -x", "```", "\t---", "    ***", "---\r",
    ]  # fmt: skip
    expressions = [lint_module._EMPTY_HEADING, lint_module._H1, lint_module._ODD_BREAK, lint_module._SETEXT]
    rng = random.Random(31)
    matched = 0
    for n in range(200):
        body = "## First\n" + "\n".join(rng.choice(pool) for _ in range(rng.randint(1, 30))) + "\n"
        path = tmp_path / f"s{n}.md"
        path.write_text(body, encoding="utf-8")
        items = lint_module._Lines(load_spec(path)).items
        wanted = [
            k
            for k, line in enumerate(items)
            if not line.fenced and any(e.match(line.text) for e in expressions)
        ]
        candidates = lint_module._structure_candidates(items)
        assert set(wanted) <= set(candidates), body
        assert not any(items[k].text.lstrip().startswith(("- item", "* item", "text")) for k in candidates)
        matched += len(wanted)
    assert matched > 500


def test_every_heading_is_among_the_heading_rows() -> None:
    pool = [
        "```\n", "~~~\n", "   ```\n", "    ```\n", "``` x\n", "# Heading\n", "  ## Sub\n", "C# code\n",
        "text\n", "\n", "#", "\t### Tab\n", "    ## Deep\n", "##\n",
    ]  # fmt: skip
    rng = random.Random(37)
    headings = 0
    for _ in range(3_000):
        lines = split_lines("".join(rng.choice(pool) for _ in range(rng.randint(0, 25))))
        mask = fence_mask(lines)
        rows = set(document_module.heading_rows(lines, mask))
        # every line the empty-section rule takes for a heading is among them
        wanted = {n for n, line in enumerate(lines) if not mask[n] and lint_module._SUBHEADINGS.match(line)}
        assert wanted <= rows, lines
        headings += len(wanted)
    assert headings > 2_000


def test_line_ends_are_the_offsets_of_the_line_breaks() -> None:
    rng = random.Random(41)
    for _ in range(2_000):
        lines = [
            "".join(rng.choice("ab \u00e9") for _ in range(rng.randint(0, 5)))
            for _ in range(rng.randint(0, 8))
        ]
        joined = "\n".join(lines) + "\n"
        assert lint_module._line_ends(lines) == [n for n, c in enumerate(joined) if c == "\n"][: len(lines)]


def test_headings_are_matched_once_by_the_expression_of_their_level() -> None:
    pool = [
        "## Two\n", "### Three\n", "#### Four\n", "# One\n", "##\tTab ##\n", "## C#\n", "   ## Indented\n",
        "    ## Code\n", "##Tight\n", "### \n", "## ###\n", "text\n", "```\n", "\n", "#\n", "##\n",
    ]  # fmt: skip
    rng = random.Random(43)
    h2 = document_module._H2
    h3 = document_module._H3
    for _ in range(3_000):
        body = "## First\n" + "".join(rng.choice(pool) for _ in range(rng.randint(0, 20)))
        doc = document_module.parse_spec(body)
        lines, mask = split_lines(body), fence_mask(split_lines(body))
        # the long way: every line outside code tried with both expressions
        twos = [
            (n, m.group(1))
            for n, line in enumerate(lines)
            if not mask[n] and (m := h2.match(line.rstrip("\n")))
        ]
        threes = [
            (n, m.group(1))
            for n, line in enumerate(lines)
            if not mask[n] and (m := h3.match(line.rstrip("\n")))
        ]
        assert [(s.start_line - 1, s.title) for s in doc.sections] == twos, body
        subsections = [(sub.line - 1, sub.title) for s in doc.sections for sub in s.subsections]
        assert subsections == [(n, t) for n, t in threes if n > twos[0][0] and n < doc.sections[-1].end_line]


def test_a_finding_as_a_dict_is_what_asdict_gives() -> None:
    from dataclasses import asdict, fields

    found = lint_module.finding("placeholder", "Overview", 12, "Unfilled template placeholder '[x]'.")
    assert found.to_dict() == asdict(found)
    assert list(found.to_dict()) == [f.name for f in fields(lint_module.Finding)]  # every field, in order
