"""The ONE check of a path a command is about to write: run before any model work, and again at write time.

Refused, with a message naming the path: a missing or unwritable directory, a directory in place of a
file, an existing file without ``--force``, a special file (a device such as /dev/null, a FIFO, a
socket) even with ``--force``, and a path that is one of the command's own inputs (``-o`` equal to
the brief would destroy the brief).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from agent.errors import InputError


def check_output_path(
    path: Path, *, overwrite: bool, inputs: Iterable[str | Path] = (), force_hint: str = "--force"
) -> None:
    """Raise InputError when writing ``path`` (a temporary file beside it, then a rename) cannot be right."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(
            f"Output directory '{directory}' does not exist.",
            hint="Create it first, or choose another path with -o.",
        )
    try:
        mode: int | None = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(f"Output path '{path}' cannot be used: {exc.strerror}.") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise InputError(f"Output path '{path}' is a directory; give a file name.")
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(
            f"Output path '{path}' is a special file (a device, FIFO or socket); specdraft writes "
            "only regular files and never replaces a special one, even with --force.",
            hint="Choose a file name with -o.",
        )
    for given in inputs:
        if str(given) == "-":
            continue
        if _same_file(path, Path(given)):
            raise InputError(
                f"Output path '{path}' is the input '{given}'; writing it would destroy the input.",
                hint="Choose another path with -o.",
            )
    if mode is not None and not overwrite:
        raise InputError(
            f"'{path}' already exists; not overwriting it.",
            hint=f"Pass {force_hint} to replace it, or choose another path with -o.",
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(
            f"Output directory '{directory}' is not writable.",
            hint="Choose another path with -o, or change the directory's permissions.",
        )


def check_output_dir(directory: Path) -> None:
    """A directory a command will create files in: it exists (or can be created) and is writable."""
    if directory.exists() and not directory.is_dir():
        raise InputError(f"Output path '{directory}' is a file; give a directory.")
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            f"Output directory '{existing}' is not writable.",
            hint="Choose another directory with -o, or change its permissions.",
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
