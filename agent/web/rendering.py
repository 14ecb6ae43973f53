"""A spec's Markdown as HTML, with each lint finding shown at the line it is about.

markdown-it (CommonMark, tables; already installed with rich) parses the body with raw HTML off, so
``<script>`` in a spec or in model text is shown as text, and unsafe link targets (``javascript:``) are
not links. Every block carries its first file line (``data-line``, ``id="L12"``) for comments and links;
a finding is placed after the innermost block holding its line (a list item, a paragraph, a whole table),
and blocks with a NEEDS ATTENTION / NEEDS CLARIFICATION marker get a class the page highlights.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

from agent.checks.lint import Finding
from agent.specdoc.document import SpecDocument

_MARKERS = (("[NEEDS ATTENTION", "needs-attention"), ("[NEEDS CLARIFICATION", "needs-clarification"))
_TABLE_PARTS = frozenset({"thead_open", "tbody_open", "tr_open", "th_open", "td_open"})


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


@dataclass(frozen=True)
class RenderedSpec:
    front_matter: str
    #: findings about the front matter (its lines come before the body)
    front_matter_findings: list[Finding]
    html: Markup


def finding_html(finding: Finding) -> str:
    fix = f'<span class="fix">Fix: {escape(finding.fix)}</span>' if finding.fix else ""
    return (
        f'<aside class="finding {escape(finding.severity)}" data-line="{finding.line}" '
        f'data-rule="{escape(finding.rule)}"><span class="sev">{escape(finding.severity)}</span> '
        f'<code>{escape(finding.rule)}</code> <a href="#L{finding.line}">line {finding.line}</a>: '
        f'<span class="msg">{escape(finding.message)}</span> {fix}</aside>\n'
    )


def _closers(tokens: list[Token]) -> dict[int, int]:
    """Index of each opening token -> index of its closing token."""
    stack: list[int] = []
    closing: dict[int, int] = {}
    for index, token in enumerate(tokens):
        if token.nesting == 1:
            stack.append(index)
        elif token.nesting == -1 and stack:
            closing[stack.pop()] = index
    return closing


def _spans(tokens: list[Token], offset: int) -> list[tuple[int, int, int]]:
    """(token index, first file line, last file line) of every block token, in document order."""
    spans = []
    table = -1
    for index, token in enumerate(tokens):
        if token.type == "table_open":
            table = index
        if token.map is None or token.type == "inline":
            continue
        if token.type in _TABLE_PARTS:  # nothing goes between a table's rows: place at the table
            index = table
        spans.append((index, token.map[0] + offset + 1, token.map[1] + offset))
    return spans


def _place(findings: list[Finding], spans: list[tuple[int, int, int]]) -> dict[int, list[Finding]]:
    """Block index -> the findings shown after it: the innermost block holding the line, else the next."""
    placed: dict[int, list[Finding]] = defaultdict(list)
    for finding in findings:
        holding = [index for index, first, last in spans if first <= finding.line <= last]
        following = [index for index, first, _ in spans if first > finding.line]
        target = holding[-1] if holding else (following[0] if following else spans[-1][0])
        placed[target].append(finding)
    return placed


def _mark(tokens: list[Token], offset: int) -> None:
    used: set[int] = set()
    for index, token in enumerate(tokens):
        if token.map is None or token.type == "inline" or token.nesting == -1:
            continue
        line = token.map[0] + offset + 1
        token.attrSet("data-line", str(line))
        if line not in used:
            used.add(line)
            token.attrSet("id", f"L{line}")
        inline = tokens[index + 1].content if index + 1 < len(tokens) else ""
        text = token.content if token.nesting == 0 else inline
        for marker, css in _MARKERS:
            if marker in text:
                token.attrJoin("class", css)


def render_spec(doc: SpecDocument, findings: list[Finding]) -> RenderedSpec:
    offset = doc.front_matter_text.count("\n")
    md = _parser()
    tokens = md.parse(doc.body)
    front = [f for f in findings if f.line <= offset]
    body_findings = [f for f in findings if f.line > offset]
    _mark(tokens, offset)
    spans = _spans(tokens, offset)
    placed = _place(body_findings, spans) if spans else {}
    closing = _closers(tokens)
    out: list[Token] = []
    after: dict[int, list[Finding]] = defaultdict(list)
    for index, found in placed.items():
        after[closing.get(index, index)].extend(found)
    for index, token in enumerate(tokens):
        out.append(token)
        if index in after:
            note = Token("html_block", "", 0)
            note.content = "".join(finding_html(f) for f in after[index])
            out.append(note)
    html = md.renderer.render(out, md.options, {})
    return RenderedSpec(doc.front_matter_text, front, Markup(html))
