"""Keep a rejected answer's good parts: after the last attempt, failing list items are dropped and text
fields that said nothing for this feature become questions to the brief's author.

A section is marked NEEDS ATTENTION when no attempt passes, and everything in it is lost. When the last
answer's only problems sit inside items of its lists (one filler condition among five non-functional
requirements, one smelly requirement among six), dropping those items keeps the rest of the section. When
they sit in a few text fields that only restate the template or say nothing specific (a rate limiter's
"Database Sharding", which the brief never mentions), those fields become ``[NEEDS CLARIFICATION: ...]``
markers, the form the prompt offers the model for what the brief does not say, and lint counts them as
open questions. Nothing the model wrote is rewritten: items are removed and fields replaced by our marker
whole. The salvaged answer must pass the schema and every check again, or the section is marked as before.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

#: a problem located in an item of a top-level list, as the checks write it
#: (``non_functional_requirements[1].condition: ...``) or the schema (``functional_requirements.3: ...``)
_ITEM_PROBLEM = re.compile(r"^(?P<key>[A-Za-z_]\w*)(?:\[(?P<index>\d+)\]|\.(?P<position>\d+))(?=[.:\[])")
#: a text field in a group (``horizontal_scaling.database_sharding: ...``) that answered nothing for this
#: feature, as agent.drafting.quality words it: filler, or the template's own text
_UNANSWERED_FIELD = re.compile(
    r"^(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+): (?:says nothing specific about the feature"
    r"|copies the template's instruction|contains the template's text"
    r"|only rewords the template's instruction)"
)
#: more unanswered fields than this and the section is marked: a section of questions is no draft
MAX_QUESTIONED_FIELDS = 2


def salvage(data: dict[str, Any], problems: Sequence[str]) -> dict[str, Any] | None:
    """``data`` without the list items ``problems`` name and with the unanswered fields they name asked as
    questions; None when a problem is neither, a list would be left empty, or too many fields are unanswered.
    """
    if not problems:
        return None
    failing_items: dict[str, set[int]] = {}
    unanswered: list[str] = []
    for problem in problems:
        if match := _ITEM_PROBLEM.match(problem):
            failing_items.setdefault(match["key"], set()).add(int(match["index"] or match["position"]))
        elif match := _UNANSWERED_FIELD.match(problem):
            unanswered.append(match["path"])
        else:
            return None  # a problem of the whole answer: nothing to keep apart
    unanswered = list(dict.fromkeys(unanswered))
    if len(unanswered) > MAX_QUESTIONED_FIELDS:
        return None
    kept = _without_items(data, failing_items)
    if kept is None:
        return None
    for path in unanswered:
        if not _ask_instead(kept, path.split(".")):
            return None
    return kept


def _without_items(data: dict[str, Any], failing: dict[str, set[int]]) -> dict[str, Any] | None:
    trimmed = copy.deepcopy(data)
    for key, indexes in failing.items():
        items = data.get(key)
        if not isinstance(items, list) or max(indexes) >= len(items):
            return None
        kept = [item for index, item in enumerate(items) if index not in indexes]
        if not kept:
            return None
        trimmed[key] = kept
    return trimmed


def _ask_instead(data: dict[str, Any], keys: list[str]) -> bool:
    """Replace the text at ``keys`` with a question naming its field; False when no prose text is there."""
    holder: Any = data
    for key in keys[:-1]:
        holder = holder.get(key) if isinstance(holder, dict) else None
    if not isinstance(holder, dict) or not isinstance(holder.get(keys[-1]), str):
        return False
    if any(isinstance(value, int | float) for value in holder.values()):
        return (
            False  # part of a measurable target (a condition, a unit): the target is kept whole or not at all
        )
    # typed items hold their text under "text": the field is the key above it
    field = keys[-2] if keys[-1] == "text" and len(keys) > 1 else keys[-1]
    label = field.replace("_", " ")
    holder[keys[-1]] = (
        f"[NEEDS CLARIFICATION: what does this feature need for {label}, if anything? "
        "The draft had nothing specific to say]"
    )
    return True
