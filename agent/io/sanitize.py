"""Characters that never belong in a spec or on a terminal, and text made safe to print.

ESC starts terminal escape sequences (a model answer could clear the screen or retitle the window),
BEL rings, U+202E and the other bidi controls reorder text on screen so it reads differently from
what it is. Tab and newline are kept.
"""

from __future__ import annotations

import re

from agent.io.redact import redact

#: C0/C1 controls but tab and newline, DEL, zero-width and bidi controls, line/paragraph separators, BOM
CONTROL_CHARS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2064\u2066-\u2069\ufeff]"
)

#: lone UTF-16 surrogates: how Python carries undecodable bytes (surrogateescape); unencodable
SURROGATES = re.compile("[\ud800-\udfff]")


def for_terminal(text: str) -> str:
    """``text`` as specdraft prints it: secrets redacted, control and bidi characters removed (an ESC
    sequence loses its ESC, so the terminal shows the rest as text), lone surrogates shown as U+FFFD."""
    return SURROGATES.sub("\ufffd", CONTROL_CHARS.sub("", redact(text).replace("\r\n", "\n")))
