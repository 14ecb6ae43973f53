"""Batch inputs: a directory, a glob, a JSONL or a CSV file -> briefs with stable ids.

A malformed row or file is reported with its line or name and skipped; the rest still run.
JSONL and CSV rows share the columns ``id``, ``title``, ``brief`` (or ``body``), ``priority``,
``owner``; any other column is kept as context for the prompt.
"""

from __future__ import annotations

import csv
import glob
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.drafting.brief import (
    BRIEF_SUFFIXES,
    MAX_BRIEF_CHARS,
    Brief,
    BriefMeta,
    load_brief,
    parse_brief,
)
from agent.errors import InputError
from agent.io.textinput import read_user_text
from agent.io.validation import validation_message

MAX_TABLE_BYTES = 50_000_000
_KNOWN = {"id", "title", "brief", "body", "priority", "owner"}


@dataclass(frozen=True)
class BatchItem:
    id: str
    brief: Brief


@dataclass(frozen=True)
class InputProblem:
    where: str  # "briefs.jsonl:7" or a file name
    message: str


@dataclass
class BatchInputs:
    items: list[BatchItem] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)


def load_inputs(source: str) -> BatchInputs:
    """Read every brief named by ``source``; raise InputError only when nothing can be read at all."""
    path = Path(source).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and _is_brief_file(p))
        inputs = _from_files(files, base=path)
        if not files:
            raise InputError(
                f"Directory '{source}' has no .md or .txt briefs.", hint="Point batch at a folder of briefs."
            )
    elif path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            inputs = _from_jsonl(path)
        elif suffix == ".csv":
            inputs = _from_csv(path)
        else:
            inputs = _from_files([path], base=path.parent)
    elif any(ch in source for ch in "*?["):
        matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
        files = [p for p in matches if p.is_file() and not p.name.startswith(".")]
        if not files:
            raise InputError(
                f"The pattern '{source}' matches no files.", hint="Quote the pattern so the shell keeps it."
            )
        inputs = _from_files(files, base=_glob_base(source))
    else:
        raise InputError(
            f"'{source}' does not exist.",
            hint="Give a directory of briefs, a glob such as 'rfcs/**/*.md', a .jsonl or a .csv file.",
        )
    _drop_duplicate_ids(inputs)
    return inputs


def _is_brief_file(path: Path) -> bool:
    return not path.name.startswith(".") and path.suffix.lower() in BRIEF_SUFFIXES


def _glob_base(pattern: str) -> Path:
    """The directory part of a glob before its first wildcard (ids are relative to it)."""
    parts = Path(pattern).expanduser().parts
    fixed: list[str] = []
    for part in parts:
        if any(ch in part for ch in "*?["):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _from_files(files: list[Path], *, base: Path) -> BatchInputs:
    inputs = BatchInputs()
    for file in files:
        try:
            relative = file.relative_to(base)
        except ValueError:
            relative = Path(file.name)
        identifier = relative.with_suffix("").as_posix()
        try:  # the same reader and parser as `specdraft draft`: same limits, same refusals
            inputs.items.append(BatchItem(identifier, load_brief(file)))
        except InputError as exc:
            inputs.problems.append(InputProblem(str(file), exc.message))
    return inputs


def _read_table(path: Path) -> str:
    text, _label = read_user_text(path, what="Batch input", max_bytes=MAX_TABLE_BYTES)
    return text


def _from_jsonl(path: Path) -> BatchInputs:
    inputs = BatchInputs()
    for number, line in enumerate(_read_table(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            inputs.problems.append(InputProblem(where, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(row, dict):
            inputs.problems.append(InputProblem(where, "not a JSON object"))
            continue
        _add_row(inputs, row, where, default_id=f"line-{number}")
    return inputs


def _from_csv(path: Path) -> BatchInputs:
    inputs = BatchInputs()
    reader = csv.DictReader(io.StringIO(_read_table(path), newline=""))
    fields = [name.strip().lower() for name in (reader.fieldnames or [])]
    if "brief" not in fields and "body" not in fields:
        raise InputError(
            f"'{path}' has no 'brief' column (found: {', '.join(fields) or 'nothing'}).",
            hint="The first row names the columns: id,title,brief,priority,owner.",
        )
    try:
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row:
                inputs.problems.append(InputProblem(where, f"has more cells than the {len(fields)} columns"))
                continue
            cleaned = {str(k).strip().lower(): v for k, v in row.items() if v is not None}
            if len(cleaned) < len(fields):
                inputs.problems.append(InputProblem(where, f"has fewer cells than the {len(fields)} columns"))
                continue
            _add_row(inputs, cleaned, where, default_id=f"row-{reader.line_num}")
    except csv.Error as exc:
        inputs.problems.append(
            InputProblem(f"{path}:{reader.line_num}", f"unreadable CSV ({exc}); stopped here")
        )
    return inputs


def _add_row(inputs: BatchInputs, row: dict[str, Any], where: str, *, default_id: str) -> None:
    try:
        inputs.items.append(BatchItem(_row_id(row, default_id), _row_brief(row, where)))
    except InputError as exc:
        inputs.problems.append(InputProblem(where, exc.message))


def _row_id(row: dict[str, Any], default: str) -> str:
    raw = row.get("id")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    if not isinstance(raw, str | int):
        raise InputError(f"'id' must be a string or a number (got {type(raw).__name__})")
    return str(raw).strip()


def _row_brief(row: dict[str, Any], where: str) -> Brief:
    body = row.get("brief", row.get("body"))
    if not isinstance(body, str) or not body.strip():
        raise InputError("has no 'brief' text")
    if len(body) > MAX_BRIEF_CHARS:
        raise InputError(f"'brief' has {len(body):,} characters; the limit is {MAX_BRIEF_CHARS:,}")
    meta_fields = {key: row[key] for key in ("title", "priority", "owner") if row.get(key) not in (None, "")}
    try:
        meta = BriefMeta.model_validate(meta_fields)
    except ValidationError as exc:
        raise InputError(validation_message(exc)) from None
    parsed = parse_brief(body, source=where)  # front matter in the text is honoured too
    context = dict(parsed.context)
    for key, value in row.items():
        if key not in _KNOWN and value not in (None, ""):
            context[str(key)] = value if isinstance(value, str) else json.dumps(value)
    return Brief(
        title=meta.title or parsed.title,
        body=parsed.body,
        priority=meta.priority if "priority" in meta_fields else parsed.priority,
        owner=meta.owner or parsed.owner,
        context=context,
        source=where,
    )


def _drop_duplicate_ids(inputs: BatchInputs) -> None:
    seen: dict[str, str] = {}
    kept: list[BatchItem] = []
    for item in inputs.items:
        if item.id in seen:
            inputs.problems.append(
                InputProblem(item.brief.source, f"repeats the id {item.id!r} of {seen[item.id]}; skipped")
            )
            continue
        seen[item.id] = item.brief.source
        kept.append(item)
    inputs.items = kept
