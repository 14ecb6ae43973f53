"""Loading feature briefs: front matter, titles, and every kind of bad input."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from agent.drafting.brief import MAX_BRIEF_CHARS, Priority, load_brief, parse_brief
from agent.errors import InputError


def _write(tmp_path: Path, content: str | bytes, name: str = "brief.md") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _refused(path: str | Path) -> str:
    with pytest.raises(InputError) as info:
        load_brief(path)
    assert info.value.exit_code == 2
    return str(info.value)


def test_front_matter_fields_and_extra_context(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "---\ntitle: Team invitations\npriority: high\nowner: Dana\nteam: growth\n"
        "platforms: [web, ios]\ndeadline: 2026-03-01\n---\n\nAdmins invite teammates by email.\n",
    )
    brief = load_brief(path)
    assert brief.title == "Team invitations"
    assert brief.priority is Priority.high
    assert brief.owner == "Dana"
    assert brief.context == {"team": "growth", "platforms": "web, ios", "deadline": "2026-03-01"}
    assert brief.body == "Admins invite teammates by email."
    assert brief.source == str(path)


def test_defaults_without_front_matter() -> None:
    brief = parse_brief("# Dark mode\n\nUsers want a dark theme.\n")
    assert brief.title == "Dark mode"
    assert brief.priority is Priority.medium
    assert brief.owner is None
    assert brief.context == {}


def test_title_falls_back_to_first_heading() -> None:
    brief = parse_brief("Some intro line without a heading.\n\n## Export to CSV ##\n\nDetails.\n")
    assert brief.title == "Export to CSV"


def test_title_falls_back_to_first_line() -> None:
    brief = parse_brief("Let admins export reports. They want CSV and PDF.\nMore text.\n")
    assert brief.title == "Let admins export reports"


def test_front_matter_title_wins_over_heading() -> None:
    assert (
        parse_brief("---\ntitle: From front matter\n---\n# From heading\ntext\n").title == "From front matter"
    )


def test_sha256_changes_with_content() -> None:
    one = parse_brief("# A\ntext one\n")
    assert one.sha256 == parse_brief("# A\ntext one\n").sha256
    assert one.sha256 != parse_brief("# A\ntext two\n").sha256
    assert one.sha256 != parse_brief("---\npriority: high\n---\n# A\ntext one\n").sha256


@pytest.mark.parametrize(("priority", "shown"), [("urgent", "'urgent'"), ("HIGH!", "'HIGH!'"), ("3", "3")])
def test_bad_priority_is_quoted(priority: str, shown: str) -> None:
    with pytest.raises(InputError) as info:
        parse_brief(f"---\npriority: {priority}\n---\nText.\n", source="b.md")
    message = str(info.value)
    assert "bad front matter" in message and "priority" in message
    assert f"(got {shown})" in message
    assert "low, medium, high" in message


def test_malformed_front_matter_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "---\ntitle: Invitations\nowner: Dana: Lee\n---\nText.\n")
    message = _refused(path)
    assert "malformed front matter on line 3" in message
    assert str(path) in message


def test_unclosed_front_matter(tmp_path: Path) -> None:
    message = _refused(_write(tmp_path, "---\ntitle: Invitations\n\nText without a closing rule.\n"))
    assert "front matter opened with '---' on line 1 is never closed" in message


def test_front_matter_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert "must be a mapping" in _refused(_write(tmp_path, "---\n- a\n- b\n---\nText.\n"))


def test_front_matter_without_text(tmp_path: Path) -> None:
    assert "has front matter but no text" in _refused(_write(tmp_path, "---\ntitle: X\n---\n\n  \n"))


@pytest.mark.parametrize("content", ["", "   ", "\n\n\t \n"])
def test_empty_or_whitespace(tmp_path: Path, content: str) -> None:
    assert "is empty" in _refused(_write(tmp_path, content))


def test_over_the_limit(tmp_path: Path) -> None:
    message = _refused(_write(tmp_path, "x" * (MAX_BRIEF_CHARS + 1)))
    assert "the limit is 20,000" in message
    assert "20,001 characters" in message
    # exactly at the limit is fine
    assert load_brief(_write(tmp_path, "y" * MAX_BRIEF_CHARS, "ok.md")).title.startswith("yyy")


def test_limit_counts_characters_not_bytes(tmp_path: Path) -> None:
    text = "é" * MAX_BRIEF_CHARS  # 40,000 bytes, 20,000 characters
    assert len(load_brief(_write(tmp_path, text)).body) == MAX_BRIEF_CHARS


def test_nul_bytes(tmp_path: Path) -> None:
    message = _refused(_write(tmp_path, b"# Title\n\x00\x01binary"))
    assert "looks binary" in message and "NUL" in message


def test_invalid_utf8(tmp_path: Path) -> None:
    message = _refused(_write(tmp_path, b"# Caf\xe9\nLatin-1 text\n"))
    assert "is not valid UTF-8" in message
    assert "offset 5" in message


def test_utf8_bom_and_crlf_accepted(tmp_path: Path) -> None:
    brief = load_brief(
        _write(tmp_path, "\ufeff---\r\ntitle: BOM\r\n---\r\nLine one\r\nLine two\r\n".encode())
    )
    assert brief.title == "BOM"
    assert brief.body == "Line one\nLine two"


def test_directory(tmp_path: Path) -> None:
    assert "is a directory" in _refused(tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    message = _refused(tmp_path / "nope.md")
    assert "does not exist" in message and "nope.md" in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "brief.fifo"
    os.mkfifo(fifo)
    assert "is not a regular file" in _refused(fifo)


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"# From stdin\nBody.\n")))
    brief = load_brief("-")
    assert brief.title == "From stdin"
    assert brief.source == "<stdin>"


def test_empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    assert "'<stdin>' is empty" in _refused("-")


def test_a_heading_of_only_whitespace_is_not_a_title() -> None:
    """Found by hypothesis: '# \\t\\r0' gave an empty title."""
    from agent.drafting.brief import parse_brief

    assert parse_brief("# \t\r0", source="x.md").title == "0"


@pytest.mark.parametrize(
    ("body", "vague"),
    [
        ("Dark mode for the settings page.", True),
        (" ".join(["Administrators invite colleagues by email."] * 8), False),
        # words with letters beyond ASCII are one word each, as any other
        (" ".join(["Änderungen übernehmen für große Teams."] * 7), True),
        (" ".join(["Änderungen übernehmen für große Teams."] * 8), False),
        # Chinese: about one word per two characters
        ("工作区管理员通过电子邮件邀请同事加入工作区。" * 2, True),
        ("工作区管理员通过电子邮件邀请同事加入工作区。" * 4, False),
    ],
)
def test_a_brief_is_vague_by_its_words_in_its_language(body: str, vague: bool) -> None:
    assert parse_brief(f"# Brief\n\n{body}\n").vague is vague
