"""The ``specdraft`` command line: a thin typer layer over the importable core.

Importing this module registers every command group on ``agent.cli.app.app``.
Heavy libraries (LangChain, OpenAI, xllamacpp) are imported lazily inside commands so that
``specdraft --help`` stays fast.
"""

from __future__ import annotations

# Importing each command module registers its commands on the app.
from agent.cli import (  # noqa: F401
    batch,
    cache,
    chat,
    comments,
    config,
    doctor,
    draft,
    export,
    mcp,
    models,
    quality,
    review,
    serve,
)
from agent.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
