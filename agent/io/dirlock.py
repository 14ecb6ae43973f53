"""An exclusive lock on a directory a command writes many files into (``batch -o DIR``).

The lock is ``flock`` on the directory itself, so nothing is left behind in it, and the kernel drops it
when the process ends however it ends. Where ``fcntl`` does not exist the lock is not taken.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from agent.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def directory_lock(directory: Path, *, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``directory``; InputError at once when another process holds it."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"Another {what} is writing to '{directory}'.",
                hint="Wait for it to finish, or choose another directory with -o.",
            ) from None
        yield
    finally:
        os.close(fd)
