"""Literal alternatives written as one prefix-factored expression (a trie).

``re`` tries the branches of ``(?:ms|milliseconds?|minutes?|...)`` one after another at every position
it looks at; factored by their first letters (``m(?:s|illiseconds?|inutes?)``), a position is tried
against a few letters instead of every alternative. The smell word filters and the grounding number
expression run on every line of every spec, so this is where lint spends less.

A factored expression finds the same texts as the plain alternation. Where the plain one's order of
alternatives matters (a shorter alternative that is a prefix of a longer one), the factored one tries
the longer first: callers use it where at most one alternative can end where the rest of their
expression then matches (as in whole words followed by ``\\b``), or only ask whether any matches.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

_Trie = dict[str, "_Trie"]


def literal_trie(alternatives: Iterable[str]) -> str:
    """The expression source matching any of ``alternatives`` (literal text; case as given); with none,
    one that matches nothing (an empty expression would match everywhere)."""
    trie: _Trie = {}  # a character -> the trie of what may follow it; "" marks an alternative's end
    for alternative in alternatives:
        node = trie
        for char in alternative:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: _Trie) -> str:
        ends_here = "" in node
        choices = [re.escape(char) + branch(rest) for char, rest in sorted(node.items()) if char]
        if not choices:
            return ""
        if len(choices) == 1 and not ends_here:
            return choices[0]
        group = "(?:" + "|".join(choices) + ")"
        return group + "?" if ends_here else group

    return branch(trie) if trie else "(?!)"


@functools.lru_cache(maxsize=256)
def any_of(alternatives: tuple[str, ...]) -> re.Pattern[str]:
    """:func:`literal_trie` compiled (case as given), once per set of alternatives."""
    return re.compile(literal_trie(alternatives))
