"""The prompt's worked examples (prompts/examples.yaml): one small filled field per tech-spec section.

All of them describe one feature unrelated to any brief (a password reset by email). The section
prompt shows its section's example; the copy check compares answers with it (``example_values``), and
the words the examples keep coming back to (``example_topic``: *password*, *reset*, *mail*, ...) tell
an answer about the example's feature from one that merely shares a technical word with it.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from agent.drafting.values import iter_strings, leaf_key
from agent.io.resources import resource_dir
from agent.specdoc.frontmatter import load_yaml
from agent.specdoc.grounding import content_stems, is_generic

#: a word is one of the example feature's own when the examples of this many sections use it
TOPIC_SECTIONS = 5
#: example values that are codes or choices, not prose
_CODED = frozenset({"covers", "unit", "comparator", "category", "method", "change", "type", "path", "name"})


@lru_cache(maxsize=1)
def _examples() -> dict[str, dict[str, Any]]:
    data = load_yaml((resource_dir("prompts") / "examples.yaml").read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def example_values(section_key: str) -> list[str]:
    """Every string of the section's prompt example (an answer copying one is rejected)."""
    return [value for _, value in iter_strings(_examples().get(section_key, {}))]


def all_example_values() -> list[str]:
    """Every string of every section's prompt example (for measuring copies across a whole spec)."""
    return [value for key in _examples() for value in example_values(key)]


def example_for(section_key: str, model: type[BaseModel]) -> str:
    """The example shown in the section's prompt: its first field, as ``"path": value``."""
    example = _examples().get(section_key)
    if not isinstance(example, dict) or not example:
        return ""
    path, value = next(iter(example.items()))
    top = str(path).split(".", 1)[0]
    if top not in model.model_fields:
        return ""
    return f'"{path}": {json.dumps(value, ensure_ascii=False)}'


@lru_cache(maxsize=1)
def example_topic() -> dict[str, int]:
    """The example feature's own words: specific stems the examples of many sections use, with the
    number of sections using each (*reset* 11, *email* 7, *link* 6, *minutes* 5).

    Computed, not listed, so a new examples file brings its own topic. Generic words (*users*,
    *request*) and numbers are left out: any feature uses them.
    """
    counts: Counter[str] = Counter()
    for example in _examples().values():
        # prose only: cited IDs (FR-001) and units (ms) are not what the feature is about
        text = " ".join(value for path, value in iter_strings(example) if leaf_key(path) not in _CODED)
        counts.update({s for s in content_stems(text) if not is_generic(s) and not s.isdigit()})
    return {stem: n for stem, n in counts.most_common() if n >= TOPIC_SECTIONS}
