"""``specdraft cache``: where the response cache is, how big, and clearing it."""

from __future__ import annotations

import json

import typer

from agent.cli.app import app, user_errors
from agent.cli.options import JsonOpt

cache_app = typer.Typer(
    help="The response cache: identical model requests are answered from disk "
    "(location $SPECDRAFT_CACHE_DIR or ~/.cache/specdraft/responses; bound $SPECDRAFT_CACHE_MAX_MB, "
    "default 200). Pass --no-cache to draft, batch, chat or refine to ask the model afresh.",
)
app.add_typer(cache_app, name="cache")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


@cache_app.callback(invoke_without_command=True)
def cache_info(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the cache's directory, number of answers and size."""
    if ctx.invoked_subcommand is not None:
        return
    with user_errors():
        from agent.llm.response_cache import ResponseCache

        stats = ResponseCache.default().stats()
        if as_json:
            typer.echo(json.dumps(stats.as_dict(), indent=2))
            return
        typer.echo(f"Directory: {stats.directory}")
        typer.echo(f"Answers:   {stats.entries}")
        typer.echo(f"Size:      {_megabytes(stats.bytes)} of at most {_megabytes(stats.max_bytes)}")
        typer.echo("Clear it with `specdraft cache clear`.")


@cache_app.command("clear")
def cache_clear(as_json: JsonOpt = False) -> None:
    """Delete every cached answer (pulled models are not touched)."""
    with user_errors():
        from agent.llm.response_cache import ResponseCache

        removed = ResponseCache.default().clear()
        if as_json:
            typer.echo(json.dumps({"removed_entries": removed.entries, "removed_bytes": removed.bytes}))
            return
        typer.echo(
            f"Removed {removed.entries} cached answers ({_megabytes(removed.bytes)}) "
            f"from {removed.directory}."
        )
