"""The typer application object and the error boundary every command runs inside.

Command modules (cli_draft, cli_review, cli_models, ...) import ``app`` from here and register their
commands on it; ``agent.cli.main`` imports them all. Only this boundary turns SpecdraftError into
``Error: ...`` on stderr and an exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated

import typer

from agent import __version__
from agent.errors import EXIT_RUNTIME, SpecdraftError, TerminationRequested
from agent.io.sanitize import for_terminal

app = typer.Typer(
    name="specdraft",
    help="Draft technical specifications from a feature brief with a language model.\n\n"
    "Runs offline by default on an embedded llama.cpp model; OpenAI and any OpenAI-compatible "
    "server work through the same code path.\n\n"
    "Exit codes: 0 ok, 1 runtime or model error, 2 usage or bad input, 3 drafted with sections "
    "needing attention.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def debug_enabled() -> bool:
    return bool(os.environ.get("SPECDRAFT_DEBUG"))


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"specdraft {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks (never with local variables) on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    if debug:
        os.environ["SPECDRAFT_DEBUG"] = "1"


@contextmanager
def user_errors(hints: Mapping[type[SpecdraftError], str] | None = None) -> Iterator[None]:
    """Run a command body; turn specdraft's errors into a message and an exit code.

    ``hints`` replace the core's hint for an error class with the command's own wording (its flags).
    """
    try:
        yield
    except SpecdraftError as exc:
        for kind, hint in (hints or {}).items():
            if isinstance(exc, kind):
                exc.hint = hint
                break
        if debug_enabled():
            _print_traceback(exc)
        typer.echo(for_terminal(f"Error: {exc}"), err=True)
        raise typer.Exit(exc.exit_code) from None
    except (KeyboardInterrupt, TerminationRequested):
        typer.echo("Interrupted; nothing half-written was left behind.", err=True)
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug_enabled():
            _print_traceback(exc)
        else:
            typer.echo(for_terminal(f"Error: unexpected failure: {type(exc).__name__}: {exc}"), err=True)
            typer.echo("Run again with --debug for the traceback.", err=True)
        raise typer.Exit(EXIT_RUNTIME) from None


def _print_traceback(exc: BaseException) -> None:
    """The traceback for --debug: never local variables, and secrets redacted like every message."""
    import traceback

    sys.stderr.write(for_terminal("".join(traceback.format_exception(exc))))
