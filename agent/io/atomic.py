"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from agent.errors import InputError


def atomic_write_text(path: Path, text: str, *, overwrite: bool = True) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename.

    With ``overwrite=False`` an existing file is left alone and an InputError raised.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(
            f"Output directory '{directory}' does not exist.",
            hint="Create it first, or choose another path with -o.",
        )
    if path.is_dir():
        raise InputError(f"Output path '{path}' is a directory; give a file name.")
    if not overwrite and path.exists():
        raise InputError(
            f"'{path}' already exists; not overwriting it.",
            hint="Pass --force to replace it, or choose another path with -o.",
        )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp_name, path.stat().st_mode & 0o777)
        os.replace(tmp_name, path)
    except BaseException:
        # Interrupted or failed: remove the temporary file so nothing half-written remains.
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
