"""Which spec an exported issue belongs to: the hidden marker in its body, and the spec's identity.

An issue is ours only when its body carries ``<!-- specdraft: spec=<id> task=T-001 -->`` with this
spec's identity: a ``[T-001]`` in a title proves nothing (another spec's tasks have the same IDs, and
anyone can open an issue titled "Question about [T-001]").
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

_MARKER = re.compile(r"<!-- specdraft: spec=(?P<spec>\S+) task=(?P<task>T-\d{3,}) -->")


def spec_identity(spec: Path, front_matter: dict[str, Any]) -> str:
    """The front matter's ``id`` when it has one, else the spec's path inside its git work tree (its
    file name outside one): stable across clones, distinct for two specs of one repository."""
    given = front_matter.get("id")
    if isinstance(given, str | int) and str(given).strip():
        return _token(str(given).strip())
    path = spec.resolve()
    root = _work_tree(path.parent)
    try:
        return _token(path.relative_to(root).as_posix() if root else path.name)
    except ValueError:  # the work tree reported elsewhere (a symlinked folder)
        return _token(path.name)


def marker(spec_id: str, task_id: str) -> str:
    return f"<!-- specdraft: spec={spec_id} task={task_id} -->"


def marked_task(body: object, spec_id: str) -> str | None:
    """The task ID of this spec's marker in an issue body (None when the body has none of ours)."""
    for match in _MARKER.finditer(body if isinstance(body, str) else ""):
        if match.group("spec") == spec_id:
            return match.group("task")
    return None


def _token(text: str) -> str:
    """One marker word: no white space, no ``-->`` (percent-encoded)."""
    return quote(text, safe="/._@:+~")


def _work_tree(folder: Path) -> Path | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out).resolve() if out else None
