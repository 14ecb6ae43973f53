"""Repetition checks: a model looping on a phrase, repeating list items, or pasting one value everywhere.

What repeats legitimately must pass: SQL and other code repeat keywords and column definitions
(``created_at TIMESTAMPTZ NOT NULL DEFAULT now()`` in every table), so in code only words repeated back
to back (``id UUID, id UUID, id UUID``, the same line again and again) are a loop; and a typed value's
qualifier (the condition ``for the 95th percentile`` of every latency target) may repeat, as long as
the whole value (comparator, number, unit and condition) does not.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from agent.drafting.values import is_cjk, normalise, tokens

#: SQL statements, fenced code: a value holding them is code, whatever its field
_CODE = re.compile(
    r"```|\b(?:create|alter|drop)\s+(?:table|index|unique\s+index|type|view)\b|\binsert\s+into\b"
    r"|\bselect\b[^;]{0,200}\bfrom\b",
    re.IGNORECASE,
)
#: the longest repeating unit (words) looked for in code
_MAX_UNIT = 24


def looks_like_code(text: str) -> bool:
    return _CODE.search(text) is not None


def looping_phrase(text: str, *, n: int = 4, times: int = 3, code: bool = False) -> str | None:
    """The phrase ``text`` loops on, or None.

    In prose: the first phrase of ``n`` words that occurs ``times`` or more. In code (``code``, or
    text that holds SQL or a fence): a unit of two or more words repeated ``times`` times back to back.
    Words of any script count; Chinese and Japanese, written without spaces, are counted by character
    (see :func:`_cjk_loop`).
    """
    words = tokens(text)
    if code or looks_like_code(text):
        return _shown(_back_to_back(words, times))
    if sum(map(is_cjk, words)) * 2 > len(words):
        return _cjk_loop(words, n, times)
    if len(words) < n * times:
        return None
    grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    gram, count = grams.most_common(1)[0]
    return _shown(list(gram)) if count >= times else None


def _cjk_loop(chars: list[str], n: int, times: int) -> str | None:
    """A loop in text that is mostly Chinese or Japanese characters (a word is one to three of them).

    A phrase of ``2 * n`` characters (about ``n`` words) occurring ``times`` times, or any unit of two
    or more characters following itself ``times`` times (``系统将会系统将会系统将会``): good prose does
    neither (measured on tests/data/answers-zh/).
    """
    if unit := _back_to_back(chars, times):
        return _shown(_period(unit))
    size = 2 * n
    if len(chars) < size * times:
        return None
    grams = Counter(tuple(chars[i : i + size]) for i in range(len(chars) - size + 1))
    gram, count = grams.most_common(1)[0]
    return _shown(_period(list(gram))) if count >= times else None


def _period(unit: list[str]) -> list[str]:
    """The shortest unit a phrase is made of (``系统将会系统将会`` -> ``系统将会``)."""
    for size in range(1, len(unit)):
        if len(unit) % size == 0 and unit == unit[:size] * (len(unit) // size):
            return unit[:size]
    return unit


def _shown(words: list[str] | None) -> str | None:
    """A phrase as the re-ask quotes it: words joined by spaces, Chinese and Japanese characters by none."""
    if words is None:
        return None
    shown = ""
    for index, word in enumerate(words):
        joined = index == 0 or is_cjk(word) or is_cjk(words[index - 1])
        shown += word if joined else " " + word
    return shown


def _back_to_back(words: list[str], times: int) -> list[str] | None:
    """A unit of 2+ words that follows itself ``times`` times in a row (a tandem repeat)."""
    for unit in range(2, min(_MAX_UNIT, len(words) // times) + 1):
        run = 0
        for index in range(unit, len(words)):
            run = run + 1 if words[index] == words[index - unit] else 0
            if run >= (times - 1) * unit:
                start = index - run + 1 - unit
                return words[start : start + unit]
    return None


def repeated_items(value: Any, path: str = "") -> list[str]:
    """Problems for list items that repeat an earlier item of the same list (case and punctuation aside)."""
    problems: list[str] = []
    if isinstance(value, list) and path.endswith("covers"):
        return problems  # cited requirement IDs: a repeat is dropped by the model, not re-asked
    if isinstance(value, list):
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            key = (
                normalise(item)
                if isinstance(item, str)
                else normalise(repr(sorted(item.items())) if isinstance(item, dict) else repr(item))
            )
            if key and key in seen:
                problems.append(f"{path}[{index}]: repeats item {seen[key]}; every item must be different")
            else:
                seen[key] = index
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                problems.extend(repeated_items(item, f"{path}[{index}]"))
    elif isinstance(value, dict):
        for key, inner in value.items():
            problems.extend(repeated_items(inner, f"{path}.{key}" if path else key))
    return problems


def same_value_everywhere(
    data: dict[str, Any], skip: frozenset[str], limit: int = 3, asks: Mapping[str, str] | None = None
) -> list[str]:
    """One value pasted into ``limit`` or more fields ('text/javascript' as every security measure).

    A typed value (an object with a number or a flag: a performance target) counts as one value, so
    fields sharing only its condition are fine. Values inside lists (items) and keys in ``skip`` (choices,
    names) are not compared. ``asks`` (field key -> what the template asks in it) is restated for the
    fields concerned: a model that wrote one sentence everywhere, told only to vary it, wrote it again.
    """
    seen: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    for path, key, text in _whole_values(data, "", skip):
        seen.setdefault(key, []).append(path)
        shown[key] = text
    return [
        f"{paths[0]}: the same value {shown[key]!r} fills {len(paths)} fields ({', '.join(paths[:4])}); "
        "give each field its own content" + _what_each_asks(paths, asks or {})
        for key, paths in seen.items()
        if len(paths) >= limit
    ]


def _what_each_asks(paths: list[str], asks: Mapping[str, str]) -> str:
    """': api_testing: how API endpoints are tested; ...' for the fields whose template says what goes in."""
    said = []
    for path in paths[:6]:
        field = next((part for part in reversed(path.split(".")) if part in asks), None)
        if field and asks[field]:
            ask = asks[field]
            said.append(f"{field}: {ask[:1].lower() + ask[1:]}")
    return ": " + "; ".join(dict.fromkeys(said)) if said else ""


def _whole_values(value: Any, path: str, skip: frozenset[str]) -> list[tuple[str, str, str]]:
    """(path, what it is compared by, how it is shown) of every whole value of ``value``."""
    if isinstance(value, dict) and any(isinstance(v, int | float) for v in value.values()):
        shown = " ".join(str(v) for v in value.values() if v not in ("", None))
        return [(path, "record " + json.dumps(value, sort_keys=True), shown)]
    if isinstance(value, dict):
        found = []
        for key, inner in value.items():
            if key not in skip:
                found.extend(_whole_values(inner, f"{path}.{key}" if path else key, skip))
        return found
    if isinstance(value, str) and (norm := normalise(value)):
        return [(path, norm, norm)]
    return []  # lists: their items are compared with each other by repeated_items
