"""The command line's shared options and arguments, declared once, and the one place model flags meet the
configuration.

Each ``Annotated`` type below is one option (its names, help and default) that several commands take, so
it reads the same in every ``--help``. The model and context options travel as groups
(:class:`ModelFlags`, :class:`DraftModelFlags`, :class:`BatchModelFlags`, :class:`ContextFlags`,
:class:`WaveFlags`): a command
takes one parameter of such a type and :func:`agent.cli.option_groups.with_option_groups` shows typer
each of its options. :func:`effective_config` lays the model flags given over the configuration.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.option_groups import OptionGroup
from agent.drafting.batch_journal import Via
from agent.drafting.policy import describe_tiers
from agent.io.config import DEFAULTS, EffectiveConfig, load_config

# ---------------------------------------------------------------- the model

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
#: chat and refine: a plain number of re-asks
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        min=0,
        max=10,
        help="Re-asks per section when validation fails.",
        show_default=str(DEFAULTS.max_retries),
    ),
]
#: draft, batch and eval --draft: unset, the re-ask policy chooses for the model's size
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
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        min=1.0,
        max=86_400.0,
        help="One deadline per model call, transport retries included; a call still running then is "
        "cancelled (its server slot freed) and never re-sent.",
        show_default=str(DEFAULTS.timeout),
    ),
]
LanguageOpt = Annotated[
    str | None,
    typer.Option(
        "--language",
        help="The spec's language: en, de, es, fr, pt, ja or zh (default: language from the configuration, "
        "else the template's, else the brief's; see docs/languages.md).",
        show_default=False,
    ),
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
#: batch: its server slots are --jobs
BatchParallelOpt = Annotated[
    int | None,
    typer.Option(
        min=1, max=64, help="Sections of one spec drafted at once.", show_default=str(DEFAULTS.parallel)
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

# ---------------------------------------------------------------- drafting

#: draft
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Write the spec here; - for stdout. Default: stdout, or <brief name>.md in the "
        "configured output_dir.",
    ),
]
#: batch
OutputDirOpt = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output-dir",
        help="Directory for the specs and report.json (required unless output_dir is configured).",
    ),
]
#: batch
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        max=1024,
        help="Specs drafted at once (and embedded server slots: fewer, with a notice, when free memory "
        "holds fewer; with several --base-url, requests each server takes at once).",
        show_default=str(DEFAULTS.jobs),
    ),
]
#: batch
ViaOpt = Annotated[
    Via,
    typer.Option(
        "--via",
        help="live: each request as it is ready; batch-api: each wave of requests of all briefs as one "
        "batch on the server's /v1/batches (OpenAI: half price, within 24 h), polled until done; jsonl: "
        "write each wave's request file for `vllm run-batch` and stop (then --ingest).",
    ),
]
#: batch
IngestOpt = Annotated[
    Path | None,
    typer.Option(
        "--ingest",
        help="Go on with the results file of the wave waiting in OUTPUT_DIR (what `vllm run-batch -o` "
        "wrote); implies --via jsonl.",
        show_default=False,
    ),
]
#: batch
PollOpt = Annotated[
    float,
    typer.Option(
        "--poll",
        min=0.0,
        help="--via batch-api: seconds before a batch's status is asked again (doubling, up to 10 minutes).",
    ),
]
#: draft and batch
TemplateOpt = Annotated[
    str | None,
    typer.Option("--template", "-t", help="Template name or path.", show_default="tech-spec"),
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

# ---------------------------------------------------------------- an existing spec

SpecArg = Annotated[Path, typer.Argument(help="The spec Markdown file.", show_default=False)]
#: chat and refine
RevisedSpecArg = Annotated[Path, typer.Argument(help="The spec Markdown file to revise (edited in place).")]
#: lint, status, review, approve, eval
CheckTemplateOpt = Annotated[
    str | None,
    typer.Option(
        "--template",
        "-t",
        help="Template NAME or PATH to check against (default: the one the spec names, else tech-spec).",
    ),
]
#: chat and refine
SpecTemplateOpt = Annotated[
    str | None,
    typer.Option(
        "--template",
        "-t",
        help="Template NAME or PATH the spec follows (default: the one its front matter records).",
    ),
]
#: lint and eval
CheckBriefOpt = Annotated[
    Path | None,
    typer.Option(
        "--brief", help="The brief to check against (default: the one the spec's front matter records)."
    ),
]
#: chat and refine
SourceBriefOpt = Annotated[
    Path | None,
    typer.Option(
        "--brief",
        help="The feature brief the spec was drafted from (context for revisions). "
        "Default: the brief recorded in the spec's front matter, when there is one.",
    ),
]
ReopenOpt = Annotated[
    bool,
    typer.Option("--reopen", help="Edit an APPROVED spec: set it back to DRAFT (approvals no longer hold)."),
]
#: who reopens a spec (reopen, and chat/refine --reopen)
ReopenByOpt = Annotated[
    str | None, typer.Option("--by", help='Who reopens, "Name <email>" (default: git user, else the login).')
]

# ---------------------------------------------------------------- output

#: a command whose --json output needs no more words than this
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
ModelNameArg = Annotated[
    str, typer.Argument(help="Catalogue name (see `specdraft models`) or hf://owner/repo/file.gguf.")
]

# ---------------------------------------------------------------- the groups


@dataclass(frozen=True)
class ModelFlags(OptionGroup):
    """The model options of chat and refine (None = not given), as typer parses them.

    :func:`effective_config` lays them over the configuration, which validates each value once
    (agent.io.config.Settings).
    """

    provider: ProviderOpt = None
    model: ModelOpt = None
    base_url: BaseUrlOpt = None
    model_path: ModelPathOpt = None
    temperature: TemperatureOpt = None
    max_retries: RetriesOpt = None
    timeout: TimeoutOpt = None


@dataclass(frozen=True)
class DraftModelFlags(ModelFlags):
    """draft and eval --draft: re-asks chosen for the model's size unless given, and --parallel."""

    max_retries: DraftRetriesOpt = None
    parallel: ParallelOpt = None
    language: LanguageOpt = None


