"""Parsing a spec into sections and back, byte for byte; the hashes sign-off relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import InputError, TemplateError
from agent.specdoc.document import (
    FOOTER_KEY,
    PREAMBLE_KEY,
    load_spec,
    parse_spec,
)
from agent.specdoc.template_resolver import read_template_outline, resolve_template_path, spec_template_path

SPECS = Path(__file__).parent.parent / "data" / "specs"
CLEAN = (SPECS / "clean.md").read_text(encoding="utf-8")


def test_parses_front_matter_title_sections_and_footer() -> None:
    doc = parse_spec(CLEAN, source="clean.md")
    assert doc.front_matter["status"] == "DRAFT"
    assert doc.front_matter["specdraft"]["template"] == "tech-spec"
    assert doc.title == "Technical Specifications: Team invitations by email"
    assert doc.title_line == 13
    assert [s.title for s in doc.sections][:3] == [
        "Overview",
        "System Architecture",
        "Technical Requirements",
    ]
    assert len(doc.sections) == 18
    overview = doc.sections[0]
    assert (overview.start_line, overview.end_line) == (15, 20)
    assert overview.text.startswith("## Overview\n\n**What are we building?**")
    assert [s.title for s in doc.sections[2].subsections] == [
        "Functional Requirements",
        "Non-Functional Requirements",
        "Quality Requirements",
    ]
    assert doc.footer is not None
    assert doc.footer.fields == {
        "Technical Specifications by": "specdraft 0.1.0 (smollm2-135m-instruct)",
        "Date": "2026-11-25",
        "Status": "DRAFT",
    }
    assert doc.sections[-1].title == "Notes"
    assert doc.sections[-1].end_line == doc.footer.start_line - 1


def test_round_trip_is_byte_exact() -> None:
    assert parse_spec(CLEAN).serialise() == CLEAN
    template = resolve_template_path("tech-spec").read_text(encoding="utf-8")
    assert parse_spec(template).serialise() == template


def test_headings_inside_code_fences_are_not_sections() -> None:
    text = "# T\n\n## One\n```\n## not a section\n---\n```\n## Two\ntext\n"
    doc = parse_spec(text)
    assert [s.title for s in doc.sections] == ["One", "Two"]
    assert doc.footer is None


def test_a_rule_followed_by_prose_is_not_a_footer() -> None:
    doc = parse_spec("## One\ntext\n\n---\n\nmore prose\n")
    assert doc.footer is None
    assert doc.sections[0].text.endswith("more prose\n")


def test_not_a_spec_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not a spec: it has no '## ' sections"):
        parse_spec("# Just a title\n\nSome prose.\n", source="notes.md")


def test_bad_front_matter_is_an_input_error() -> None:
    with pytest.raises(InputError, match="malformed front matter on line"):
        parse_spec("---\nstatus: DRAFT\nbad: [unclosed\n---\n## One\n", source="s.md")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_spec(tmp_path / "nope.md")


def test_replace_section_keeps_every_other_byte() -> None:
    doc = parse_spec(CLEAN)
    new = doc.with_section_text("overview", "## Overview\n\nSomething else entirely.\n\n")
    assert new.section("Overview") is not None
    assert new.section("Overview").content == "\nSomething else entirely.\n\n"  # type: ignore[union-attr]
    before, after = CLEAN.split("## Overview", 1)[0], CLEAN.split("## System Architecture", 1)[1]
    assert (
        new.serialise()
        == before + "## Overview\n\nSomething else entirely.\n\n## System Architecture" + after
    )
    # a missing final newline is added so the next heading stays on its own line
    again = doc.with_section_text("Overview", "## Overview\ntext")
    assert "text\n## System Architecture" in again.serialise()
    with pytest.raises(InputError, match="no section 'Nope'"):
        doc.with_section_text("Nope", "## Nope\n")
    with pytest.raises(InputError, match="must start with a '## ' heading"):
        doc.with_section_text("Overview", "no heading\n")


def test_body_hash_ignores_front_matter_and_status_value_only() -> None:
    doc = parse_spec(CLEAN)
    base = doc.body_sha256()
    assert doc.with_front_matter({**doc.front_matter, "status": "APPROVED", "x": 1}).body_sha256() == base
    assert doc.with_footer_field("Status", "APPROVED").body_sha256() == base
    for old, new in [
        ("valid for 7 days", "valid for 8 days"),
        ("**Date**: 2026-11-25", "**Date**: 2026-11-26"),
        ("**Status**: DRAFT", "**Status** : DRAFT"),
        ("# Technical Specifications: Team", "# Technical Specifications:  Team"),
        ("## Notes\n", "## Notes \n"),
    ]:
        assert parse_spec(CLEAN.replace(old, new, 1)).body_sha256() != base, (old, new)


def test_status_edit_keeps_trailing_spaces_and_other_lines() -> None:
    text = CLEAN.replace("**Status**: DRAFT", "**Status**: DRAFT  ")
    doc = parse_spec(text).with_footer_field("Status", "REVIEW")
    assert doc.serialise() == text.replace("**Status**: DRAFT  ", "**Status**: REVIEW  ")


def test_section_hashes_cover_every_part_and_name_the_changed_one() -> None:
    doc = parse_spec(CLEAN)
    hashes = doc.section_hashes()
    assert next(iter(hashes)) == PREAMBLE_KEY
    assert list(hashes)[-1] == FOOTER_KEY
    edited = parse_spec(CLEAN.replace("Tailwind", "Tailwinds", 1)).section_hashes()
    assert [k for k in hashes if hashes[k] != edited[k]] == ["Technology Stack"]


def test_duplicate_titles_get_unique_keys() -> None:
    doc = parse_spec("## A\nx\n## A\ny\n")
    assert list(doc.section_hashes()) == [PREAMBLE_KEY, "A", "A (2)"]


def test_template_outline_reads_headings_in_order() -> None:
    outline = read_template_outline(resolve_template_path(None))
    assert outline.name == "tech-spec"
    assert outline.sections[0] == ("Overview", ())
    assert outline.sections[2][1] == (
        "Functional Requirements",
        "Non-Functional Requirements",
        "Quality Requirements",
    )
    assert len(outline.sections) == 18
    assert "Specific functional requirement" in outline.placeholders


def test_template_resolution(tmp_path: Path) -> None:
    custom = tmp_path / "mine.md"
    custom.write_text("# X\n\n## Goals\n[goal]\n", encoding="utf-8")
    assert resolve_template_path(str(custom)) == custom
    doc = parse_spec("---\nspecdraft:\n  template: mine.md\n---\n## Goals\nship\n")
    assert spec_template_path(None, doc, tmp_path / "spec.md") == custom
    with pytest.raises(TemplateError, match=r"specdraft\.template: mine\.md"):
        spec_template_path(None, doc, tmp_path / "sub" / "spec.md")
    assert spec_template_path(str(custom), doc, tmp_path / "sub" / "spec.md") == custom
    with pytest.raises(TemplateError, match="Unknown template 'nope'"):
        resolve_template_path("nope")
    named = parse_spec("---\nspecdraft:\n  template: nope\n---\n## Goals\nship\n")
    with pytest.raises(TemplateError, match="Unknown template 'nope'"):
        spec_template_path(None, named, tmp_path / "spec.md")
    empty = tmp_path / "empty.md"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="has no '## ' sections"):
        read_template_outline(empty)


_LINE = st.one_of(
    st.sampled_from(
        ["## A", "## B", "### c", "# T", "---", "```", "~~~", "", "**Status**: DRAFT  ", "- [ ] x"]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\n"), max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_LINE, min_size=1, max_size=30), st.booleans())
def test_round_trip_property(lines: list[str], final_newline: bool) -> None:
    text = "\n".join(["## First", *lines]) + ("\n" if final_newline else "")
    doc = parse_spec(text)
    assert doc.serialise() == text
    assert "".join(s.text for s in doc.sections) + (doc.footer.text if doc.footer else "") == text
