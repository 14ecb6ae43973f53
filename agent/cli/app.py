"""The typer application object and the boundary every command runs inside: errors and interrupts.

Command modules (cli_draft, cli_review, cli_models, ...) import ``app`` from here and register their
commands on it; ``agent.cli.main`` imports them all. Only this boundary turns SpecdraftError into
``Error: ...`` on stderr and an exit code; SIGTERM stops a command as Ctrl-C does.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer

from agent import __version__
from agent.errors import (
    EXIT_RUNTIME,
    NotEditableError,
    SectionFailedError,
    SpecdraftError,
    TerminationRequested,
)
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


#: what a user of draft/batch can do when a section never validates
SECTION_HINTS: dict[type[SpecdraftError], str] = {
    SectionFailedError: "Try --max-retries with a higher number, a stronger model, or --keep-going to mark "
    "the section [NEEDS ATTENTION] and continue.",
}
#: the same for chat/refine (no --keep-going there; an APPROVED spec is reopened with their --reopen)
REFINE_HINTS: dict[type[SpecdraftError], str] = {
    SectionFailedError: "Try --max-retries with a higher number, a stronger model, or a smaller change.",
    NotEditableError: "Pass --reopen to set it back to DRAFT (existing approvals then no longer hold).",
}


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


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Stop on SIGTERM as on Ctrl-C: clean-up runs, nothing is half-written, the embedded server stops.

    A distinct exception, so that chat (where Ctrl-C only cancels the current request) still ends.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise TerminationRequested

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
