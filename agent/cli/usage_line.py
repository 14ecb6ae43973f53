"""The one line that tells what a draft or a batch spent in tokens.

Apart from the progress display because `specdraft --help` imports the commands that print it, and it must
not import the drafting engine to start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.llm.client import Usage


def token_line(usage: Usage) -> str:
    """The tokens spent, in one line (with the share the server's prompt cache served)."""
    share = f" ({usage.cached_tokens / usage.prompt_tokens:.0%})" if usage.prompt_tokens else ""
    return (
        f"Tokens: {usage.prompt_tokens:,} prompt, {usage.cached_tokens:,} of them cached{share}, "
        f"{usage.completion_tokens:,} completion"
    )