@dataclass(frozen=True)
class BatchModelFlags(DraftModelFlags):
    """batch: --parallel is the sections of one spec (its server slots are --jobs)."""

    parallel: BatchParallelOpt = None


@dataclass(frozen=True)
class ContextFlags(OptionGroup):
    """--context and --context-budget (draft, batch, chat, refine, eval --draft)."""

    #: the paths given (None: the configured ``context``, see agent.drafting.service.context_paths)
    paths: ContextOpt = None
    budget: ContextBudgetOpt = 600


@dataclass(frozen=True)
class WaveFlags(OptionGroup):
    """batch: how its requests travel (--via, --ingest, --poll) and the journal's commands."""

    via: ViaOpt = Via.LIVE
    ingest: IngestOpt = None
    status: Annotated[
        bool, typer.Option("--status", help="Show the waves sent --via batch-api or jsonl into OUTPUT_DIR.")
    ] = False
    cancel: Annotated[
        bool,
        typer.Option(
            "--cancel",
            help="Cancel the unfinished batches of OUTPUT_DIR (and forget a request file still waiting "
            "for --ingest).",
        ),
    ] = False
    poll: PollOpt = 30.0


def effective_config(
    flags: ModelFlags,
    *,
    template: str | None = None,
    jobs: int | None = None,
    output_dir: Path | None = None,
) -> EffectiveConfig:
    """The settings in force: the model flags and these settings flags (None = not given) over the
    configuration (SPECDRAFT_* variables, specdraft.toml, the user file, the defaults)."""
    given: dict[str, object] = {**asdict(flags), "template": template, "jobs": jobs, "output_dir": output_dir}
    return load_config().with_flags(given)
