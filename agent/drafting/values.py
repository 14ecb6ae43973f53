"""Walking a section answer's values: every string with its path, and the text form checks compare.

The quality checks, the copy and repetition checks, grounding and the drafter's digests all walk an
answer the same way, so a problem names the same path (``endpoints[2].description``) wherever found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_WORD = re.compile(r"[a-z0-9]+")
_INDEX = re.compile(r"\[\d+\]")


def normalise(text: str) -> str:
    """Lower-case words only: what two values are compared by (case and punctuation do not count)."""
    return " ".join(_WORD.findall(text.lower()))


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
