"""The history of accepted changes to a spec: ``spec.md.history.jsonl`` next to the spec.

One JSON object per line, appended under an exclusive ``fcntl`` lock and fsynced, so two sessions on
one spec never interleave lines and an accepted change survives the process being killed. Records:

* ``{"op": "apply", "id": N, "at", "instruction", "sections": [{"title", "before", "after"}]}``
* ``{"op": "undo", "id": N, "at"}`` / ``{"op": "redo", "id": N, "at"}``

``before``/``after`` are a section's exact text (heading line included), so undo and redo restore the
file byte for byte. The undo and redo stacks are replayed from the file, so they work across sessions.
A torn last line (the process killed in the middle of an append) is cut off with a warning and every
complete line kept; a journal that cannot be read otherwise is moved aside (``.corrupt-<time>``) with
a warning; the spec is kept.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.errors import InputError, JournalCorrupt
from agent.io.clock import utc_timestamp
from agent.io.textinput import DEFAULT_MAX_BYTES, read_user_bytes

JOURNAL_SUFFIX = ".history.jsonl"


def journal_path(spec: Path) -> Path:
    return spec.with_name(spec.name + JOURNAL_SUFFIX)


@dataclass(frozen=True)
class SectionEdit:
    title: str
    before: str
    after: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Entry:
    """One accepted change."""

    id: int
    at: str
    instruction: str
    sections: tuple[SectionEdit, ...]

    @property
    def titles(self) -> list[str]:
        return [s.title for s in self.sections]


@dataclass
class History:
    entries: dict[int, Entry] = field(default_factory=dict)
    #: ids of applied changes, oldest first (the last one is what /undo reverts)
    done: list[int] = field(default_factory=list)
    #: ids of undone changes, the last one is what /redo re-applies
    undone: list[int] = field(default_factory=list)

    @property
    def next_id(self) -> int:
        return max(self.entries, default=0) + 1


def _parse_entry(obj: dict[str, Any]) -> Entry:
    sections = obj["sections"]
    if not isinstance(sections, list) or not sections:
        raise ValueError("'sections' must be a non-empty list")
    edits = []
    for item in sections:
        if not all(isinstance(item.get(k), str) for k in ("title", "before", "after")):
            raise ValueError("each section needs string 'title', 'before' and 'after'")
        edits.append(SectionEdit(item["title"], item["before"], item["after"]))
    if not isinstance(obj["id"], int) or not isinstance(obj.get("instruction"), str):
        raise ValueError("'id' must be a number and 'instruction' a string")
    return Entry(obj["id"], str(obj.get("at", "")), obj["instruction"], tuple(edits))


def replay(lines: list[str]) -> History:
    """The history a journal's lines describe (JournalCorrupt when a line makes no sense)."""
    history = History()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            op = obj.get("op")
            if op == "apply":
                entry = _parse_entry(obj)
                if entry.id in history.entries:
                    raise ValueError(f"change {entry.id} recorded twice")
                history.entries[entry.id] = entry
                history.done.append(entry.id)
                history.undone.clear()
            elif op == "undo":
                if not history.done or history.done[-1] != obj.get("id"):
                    raise ValueError(f"undo of change {obj.get('id')} which is not the last applied")
                history.undone.append(history.done.pop())
            elif op == "redo":
                if not history.undone or history.undone[-1] != obj.get("id"):
                    raise ValueError(f"redo of change {obj.get('id')} which is not the last undone")
                history.done.append(history.undone.pop())
            else:
                raise ValueError(f"unknown op {op!r}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise JournalCorrupt(number, str(exc)) from None
    return history


class Journal:
    """The journal of one spec file."""

    def __init__(self, spec: Path) -> None:
        self.spec = spec
        self.path = journal_path(spec)
        #: set when a corrupt journal was moved aside on load
        self.warning: str | None = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        with open(self.path, "a+", encoding="utf-8", newline="\n") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def load(self) -> History:
        """Read the history; a corrupt journal is moved aside (see ``warning``) and an empty one returned."""
        if not self.path.exists():
            return History()
        try:
            # the bounded reader: a FIFO or device in the journal's place is moved aside, never read
            text = read_user_bytes(self.path, what="History", max_bytes=DEFAULT_MAX_BYTES).decode("utf-8")
            if text and not text.endswith("\n"):
                text = self._cut_torn_tail(text)
            return replay(text.split("\n"))
        except (OSError, UnicodeDecodeError, JournalCorrupt, InputError) as exc:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            os.replace(self.path, aside)
            self.warning = (
                f"Warning: the history {self.path.name} could not be read ({exc}); moved it to {aside.name} "
                "and started a new one. The spec itself is unchanged; undo cannot reach earlier changes."
            )
            return History()

    def _cut_torn_tail(self, text: str) -> str:
        """Drop an incomplete last line (no newline, not JSON) and keep the complete lines before it.

        The file is truncated under the lock, so the next append starts on a line of its own.
        """
        last = text.rsplit("\n", 1)[-1]
        try:
            json.loads(last)
        except ValueError:
            pass
        else:  # complete but missing its newline: end the line, so the next append starts anew
            with self._locked() as handle:
                handle.seek(0)
                if handle.read() == text:
                    handle.write("\n")
                    handle.flush()
            return text + "\n"
        kept = text[: len(text) - len(last)]
        with self._locked() as handle:
            handle.seek(0)
            if handle.read() == text:  # nobody appended meanwhile
                handle.truncate(len(kept.encode("utf-8")))
                handle.flush()
                os.fsync(handle.fileno())
        self.warning = (
            f"Warning: the last line of the history {self.path.name} was incomplete (a write was cut "
            f"off); dropped it and kept the {kept.count(chr(10))} complete line(s) before it."
        )
        return kept

    def _append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._locked() as handle:
            handle.seek(0, os.SEEK_END)
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def record_apply(self, instruction: str, sections: list[SectionEdit]) -> Entry:
        self.load()  # a corrupt journal is moved aside before anything is appended to it
        with self._locked() as handle:
            handle.seek(0)
            history = replay(handle.read().split("\n"))  # the id is chosen under the lock
            entry = Entry(history.next_id, utc_timestamp(), instruction, tuple(sections))
            record = {
                "op": "apply",
                "id": entry.id,
                "at": entry.at,
                "instruction": instruction,
                "sections": [s.as_dict() for s in sections],
            }
            handle.seek(0, os.SEEK_END)
            handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return entry

    def record_undo(self, entry_id: int) -> None:
        self._append({"op": "undo", "id": entry_id, "at": utc_timestamp()})

    def record_redo(self, entry_id: int) -> None:
        self._append({"op": "redo", "id": entry_id, "at": utc_timestamp()})
