"""The one walk for Markdown files: hidden and dependency folders are never entered, and it is lazy."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from agent.integrations.mcp_server import MAX_LISTED_FILES, Workspace, _specs_under
from agent.io.markdown_walk import markdown_files

SPEC = "---\ntitle: Invites\ngenerator: specdraft\n---\n# Invites\n"


def _project(root: Path, vendored: int) -> None:
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "invites.md").write_text(SPEC, encoding="utf-8")
    (root / "README.md").write_text("# Project\n", encoding="utf-8")
    for folder in ("a/node_modules/pkg", ".git/x", "venv/lib", ".hidden"):
        (root / folder).mkdir(parents=True)
    for number in range(vendored):
        (root / "a" / "node_modules" / "pkg" / f"doc{number:04d}.md").write_text(SPEC, encoding="utf-8")
    (root / ".git" / "x" / "HEAD.md").write_text(SPEC, encoding="utf-8")
    (root / "venv" / "lib" / "LICENSE.md").write_text(SPEC, encoding="utf-8")
    (root / ".hidden" / "secret.md").write_text(SPEC, encoding="utf-8")
    (root / ".notes.md").write_text(SPEC, encoding="utf-8")


def test_only_the_project_own_markdown_is_walked(tmp_path: Path) -> None:
    _project(tmp_path, vendored=3)
    found = [p.relative_to(tmp_path).as_posix() for p in markdown_files(tmp_path)]
    assert found == ["README.md", "docs/invites.md"]


def test_the_walk_is_lazy(tmp_path: Path) -> None:
    _project(tmp_path, vendored=0)
    walk = markdown_files(tmp_path)
    assert [p.name for p in islice(walk, 1)] == ["README.md"]


def test_mcp_specs_list_finds_a_spec_behind_many_vendored_files(tmp_path: Path) -> None:
    """A dependency folder sorted first with more Markdown than the list looks at hid the project's specs."""
    _project(tmp_path, vendored=MAX_LISTED_FILES + 20)
    assert _specs_under(Workspace(tmp_path)) == ["docs/invites.md"]
