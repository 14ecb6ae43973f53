"""What a chat or refine message plainly is, before any model is asked.

A small model routes most messages right but not all: the 1.5B took "Why do we need Redis?" for an
edit and "drop the admin role" for a question, depending on the words around them. A message that
opens with an interrogative and ends with a question mark is a question; one that opens with an
editing verb is an edit. Everything else ("can you make the link valid for 3 days?", "the email is
sent by Postmark, not SES") is left to the model. :func:`request_names` reads the names and numbers
a request brings, which a revision that made the change must contain.
"""

from __future__ import annotations

import re
from enum import StrEnum


class RequestKind(StrEnum):
    """What a chat or refine message asks for: an answer, or a change to the spec."""

    QUESTION = "question"
    EDIT = "edit"


_QUESTION_WORDS = frozenset(
    [
        "what",
        "why",
        "how",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "is",
        "are",
        "does",
        "do",
        "did",
        "was",
        "were",
        "has",
        "have",
        "had",
        "will",
        "would",
        "should",
        "whats",
    ]
)
_EDIT_VERBS = frozenset(
    [
        "add",
        "append",
        "drop",
        "remove",
        "delete",
        "replace",
        "change",
        "rename",
        "use",
        "make",
        "set",
        "switch",
        "move",
        "split",
        "merge",
        "rewrite",
        "reword",
        "shorten",
        "expand",
        "mention",
        "include",
        "exclude",
        "limit",
        "raise",
        "lower",
        "increase",
        "decrease",
        "reduce",
        "fix",
        "update",
        "support",
        "allow",
        "require",
        "forbid",
        "clarify",
        "specify",
    ]
)
#: "please add ...", "also drop ...": words that may stand before the verb
_LEAD_INS = frozenset(["please", "also", "and", "then", "now", "instead"])
_WORD = re.compile(r"[a-z']+")


def plain_kind(message: str) -> RequestKind | None:
    """A question or an edit when the message's form says so, None when the model must decide."""
    words = [w.replace("'", "") for w in _WORD.findall(message.lower())]
    while words and words[0] in _LEAD_INS:
        words = words[1:]
    if not words:
        return None
    text = message.strip()
    if words[0] in _QUESTION_WORDS and text.endswith("?"):
        return RequestKind.QUESTION
    if words[0] in _EDIT_VERBS and not text.endswith("?"):
        return RequestKind.EDIT
    return None


_NAME_TOKEN = re.compile(r"[A-Za-z0-9][\w.+#-]*[\w+#]|\d")


def request_names(instruction: str) -> list[str]:
    """The names and numbers in a request: words with a digit, or a capital past the first word."""
    tokens = _NAME_TOKEN.findall(instruction)
    found = [
        t
        for i, t in enumerate(tokens)
        if any(c.isdigit() for c in t) or (i > 0 and any(c.isupper() for c in t))
    ]
    return list(dict.fromkeys(found))
