"""What a spec's context says already exists, read back from the files its provenance lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.context.chunking import Facts, chunk_file
from agent.context.walk import MAX_FILE_BYTES
from agent.errors import InputError
from agent.io.paths import confine_recorded
from agent.io.textinput import read_user_bytes


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


def read_recorded_context(base: Path, reference: str) -> bytes:
    """The bytes of a context file a spec's front matter lists (``base``: the spec's folder), read by the
    one confinement and the one bounded reader: a path out of the spec's folder or work tree, a FIFO,
    a device or a file over the context's per-file limit is refused with an InputError."""
    path = confine_recorded(reference, base, what="context file")
    return read_user_bytes(path, what="Context file", max_bytes=MAX_FILE_BYTES)


def known_facts(front_matter: dict[str, Any], base: Path) -> Facts | None:
    """Endpoints and tables in the context files (as they are now); None when the spec has no context.
    A file that cannot be read safely (see :func:`read_recorded_context`) is left out."""
    entries = context_entries(front_matter)
    if not entries:
        return None
    facts = Facts()
    for entry in entries:
        try:
            text = read_recorded_context(base, entry["path"]).decode("utf-8")
        except (InputError, UnicodeDecodeError):
            continue
        chunk_file(entry["path"], text, facts)
    return facts
