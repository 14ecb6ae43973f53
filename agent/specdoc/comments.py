"""Review comments on a spec: ``spec.md.comments.jsonl`` next to the spec, one JSON object per line.

A reviewer asks for a change with a comment anchored to a ``##`` section and, optionally, a line (the
review page writes them; ``specdraft comments SPEC`` lists them; ``chat`` shows the open ones and
``refine --comment N`` addresses one). Records, appended under an exclusive ``fcntl`` lock and fsynced:

* ``{"op": "comment", "id": N, "at", "by", "text", "section", "line"}``
* ``{"op": "resolve", "id": N, "at", "by"}``

Plain text, so a comment can be read, grepped and committed with the spec. A file that cannot be read
is an InputError naming it and the line; nothing is moved or rewritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import InputError
from agent.io.clock import utc_timestamp
from agent.specdoc.document import SpecDocument

COMMENTS_SUFFIX = ".comments.jsonl"
MAX_COMMENT_CHARS = 4000
MAX_NAME_CHARS = 200
#: a comments file larger than this is refused rather than read into memory
MAX_FILE_BYTES = 20_000_000


def comments_path(spec: Path) -> Path:
    return spec.with_name(spec.name + COMMENTS_SUFFIX)


@dataclass(frozen=True)
class Comment:
    id: int
    at: str
    by: str
    text: str
    #: the ``##`` section the comment is about (None: the whole spec)
    section: str | None = None
    #: the 1-based file line it points at (None: the section as a whole)
    line: int | None = None
    #: who resolved it and when, once resolved
    resolved_by: str | None = None
    resolved_at: str | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def anchor(self) -> str:
        """Where the comment points, in words: "Overview, line 12", "line 3", "the whole spec"."""
        parts = [self.section] if self.section else []
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts) or "the whole spec"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "by": self.by,
            "text": self.text,
            "section": self.section,
            "line": self.line,
            "open": self.is_open,
            "resolved_by": self.resolved_by,
            "resolved_at": self.resolved_at,
        }


def _one_line(value: str, what: str, limit: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise InputError(f"The {what} is empty.", hint=f"Give the {what}.")
    if len(cleaned) > limit:
        raise InputError(f"The {what} has {len(cleaned):,} characters; the limit is {limit:,}.")
    return cleaned


def check_text(text: str) -> str:
    """The comment text, stripped; InputError when empty or over the limit."""
    cleaned = text.strip()
    if not cleaned:
        raise InputError("The comment is empty.", hint="Say what should change, and why.")
    if len(cleaned) > MAX_COMMENT_CHARS:
        raise InputError(
            f"The comment has {len(cleaned):,} characters; the limit is {MAX_COMMENT_CHARS:,}.",
            hint="Split it into several comments.",
        )
    return cleaned


def check_anchor(doc: SpecDocument, section: str | None, line: int | None) -> tuple[str | None, int | None]:
    """The section title as the spec spells it and the line; InputError when either is not in the spec."""
    last = doc.serialise().count("\n") + 1
    if line is not None and not 1 <= line <= last:
        raise InputError(f"Line {line} is not in {doc.source} (it has {last} lines).")
    if section is None or not section.strip():
        return (doc.section_at(line) or None, line) if line is not None else (None, None)
    found = doc.section(section)
    if found is None:
        titles = ", ".join(s.title for s in doc.sections)
        raise InputError(f"{doc.source} has no section '{section}'.", hint=f"Sections: {titles}.")
    return found.title, line


def _parse(lines: list[str], source: Path) -> list[Comment]:
    comments: dict[int, Comment] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            op, ident = obj.get("op"), obj.get("id")
            if not isinstance(ident, int):
                raise ValueError("'id' must be a number")
            if op == "comment":
                if not all(isinstance(obj.get(k), str) for k in ("at", "by", "text")):
                    raise ValueError("a comment needs string 'at', 'by' and 'text'")
                section, at_line = obj.get("section"), obj.get("line")
                if section is not None and not isinstance(section, str):
                    raise ValueError("'section' must be a string")
                if at_line is not None and not isinstance(at_line, int):
                    raise ValueError("'line' must be a number")
                comments[ident] = Comment(ident, obj["at"], obj["by"], obj["text"], section, at_line)
            elif op == "resolve" and ident in comments:
                old = comments[ident]
                comments[ident] = Comment(
                    old.id,
                    old.at,
                    old.by,
                    old.text,
                    old.section,
                    old.line,
                    str(obj.get("by")),
                    str(obj["at"]),
                )
            else:
                raise ValueError(f"unknown op {op!r} or unknown comment {ident}")
        except (ValueError, KeyError) as exc:
            raise InputError(
                f"{source}, line {number}: not a comment record ({exc}).",
                hint="Fix or remove that line; every other line is kept.",
            ) from None
    return list(comments.values())


class CommentStore:
    """The review comments of one spec file."""

    def __init__(self, spec: Path) -> None:
        self.spec = spec
        self.path = comments_path(spec)
        self._complete_bytes = 0

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        with open(self.path, "a+", encoding="utf-8", newline="\n") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _read(self, handle: Any) -> list[Comment]:
        handle.seek(0)
        text = handle.read(MAX_FILE_BYTES + 1)
        if len(text) > MAX_FILE_BYTES:
            raise InputError(f"{self.path} is over {MAX_FILE_BYTES:,} characters; not read.")
        # a torn last line (a writer killed mid-append) is not a record: the next append cuts it off
        complete = text[: text.rfind("\n") + 1]
        self._complete_bytes = len(complete.encode("utf-8"))
        return _parse(complete.split("\n"), self.path)

    def load(self) -> list[Comment]:
        """Every comment, oldest first (an empty list when the file does not exist)."""
        if not self.path.exists():
            return []
        try:
            with open(self.path, encoding="utf-8") as handle:
                return self._read(handle)
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"Cannot read the comments {self.path}: {exc}.") from None

    def open_comments(self) -> list[Comment]:
        return [c for c in self.load() if c.is_open]

    def _append(self, handle: Any, record: dict[str, Any]) -> None:
        handle.truncate(self._complete_bytes)  # called after _read under the same lock
        handle.seek(0, os.SEEK_END)
        handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        handle.flush()
        os.fsync(handle.fileno())

    def add(
        self, doc: SpecDocument, text: str, *, by: str, section: str | None = None, line: int | None = None
    ) -> Comment:
        """Append a comment anchored to ``section`` and/or ``line`` of ``doc`` (checked against it)."""
        body = check_text(text)
        who = _one_line(by, "reviewer's name", MAX_NAME_CHARS)
        title, at_line = check_anchor(doc, section, line)
        with self._locked() as handle:
            existing = self._read(handle)  # the id is chosen under the lock
            next_id = max((c.id for c in existing), default=0) + 1
            comment = Comment(next_id, utc_timestamp(), who, body, title, at_line)
            record = {"op": "comment", **{k: v for k, v in comment.to_dict().items() if k in _STORED}}
            self._append(handle, record)
        return comment

    def resolve(self, ident: int, *, by: str) -> Comment:
        """Mark comment ``ident`` resolved; InputError when there is no such open comment."""
        who = _one_line(by, "name", MAX_NAME_CHARS)
        with self._locked() as handle:
            found = next((c for c in self._read(handle) if c.id == ident), None)
            if found is None or not found.is_open:
                state = "no comment" if found is None else "already resolved: comment"
                raise InputError(
                    f"{self.spec} has {state} {ident}.", hint=f"`specdraft comments {self.spec}` lists them."
                )
            at = utc_timestamp()
            self._append(handle, {"op": "resolve", "id": ident, "at": at, "by": who})
        return Comment(found.id, found.at, found.by, found.text, found.section, found.line, who, at)

    def get_open(self, ident: int) -> Comment:
        """The open comment ``ident``; InputError naming the open ones when there is none."""
        comments = self.open_comments()
        for comment in comments:
            if comment.id == ident:
                return comment
        listed = ", ".join(str(c.id) for c in comments) or "none"
        raise InputError(f"{self.spec} has no open comment {ident} (open: {listed}).")


_STORED = ("id", "at", "by", "text", "section", "line")
