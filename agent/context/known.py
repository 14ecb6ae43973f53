"""What a spec's context says already exists, read back from the files its provenance lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.context.chunking import Facts, chunk_file
from agent.context.walk import MAX_FILE_BYTES


def context_entries(front_matter: dict[str, Any]) -> list[dict[str, str]]:
    """The ``specdraft.context.files`` entries of a spec's front matter (malformed ones dropped)."""
    meta = front_matter.get("specdraft")
    context = meta.get("context") if isinstance(meta, dict) else None
    files = context.get("files") if isinstance(context, dict) else None
    if not isinstance(files, list):
        return []
    return [
        {"path": str(f["path"]), "sha256": str(f.get("sha256", ""))}
        for f in files
        if isinstance(f, dict) and isinstance(f.get("path"), str)
    ]


def known_facts(front_matter: dict[str, Any], base: Path) -> Facts | None:
    """Endpoints and tables in the context files (as they are now); None when the spec has no context."""
    entries = context_entries(front_matter)
    if not entries:
        return None
    facts = Facts()
    for entry in entries:
        path = base / entry["path"]
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        chunk_file(entry["path"], text, facts)
    return facts
