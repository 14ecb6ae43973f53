"""What was exported, kept next to the spec (``spec.md.exports.json``), never inside its signed body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.errors import InputError
from agent.io.atomic import atomic_write_text


def records_path(spec: Path) -> Path:
    return spec.with_name(spec.name + ".exports.json")


def read_records(spec: Path) -> dict[str, Any]:
    path = records_path(spec)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            f"Cannot read export records '{path}': {exc}", hint="Move the file aside and retry."
        ) from None
    return data if isinstance(data, dict) else {}


def record_issue(spec: Path, target: str, task_id: str, entry: dict[str, Any]) -> None:
    """Add one exported task at once, so an interrupted run resumes without duplicates."""
    data = read_records(spec)
    data.setdefault(target, {})[task_id] = entry
    atomic_write_text(records_path(spec), json.dumps(data, indent=2, sort_keys=True) + "\n")
