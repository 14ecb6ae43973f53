"""Batch inputs and safe slugs (no model involved)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.drafting.batch_inputs import load_inputs
from agent.drafting.brief import Priority
from agent.errors import InputError
from agent.io.slug import MAX_SLUG, assign_slugs, slugify

BODY = "Users want to export their invoices as CSV files from the billing page, filtered by date range."


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("/etc/passwd", "etc-passwd"),
        ("..", "brief"),
        ("", "brief"),
        (".env", "env"),
        ("Dark Mode: v2!", "dark-mode-v2"),
        ("Crème brûlée", "creme-brulee"),
        ("a\\b\\c", "a-b-c"),
        ("CON", "con-brief"),
        ("rfcs/2024/auth.md", "rfcs-2024-auth.md"),
    ],
)
def test_slugify_is_one_safe_file_name(identifier: str, expected: str) -> None:
    slug = slugify(identifier)
    assert slug == expected
    assert "/" not in slug and "\\" not in slug and not slug.startswith(".") and slug not in (".", "..")


def test_long_ids_are_cut_but_stay_distinct() -> None:
    a, b = slugify("x" * 300 + "a"), slugify("x" * 300 + "b")
    assert len(a) <= MAX_SLUG and len(b) <= MAX_SLUG and a != b


def test_collisions_get_a_suffix_in_input_order() -> None:
    slugs = assign_slugs(["A b", "a-b", "a_b", "other"], reserved=["other"])
    assert slugs == {"A b": "a-b", "a-b": "a-b-2", "a_b": "a_b", "other": "other-2"}
    assert assign_slugs(["Report", "report"]) == {"Report": "report", "report": "report-2"}


def test_directory_ids_are_file_names(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text(f"# B\n\n{BODY}", encoding="utf-8")
    (tmp_path / "a.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / ".hidden.md").write_text(BODY, encoding="utf-8")
    (tmp_path / "empty.md").write_text("   \n", encoding="utf-8")
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00bad")
    loaded = load_inputs(str(tmp_path))
    assert [i.id for i in loaded.items] == ["a", "b"]
    assert loaded.items[1].brief.title == "B"
    problems = {Path(p.where).name: p.message for p in loaded.problems}
    assert set(problems) == {"empty.md", "binary.md"}
    assert "empty" in problems["empty.md"] and "UTF-8" in problems["binary.md"]


def test_glob_ids_are_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "rfcs" / "2024").mkdir(parents=True)
    (tmp_path / "rfcs" / "2024" / "auth.md").write_text(BODY, encoding="utf-8")
    (tmp_path / "rfcs" / "top.md").write_text(BODY, encoding="utf-8")
    loaded = load_inputs(str(tmp_path / "rfcs" / "**" / "*.md"))
    assert sorted(i.id for i in loaded.items) == ["2024/auth", "top"]
    with pytest.raises(InputError, match="matches no files"):
        load_inputs(str(tmp_path / "nothing" / "*.md"))


def test_jsonl_fields_context_and_duplicates(tmp_path: Path) -> None:
    source = tmp_path / "b.jsonl"
    rows = [
        {"id": "x", "title": "Exports", "brief": BODY, "priority": "high", "owner": "ana", "team": "billing"},
        {"brief": f"---\npriority: low\n---\n{BODY}"},
        {"id": "x", "brief": BODY},
        ["not", "an", "object"],
        {"id": {"nested": 1}, "brief": BODY},
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    loaded = load_inputs(str(source))
    first, second = loaded.items
    assert (first.id, first.brief.title, first.brief.priority, first.brief.owner) == (
        "x",
        "Exports",
        Priority.high,
        "ana",
    )
    assert first.brief.context == {"team": "billing"}
    assert second.id == "line-2" and second.brief.priority is Priority.low
    messages = {p.where.rsplit(":", 1)[1]: p.message for p in loaded.problems}
    assert set(messages) == {"3", "4", "5"}
    assert (
        "repeats the id 'x'" in messages["3"] and "JSON object" in messages["4"] and "'id'" in messages["5"]
    )


def test_csv_needs_a_brief_column_and_reports_ragged_rows(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'brief' column"):
        load_inputs(str(bad))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(f'id,brief\na,"{BODY}"\nb\nc,"{BODY}",extra\n', encoding="utf-8")
    loaded = load_inputs(str(ragged))
    assert [i.id for i in loaded.items] == ["a"]
    assert [p.where for p in loaded.problems] == [f"{ragged}:3", f"{ragged}:4"]


def test_batch_reads_files_like_draft(tmp_path: Path) -> None:
    """The one reader and brief parser: a BOM is dropped, NUL bytes and UTF-16 refused, the limit the same."""
    folder = tmp_path / "briefs"
    folder.mkdir()
    (folder / "bom.md").write_bytes(
        b"\xef\xbb\xbf---\r\ntitle: Invoice export\r\npriority: high\r\n---\r\n" + BODY.encode()
    )
    (folder / "nul.md").write_bytes(b"# Export\n\nUsers export\x00 invoices.\n")
    (folder / "utf16.md").write_bytes(f"# Export\n\n{BODY}\n".encode("utf-16"))
    (folder / "big.md").write_text("# Big\n\n" + "word " * 30_000)
    inputs = load_inputs(str(folder))
    [item] = inputs.items
    assert item.id == "bom"
    assert item.brief.title == "Invoice export" and item.brief.priority is Priority.high
    assert item.brief.body == BODY and "---" not in item.brief.body
    problems = {Path(p.where).name: p.message for p in inputs.problems}
    assert "NUL bytes" in problems["nul.md"]
    assert "UTF-16" in problems["utf16.md"]
    assert "the limit is 20,000" in problems["big.md"]


def test_rows_are_parsed_like_briefs(tmp_path: Path) -> None:
    table = tmp_path / "briefs.jsonl"
    rows = [
        {"id": "nul", "brief": "Users export\u0000 invoices."},
        {"id": "title", "title": "Export\n## Injected", "brief": BODY},
        {"id": "long-title", "title": "T" * 10_000, "brief": BODY},
    ]
    table.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    inputs = load_inputs(str(table))
    assert [item.id for item in inputs.items] == ["title"]
    assert inputs.items[0].brief.title == "Export ## Injected"
    problems = [p.message for p in inputs.problems]
    assert any("NUL bytes" in m for m in problems)
    long = next(m for m in problems if "title" in m)
    assert "10,002 characters" in long and len(long) < 400
