"""YAML front matter: ``---`` lines around a YAML mapping at the very top of a Markdown file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from agent.errors import InputError


@dataclass(frozen=True)
class FrontMatter:
    data: dict[str, Any]
    body: str
    #: 1-based line number in the original text where the body starts
    body_line: int
    #: whether the text had a front-matter block at all
    present: bool


def split_front_matter(text: str, *, source: str = "input") -> FrontMatter:
    """Split ``text`` into its front-matter mapping and body.

    Raises InputError naming the line when the block is not closed or not a YAML mapping.
    """
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return FrontMatter({}, text, 1, False)
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            raw = "".join(lines[1:index])
            body = "".join(lines[index + 1 :])
            return FrontMatter(_load_mapping(raw, source), body, index + 2, True)
    raise InputError(
        f"{source}: front matter opened with '---' on line 1 is never closed.",
        hint="Add a line with '---' after the front-matter keys.",
    )


def _load_mapping(raw: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" on line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(
            f"{source}: malformed front matter{where}: {problem}.",
            hint="Front matter is YAML between two '---' lines, e.g. 'title: My feature'.",
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            f"{source}: front matter must be a mapping of keys to values, not {type(data).__name__}.",
            hint="Write it as 'key: value' lines between two '---' lines.",
        )
    return {str(key): value for key, value in data.items()}


def dump_front_matter(data: dict[str, Any]) -> str:
    """Render a mapping as a front-matter block (keys kept in insertion order)."""
    dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{dumped}---\n"
