"""Property tests: parsers fail only with specdraft's errors; rendered specs parse back to their sections."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from helpers.fault_server import answer_for
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agent.drafting.brief import parse_brief
from agent.errors import SpecdraftError
from agent.specdoc.document import parse_spec
from agent.specdoc.frontmatter import split_front_matter
from agent.specdoc.render import DocumentValues, Provenance, SectionContent, render_spec
from agent.specdoc.template_compiler import compile_template
from agent.specdoc.template_resolver import load_template

# Fragments that steer random text into the parsers' interesting branches.
FRAGMENTS = [
    "---\n",
    "...\n",
    "## ",
    "### ",
    "# ",
    "\n",
    "\n\n",
    "```\n",
    "```json\n",
    "~~~\n",
    "- ",
    "- [ ] ",
    "- [x] ",
    "**",
    "**FR-001**: ",
    "- **Label**: ",
    "[",
    "]",
    "[Describe it]",
    "[FEATURE_NAME]",
    "{{ ",
    " }}",
    "{% ",
    " %}",
    "title: ",
    "priority: high\n",
    "priority: [",
    "owner: a: b\n",
    ": ",
    "|",
    "| a | b |\n",
    "\t",
    "\r\n",
    "\x00",
    "\ufeff",
    "é",
    "🙂",
    "**Status**: DRAFT\n",
    "**Author**: x\n",
    "---\n\n**Author**: ",
    "<!-- ",
    " -->",
]
markdownish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)), max_size=60).map("".join)
any_text = st.one_of(st.text(max_size=400), markdownish)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(any_text)
def test_template_compiler_raises_only_specdraft_errors(text: str) -> None:
    try:
        template = compile_template(text, name="random", path=Path("random.md"), source="random.md")
    except SpecdraftError:
        return
    assert template.sections, "a compiled template has sections"
    for section in template.sections:
        section.model.model_json_schema()  # every generated model is usable


@FAST
@given(any_text)
def test_brief_parser_raises_only_specdraft_errors(text: str) -> None:
    try:
        brief = parse_brief(text, source="random.md")
    except SpecdraftError:
        return
    assert brief.title.strip() and brief.body.strip()


@FAST
@given(any_text)
def test_front_matter_parser_raises_only_specdraft_errors(text: str) -> None:
    try:
        fm = split_front_matter(text, source="random.md")
    except SpecdraftError:
        return
    assert isinstance(fm.data, dict)
    assert fm.body in text


@FAST
@given(any_text)
def test_spec_parser_raises_only_specdraft_errors(text: str) -> None:
    try:
        doc = parse_spec(text, source="random.md")
    except SpecdraftError:
        return
    for section in doc.sections:
        assert section.title == section.title.strip()


# A title for a generated template section: a few plain words (no Markdown syntax, no brackets).
title_words = st.lists(
    st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=10), min_size=1, max_size=4
).map(" ".join)
SHAPES = [
    "[Describe this part of the feature]",
    "- [A point about it]\n- [Another point]",
    "- **Owner**: [Team or person accountable]\n- **Deadline**: [When it is due]",
    "- [ ] **FR-001**: [A requirement]\n- [ ] **FR-002**: [Another requirement]",
    "```json\n[An example payload]\n```",
]


def _render(template_text: str) -> tuple[list[str], str]:
    template = compile_template(
        template_text, name="generated", path=Path("generated.md"), source="generated.md"
    )
    contents = {}
    for section in template.sections:
        answer = answer_for(section.model.model_json_schema())
        data = section.model.model_validate(answer)
        contents[section.key] = SectionContent(data=data.render_data())
    values = DocumentValues(
        title="Invoice export",
        priority="medium",
        owner=None,
        status="DRAFT",
        author="specdraft test",
        day=date(2026, 1, 2),
    )
    provenance = Provenance(
        model="m", provider="compatible", template="generated", template_sha256=template.sha256, version="0",
        brief_sha256="0" * 64,
    )  # fmt: skip
    return [s.title for s in template.sections], render_spec(template, contents, values, provenance)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(title_words, st.sampled_from(SHAPES)), min_size=1, max_size=6))
def test_render_then_parse_returns_the_same_sections(sections: list[tuple[str, str]]) -> None:
    text = "# [FEATURE_NAME]\n\n" + "\n\n".join(f"## {title}\n{body}" for title, body in sections) + "\n"
    try:
        titles, markdown = _render(text)
    except SpecdraftError:
        assume(False)  # e.g. two titles that slugify alike: refused, fine
        raise
    doc = parse_spec(markdown)
    assert [s.title for s in doc.sections] == titles
    assert "[FEATURE_NAME]" not in markdown


@pytest.mark.parametrize("name", ["tech-spec", "adr"])
def test_render_then_parse_builtin_templates(name: str) -> None:
    template = load_template(name)
    titles, markdown = _render(template.text)
    assert [s.title for s in parse_spec(markdown).sections] == titles == [s.title for s in template.sections]
    assert json.dumps(titles)
