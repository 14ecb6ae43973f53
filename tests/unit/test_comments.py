"""Review comments next to a spec (``SPEC.comments.jsonl``): anchoring, ids, resolving, damaged files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.errors import InputError
from agent.specdoc.comments import CommentStore, comments_path
from agent.specdoc.document import load_spec


def test_add_anchors_to_a_section_and_a_line(spec: Path) -> None:
    store = CommentStore(spec)
    doc = load_spec(spec)
    overview = doc.sections[0]
    first = store.add(doc, "  Say which IdP.  ", by="Ana Lima", section=overview.title.lower())
    second = store.add(doc, "Why 7 days?", by="Bo", line=overview.start_line + 1)
    assert (first.id, first.section, first.line, first.text) == (1, overview.title, None, "Say which IdP.")
    # a line alone is anchored to the section holding it
    assert (second.id, second.section, second.line) == (2, overview.title, overview.start_line + 1)
    lines = comments_path(spec).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["op"] for line in lines] == ["comment", "comment"]
    assert [c.id for c in CommentStore(spec).open_comments()] == [1, 2]


def test_resolve_keeps_the_comment_and_closes_it(spec: Path) -> None:
    store = CommentStore(spec)
    store.add(load_spec(spec), "Name the IdP", by="Ana")
    resolved = store.resolve(1, by="Bo")
    assert not resolved.is_open and resolved.resolved_by == "Bo"
    assert store.open_comments() == [] and len(store.load()) == 1
    with pytest.raises(InputError, match="already resolved"):
        store.resolve(1, by="Bo")
    with pytest.raises(InputError, match="no comment 7"):
        store.resolve(7, by="Bo")


@pytest.mark.parametrize(
    ("section", "line", "text", "message"),
    [
        ("No Such Section", None, "x", "has no section 'No Such Section'"),
        (None, 100_000, "x", "Line 100000 is not in"),
        (None, None, "   ", "The comment is empty"),
        (None, None, "x" * 5000, "the limit is 4,000"),
    ],
)
def test_bad_comments_are_refused_and_nothing_is_written(
    spec: Path, section: str | None, line: int | None, text: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        CommentStore(spec).add(load_spec(spec), text, by="Ana", section=section, line=line)
    assert not comments_path(spec).exists() or comments_path(spec).read_text() == ""


def test_a_torn_last_line_is_ignored_then_cut_off(spec: Path) -> None:
    store = CommentStore(spec)
    store.add(load_spec(spec), "first", by="Ana")
    with comments_path(spec).open("a", encoding="utf-8") as handle:
        handle.write('{"op":"comment","id":2,"at"')  # a writer killed mid-append
    assert [c.text for c in store.load()] == ["first"]
    store.add(load_spec(spec), "second", by="Ana")
    assert [(c.id, c.text) for c in store.load()] == [(1, "first"), (2, "second")]


def test_a_damaged_line_is_named(spec: Path) -> None:
    comments_path(spec).write_text('{"op":"comment","id":1,"at":"x","by":"a","text":"t"}\nnot json\n')
    with pytest.raises(InputError, match=r"comments.jsonl, line 2: not a comment record"):
        CommentStore(spec).load()
