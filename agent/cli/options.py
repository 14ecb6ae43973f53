"""Command-line options shared by the commands that talk to a model (draft, batch, chat, refine).

Declared once so their names, defaults and help read the same in every ``--help``.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from agent.drafting.policy import describe_tiers
from agent.errors import (
    NotEditableError,
    SectionFailedError,
    SpecdraftError,
    TerminationRequested,
)
from agent.io.config import DEFAULTS, EffectiveConfig, load_config

if TYPE_CHECKING:
    from agent.llm.client import Usage

ProviderOpt = Annotated[
    str | None,
    typer.Option(
        help="local (embedded llama.cpp, no key), openai (OPENAI_API_KEY) or compatible (--base-url).",
        show_default=DEFAULTS.provider,
    ),
]
ModelOpt = Annotated[
    str | None, typer.Option(help="Model name: an OpenAI model, the server's model, or a pulled local model.")
]
BaseUrlOpt = Annotated[
    list[str] | None,
    typer.Option(
        help="An OpenAI-compatible server, e.g. http://localhost:8000/v1. Repeat it (or separate URLs "
        "with commas) for several servers serving the same model: requests go to the least busy one "
        "and a failing one is routed around.",
    ),
]
ModelPathOpt = Annotated[Path | None, typer.Option(help="Serve this GGUF file on the embedded engine.")]
TemperatureOpt = Annotated[
    float | None,
    typer.Option(min=0.0, max=2.0, help="Sampling temperature.", show_default=str(DEFAULTS.temperature)),
]
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        min=0,
        max=10,
        help="Re-asks per section when validation fails.",
        show_default=str(DEFAULTS.max_retries),
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        min=1.0,
        help="One deadline per model call, transport retries included; a call still running then is "
        "cancelled (its server slot freed) and never re-sent.",
        show_default=str(DEFAULTS.timeout),
    ),
]
DraftRetriesOpt = Annotated[
    int | None,
    typer.Option(
        "--max-retries",
        min=0,
        max=10,
        help="Re-asks per section when validation fails (default: max_retries from the configuration, "
        "else chosen for the model's parameters, counted from its GGUF or read from its name: "
        f"{describe_tiers()}).",
    ),
]
KeepGoingOpt = Annotated[
    bool,
    typer.Option(
        "--keep-going",
        help="The default: mark a section that never validates or times out [NEEDS ATTENTION: reason], "
        "write the spec and exit 3. Kept for scripts that pass it.",
    ),
]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Fail fast instead: the first section that never validates ends the draft with exit 1 "
        "and nothing is written.",
    ),
]
TemplateOpt = Annotated[
    str | None,
    typer.Option("--template", "-t", help="Template name or path.", show_default="tech-spec"),
]
ParallelOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=64,
        help="Sections drafted at once (and embedded server slots: fewer, with a notice, when free "
        "memory holds fewer).",
        show_default=str(DEFAULTS.parallel),
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Ask the model even when an identical request was answered before "
        "(the response cache lives in ~/.cache/specdraft; see `specdraft cache`).",
    ),
]


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
#: who reopens a spec (reopen, and chat/refine --reopen)
ReopenByOpt = Annotated[
    str | None, typer.Option("--by", help='Who reopens, "Name <email>" (default: git user, else the login).')
]


@dataclass(frozen=True)
class ModelFlags:
    """The model options a command was given (None = not given), as the option types above parse them.

    Every command that talks to a model builds one and hands it to :func:`effective_config`, the one
    place flags meet the configuration; each value is validated there, once (agent.io.config.Settings).
    """

    provider: str | None = None
    model: str | None = None
    base_url: list[str] | None = None
    model_path: Path | None = None
    temperature: float | None = None
    max_retries: int | None = None
    timeout: float | None = None
    parallel: int | None = None
    template: str | None = None


def effective_config(flags: ModelFlags, **more: object) -> EffectiveConfig:
    """The settings in force: these command-line values (None = not given) over the configuration.

    ``more``: a command's own settings flags (batch's ``jobs`` and ``output_dir``).
    """
    given: dict[str, object] = {**asdict(flags), **more}
    return load_config().with_flags(given)


def token_line(usage: Usage) -> str:
    share = f" ({usage.cached_tokens / usage.prompt_tokens:.0%})" if usage.prompt_tokens else ""
    return (
        f"Tokens: {usage.prompt_tokens:,} prompt, {usage.cached_tokens:,} of them cached{share}, "
        f"{usage.completion_tokens:,} completion"
    )


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


ContextOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--context",
        help=(
            "Existing files to ground the spec in: a file, directory (honours .gitignore) or glob;"
            " repeatable."
        ),
    ),
]
ContextBudgetOpt = Annotated[
    int,
    typer.Option(
        "--context-budget",
        min=50,
        max=100_000,
        help="Prompt tokens given to --context excerpts (2/3 shared by all sections, 1/3 per section).",
    ),
]


def context_paths(given: list[str] | None) -> list[str] | None:
    """``--context`` as given, else the ``context`` list of the configuration (None when neither)."""
    from agent.drafting.service import context_paths as configured

    return configured(load_config(), given)
