"""Reading a user's text file (or stdin) with the checks every input shares."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from agent.errors import InputError


def read_user_text(path: str | Path, *, what: str, max_chars: int | None = None) -> tuple[str, str]:
    """Return ``(text, label)`` for a path, or stdin when ``path`` is ``-``.

    Refuses, with a message naming the problem: a missing path, a directory, a FIFO or other special
    file, an unreadable file, binary content (NUL bytes), text that is not UTF-8, and text longer than
    ``max_chars``.
    """
    if str(path) == "-":
        data = sys.stdin.buffer.read()
        label = "<stdin>"
    else:
        file = Path(path)
        label = str(file)
        try:
            mode = file.stat().st_mode
        except FileNotFoundError:
            raise InputError(f"{what} '{label}' does not exist.", hint="Check the path.") from None
        except OSError as exc:
            raise InputError(f"{what} '{label}' cannot be read: {exc.strerror}.") from None
        if stat.S_ISDIR(mode):
            raise InputError(f"{what} '{label}' is a directory; give a file.")
        if not stat.S_ISREG(mode):
            raise InputError(f"{what} '{label}' is not a regular file (a FIFO, socket or device).")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise InputError(f"{what} '{label}' cannot be read: {exc.strerror}.") from None
    if b"\x00" in data:
        raise InputError(f"{what} '{label}' looks binary (it contains NUL bytes); give a text file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what} '{label}' is not valid UTF-8 (bad byte at offset {exc.start}).",
            hint="Save the file as UTF-8 and try again.",
        ) from None
    if max_chars is not None and len(text) > max_chars:
        raise InputError(
            f"{what} '{label}' has {len(text):,} characters; the limit is {max_chars:,}.",
            hint="Shorten it to the essentials of the feature.",
        )
    return text.replace("\r\n", "\n"), label
