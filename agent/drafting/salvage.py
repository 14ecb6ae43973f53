"""Keep a rejected answer's good items: after the last attempt, list items that fail a check are dropped.

A section is marked NEEDS ATTENTION when no attempt passes, and everything in it is lost. When the
last answer's only problems sit inside items of its lists (one filler condition among five
non-functional requirements, one smelly requirement among six), dropping those items keeps the rest of
the section, which a reviewer can read, instead of the whole section. Nothing is added or rewritten:
the trimmed answer is the model's own answer with items removed, and it must pass the schema (minimum
list lengths included) and every check again, or the section is marked as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

#: a problem located in an item of a top-level list, as the checks write it
#: (``non_functional_requirements[1].condition: ...``) or the schema (``functional_requirements.3: ...``)
_ITEM_PROBLEM = re.compile(r"^(?P<key>[A-Za-z_]\w*)(?:\[(?P<index>\d+)\]|\.(?P<position>\d+))(?=[.:\[])")


def drop_failing_items(data: dict[str, Any], problems: Sequence[str]) -> dict[str, Any] | None:
    """``data`` without the list items ``problems`` name, or None when a problem is not item-local.

    None also when a list would be left empty: a section without its items is not worth keeping.
    """
    if not problems:
        return None
    failing: dict[str, set[int]] = {}
    for problem in problems:
        match = _ITEM_PROBLEM.match(problem)
        if match is None:
            return None  # a problem of the whole answer (or of a plain field): nothing to drop
        failing.setdefault(match["key"], set()).add(int(match["index"] or match["position"]))
    trimmed = dict(data)
    for key, indexes in failing.items():
        items = data.get(key)
        if not isinstance(items, list) or max(indexes) >= len(items):
            return None
        kept = [item for index, item in enumerate(items) if index not in indexes]
        if not kept:
            return None
        trimmed[key] = kept
    return trimmed
