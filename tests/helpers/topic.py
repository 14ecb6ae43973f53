"""What a fake model writes about: a few words of the brief in a drafting prompt."""

from __future__ import annotations

import re

from agent.specdoc.grounding import is_generic, stem


def brief_topic(prompt: str) -> str:
    """A few words of the brief in a drafting prompt (its title, then long words of its body), or ""."""
    title = re.search(r"^Title: (.+)$", prompt, re.MULTILINE)
    if title is None:
        return ""
    rest = prompt[title.end() :]
    body = [
        w
        for w in re.findall(r"[A-Za-z]{5,}", rest)
        if w.lower() not in {"priority", "owner", "medium"} and not is_generic(stem(w))
    ]
    return " ".join([title.group(1).strip(), *body[:3]])
