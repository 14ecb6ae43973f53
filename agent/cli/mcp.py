"""``specdraft mcp``: serve specdraft's tools to coding agents over the Model Context Protocol (stdio)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.cli.app import app, user_errors


@app.command("mcp")
def mcp_command(
    root: Annotated[
        Path | None, typer.Option("--root", help="Directory the tools may read and write (default: current).")
    ] = None,
) -> None:
    """Run an MCP server on stdin/stdout (draft_spec, lint_spec, refine_spec, verify_spec, list_templates)."""
    from agent.integrations.mcp_server import serve

    with user_errors():
        serve(root or Path.cwd())
