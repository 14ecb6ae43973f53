"""The template outline is parsed once per file content and parsed again when the file changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import TemplateError
from agent.specdoc.template_resolver import read_template_outline

TEMPLATE = "# [Title]\n\n## Overview\n[What is built]\n\n## Design\n### Data\n[Tables]\n"


def test_an_unchanged_template_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    path.write_text(TEMPLATE, encoding="utf-8")
    first = read_template_outline(path)
    assert read_template_outline(path) is first
    assert first.sections == (("Overview", ()), ("Design", ("Data",)))


def test_a_changed_template_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    path.write_text(TEMPLATE, encoding="utf-8")
    first = read_template_outline(path)
    stat = path.stat()
    # same size, same modification time as before would be indistinguishable: change both
    path.write_text(TEMPLATE.replace("## Design", "## Rollout plan"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = read_template_outline(path)
    assert second is not first
    assert [title for title, _ in second.sections] == ["Overview", "Rollout plan"]
    assert second.sha256 != first.sha256


def test_a_same_size_edit_with_the_same_mtime_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    path.write_text(TEMPLATE, encoding="utf-8")
    read_template_outline(path)
    stat = path.stat()
    path.write_text(TEMPLATE.replace("Design", "Rollup"), encoding="utf-8")  # same length
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same modification time
    assert path.stat().st_size == stat.st_size
    assert [title for title, _ in read_template_outline(path).sections] == ["Overview", "Rollup"]


def test_a_name_is_part_of_the_key(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    path.write_text(TEMPLATE, encoding="utf-8")
    assert read_template_outline(path).name == "t"
    assert read_template_outline(path, name="custom").name == "custom"


def test_a_deleted_template_is_an_error_not_a_stale_outline(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    path.write_text(TEMPLATE, encoding="utf-8")
    read_template_outline(path)
    path.unlink()
    with pytest.raises(TemplateError, match="does not exist"):
        read_template_outline(path)


def test_a_template_that_becomes_invalid_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    path.write_text(TEMPLATE, encoding="utf-8")
    read_template_outline(path)
    stat = path.stat()
    path.write_text("no sections at all\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(TemplateError, match="no '## ' sections"):
        read_template_outline(path)
