"""The history page's diffs: each change in the chat/refine journal, and the approved text against now.

Side by side, row by row (``difflib``): the template escapes every cell, so a diff shows text, never markup.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from agent.errors import JournalCorrupt
from agent.io.journal import Journal, replay
from agent.web.roots import SpecRef

RowKind = Literal["same", "changed", "added", "removed", "gap"]
#: unchanged lines kept around each change
CONTEXT_LINES = 3


@dataclass(frozen=True)
class Row:
    kind: RowKind
    left_no: int | None
    left: str
    right_no: int | None
    right: str


@dataclass(frozen=True)
class Revision:
    id: int
    at: str
    instruction: str
    state: str  # "applied" or "undone"
    sections: list[tuple[str, list[Row]]]


def side_by_side(before: str, after: str, *, first_line: int = 1) -> list[Row]:
    """Rows of a side-by-side diff with CONTEXT_LINES unchanged lines around each change."""
    old, new = before.splitlines(), after.splitlines()
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(CONTEXT_LINES):
        if rows:
            rows.append(Row("gap", None, "...", None, "..."))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    Row("same", first_line + i, old[i], first_line + j, new[j])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                left = (first_line + i, old[i]) if i < i2 else (None, "")
                right = (first_line + j, new[j]) if j < j2 else (None, "")
                kind: RowKind = "changed" if i < i2 and j < j2 else ("removed" if i < i2 else "added")
                rows.append(Row(kind, left[0], left[1], right[0], right[1]))
    return rows


def revisions(ref: SpecRef) -> tuple[list[Revision], str | None]:
    """The journal's changes, newest first, and a problem reading it (the journal is never moved here)."""
    journal = Journal(ref.path)
    if not journal.path.exists():
        return [], None
    try:
        text = journal.path.read_text(encoding="utf-8")
        complete = text[: text.rfind("\n") + 1]  # a torn last line is not a change yet
        history = replay(complete.split("\n"))
    except (OSError, UnicodeDecodeError, JournalCorrupt) as exc:
        return [], f"The history {journal.path.name} cannot be read: {exc}"
    found = []
    for entry in history.entries.values():
        state = "undone" if entry.id in history.undone else "applied"
        sections = [(edit.title, side_by_side(edit.before, edit.after)) for edit in entry.sections]
        found.append(Revision(entry.id, entry.at, entry.instruction, state, sections))
    return sorted(found, key=lambda r: r.id, reverse=True), None
