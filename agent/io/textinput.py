"""The ONE bounded reader of a user's text file (or stdin), with the checks every input shares.

Nothing is read whole before its size is known to be acceptable: at most ``max_bytes + 1`` bytes are
read from a file or from stdin, so ``yes | specdraft draft -`` or a brief that is a symlink to a
1 GB file is refused after a few kilobytes, not after filling memory.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from agent.errors import InputError, InputTooLargeError, NotRegularFileError

#: bytes read at most when a caller sets no character limit (a spec, a batch table)
DEFAULT_MAX_BYTES = 50_000_000
#: UTF-8 needs at most 4 bytes a character (CRs of CRLF line ends fit in the same allowance)
BYTES_PER_CHAR = 4


def byte_limit(max_chars: int | None, max_bytes: int | None = None) -> int:
    """The bytes read at most for a text of ``max_chars`` characters."""
    if max_bytes is not None:
        return max_bytes
    return max_chars * BYTES_PER_CHAR if max_chars is not None else DEFAULT_MAX_BYTES


def read_user_text(
    path: str | Path, *, what: str, max_chars: int | None = None, max_bytes: int | None = None
) -> tuple[str, str]:
    """Return ``(text, label)`` for a path, or stdin when ``path`` is ``-``; line ends become ``\\n``.

    Refuses, with a message naming the problem: a missing path, a directory, a FIFO or other special
    file, an unreadable file, input larger than the limit (found after reading at most limit + 1
    bytes), UTF-16/UTF-32 text, binary content (NUL bytes), text that is not UTF-8, and text longer
    than ``max_chars`` characters (counted after CRLF line ends become LF).
    """
    limit = byte_limit(max_chars, max_bytes)
    if str(path) == "-":
        label = "<stdin>"
        data = _read_at_most(sys.stdin.buffer, limit)
    else:
        label = str(path)
        data = _read_file(Path(path), label, what, limit)
    if len(data) > limit:
        allowed = f"{max_chars:,} characters" if max_chars is not None else f"{limit:,} bytes"
        raise InputTooLargeError(
            f"{what} '{label}' is larger than {limit:,} bytes; the limit is {allowed}.",
            hint="Shorten it to the essentials.",
        )
    text = decode_user_bytes(data, what=what, label=label)
    if max_chars is not None and len(text) > max_chars:
        raise InputTooLargeError(
            f"{what} '{label}' has {len(text):,} characters; the limit is {max_chars:,}.",
            hint="Shorten it to the essentials of the feature.",
        )
    return text, label


def read_user_bytes(path: str | Path, *, what: str, max_bytes: int, head: bool = False) -> bytes:
    """The bytes of a regular file, read by the same checks as :func:`read_user_text`.

    A directory, FIFO, socket or device is refused before it is opened for reading (NotRegularFileError),
    so a FIFO never blocks and ``/dev/zero`` is never read. At most ``max_bytes + 1`` bytes are read: a
    larger file is refused (InputTooLargeError), or with ``head`` its first ``max_bytes`` are returned.
    """
    label = str(path)
    data = _read_file(Path(path), label, what, max_bytes)
    if len(data) <= max_bytes:
        return data
    if head:
        return data[:max_bytes]
    raise InputTooLargeError(
        f"{what} '{label}' is larger than {max_bytes:,} bytes.", hint="Point at a smaller file."
    )


def decode_user_bytes(data: bytes, *, what: str, label: str) -> str:
    """UTF-8 text (a BOM dropped, CRLF and lone CR line ends made LF), or an InputError saying why not."""
    encoding = _utf16_or_32(data)
    if encoding is not None:
        raise InputError(
            f"{what} '{label}' is {encoding} text; specdraft reads UTF-8.",
            hint=f"Save it as UTF-8 (for example: iconv -f {encoding} -t UTF-8).",
        )
    if b"\x00" in data:
        raise InputError(f"{what} '{label}' looks binary (it contains NUL bytes); give a text file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what} '{label}' is not valid UTF-8 (bad byte at offset {exc.start}).",
            hint="Save the file as UTF-8 and try again.",
        ) from None
    # an editor that saved a BOM twice leaves one in the text: front matter must still start the file
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _utf16_or_32(data: bytes) -> str | None:
    """The name of a UTF-16/UTF-32 encoding the bytes are in (by BOM, or by NULs in every other byte)."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    sample = data[:4096]
    if len(sample) >= 8 and b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        # ASCII-range text in UTF-16: one half of the bytes is (almost) all NUL, the other half none
        for zeros, others in ((even, odd), (odd, even)):
            if zeros.count(0) >= 0.9 * len(zeros) and others.count(0) <= 0.1 * len(others):
                return "UTF-16"
    return None


def _read_at_most(stream: BinaryIO, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit + 1
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_file(file: Path, label: str, what: str, limit: int) -> bytes:
    try:
        mode = file.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{what} '{label}' does not exist.", hint="Check the path.") from None
    except OSError as exc:
        raise InputError(f"{what} '{label}' cannot be read: {exc.strerror}.") from None
    if stat.S_ISDIR(mode):
        raise NotRegularFileError(f"{what} '{label}' is a directory; give a file.")
    if not stat.S_ISREG(mode):  # a FIFO is never opened, so nothing blocks
        raise NotRegularFileError(f"{what} '{label}' is not a regular file (a FIFO, socket or device).")
    try:
        # O_NONBLOCK: should the path become a FIFO between stat and open, opening does not block.
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"{what} '{label}' cannot be read: {exc.strerror}.") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise NotRegularFileError(f"{what} '{label}' is not a regular file (a FIFO, socket or device).")
        try:
            return _read_at_most(handle, limit)
        except OSError as exc:
            raise InputError(f"{what} '{label}' cannot be read: {exc.strerror}.") from None
