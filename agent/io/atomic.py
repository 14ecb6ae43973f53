"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path

from agent.io.output import check_output_path

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (reading it means setting it, so under a lock and restored at once)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str, *, overwrite: bool = True) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename.

    With ``overwrite=False`` an existing file is left alone and an InputError raised; a special file
    (a device, a FIFO) is never replaced (agent.io.output.check_output_path).
    """
    check_output_path(path, overwrite=overwrite)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        _replace(Path(tmp_name), path)
    except BaseException:
        # Interrupted or failed: remove the temporary file so nothing half-written remains.
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def move_into_place(tmp: Path, path: Path) -> None:
    """Publish a finished temporary file (written and checked elsewhere) as ``path`` in one rename.

    ``tmp`` must be on the same file system as ``path`` (a temporary file beside it, or in a folder of the
    same store). Its bytes are flushed to disk first, so a crash right after the rename cannot leave a
    file that has the final name but not the content; the directory entry is flushed after it.
    """
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    _replace(tmp, path)
    with contextlib.suppress(OSError):
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _replace(tmp: Path, path: Path) -> None:
    with contextlib.suppress(OSError):
        # An existing file keeps its mode; a new one gets what open() would give it (0666 & ~umask),
        # not mkstemp's 0600.
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~current_umask()
        os.chmod(tmp, mode)
    os.replace(tmp, path)
