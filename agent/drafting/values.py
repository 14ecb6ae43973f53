"""Walking a section answer's values: every string with its path, and the text form checks compare.

The quality checks, the copy and repetition checks, grounding and the drafter's digests all walk an
answer the same way, so a problem names the same path (``endpoints[2].description``) wherever found.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from agent.specdoc.wordstems import CJK_CHARACTERS

# words of any script (letters and digits; on ASCII text exactly [a-z0-9]+ after lower-casing)
_WORD = re.compile(r"[^\W_]+")
# the same, but each Chinese or Japanese character is a word of its own (they have no spaces)
_TOKEN = re.compile(rf"[{CJK_CHARACTERS}]|(?:(?![{CJK_CHARACTERS}])[^\W_])+")
_CJK = re.compile(f"[{CJK_CHARACTERS}]")
_INDEX = re.compile(r"\[\d+\]")


def normalise(text: str) -> str:
    """Lower-case words only: what two values are compared by (case and punctuation do not count).

    Words of any script count (``Größe``, ``邀请链接``); NFKC folds full-width forms (``ＡＰＩ`` is ``api``).
    """
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).lower()))


def tokens(text: str) -> list[str]:
    """The lower-cased words of ``text`` in any script, each Chinese or Japanese character one word:
    the units a repeated phrase is counted in."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def is_cjk(token: str) -> bool:
    """Whether a token of :func:`tokens` is a Chinese or Japanese character."""
    return _CJK.fullmatch(token) is not None


def iter_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (path, string) for every string in a JSON-like value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from iter_strings(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from iter_strings(inner, f"{path}[{index}]")


def leaf_key(path: str) -> str:
    """The key a value sits under: ``tables[0].columns[1].name`` -> ``name``."""
    return _INDEX.sub("", path.rsplit(".", 1)[-1])


def top_key(path: str) -> str:
    """The section field a value belongs to: ``tables[0].name`` -> ``tables``."""
    return _INDEX.sub("", path.split(".", 1)[0])
