"""``specdraft chat`` and ``specdraft refine``: revise an existing spec with the model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.app import app, user_errors
from agent.cli.options import (
    REFINE_HINTS,
    BaseUrlOpt,
    ContextBudgetOpt,
    ContextOpt,
    ModelFlags,
    ModelOpt,
    ModelPathOpt,
    NoCacheOpt,
    ProviderOpt,
    ReopenByOpt,
    RetriesOpt,
    TemperatureOpt,
    TimeoutOpt,
    context_paths,
    effective_config,
    sigterm_as_interrupt,
)

if TYPE_CHECKING:
    from agent.context.retrieval import ContextPack
    from agent.drafting.brief import Brief
    from agent.drafting.refine import RefineOptions
    from agent.llm.providers import ModelSettings

SpecArg = Annotated[Path, typer.Argument(help="The spec Markdown file to revise (edited in place).")]
TemplateOpt = Annotated[
    str | None,
    typer.Option(
        "--template",
        "-t",
        help="Template NAME or PATH the spec follows (default: the one its front matter records).",
    ),
]
BriefOpt = Annotated[
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


def _settings(
    provider: str | None,
    model: str | None,
    base_url: list[str] | None,
    model_path: Path | None,
    temperature: float | None,
    timeout: float | None,
    max_retries: int | None,
    no_cache: bool,
) -> tuple[ModelSettings, RefineOptions]:
    """The flags given, over the configuration (see `specdraft config show`)."""
    from agent.drafting.refine import RefineOptions

    config = effective_config(
        ModelFlags(provider, model, base_url, model_path, temperature, max_retries, timeout)
    )
    from agent.llm.providers import model_settings

    settings = model_settings(config.settings, slots=1, use_cache=not no_cache)
    cfg = config.settings
    return settings, RefineOptions(max_retries=cfg.max_retries, temperature=cfg.temperature)


def _load_inputs(spec: Path, brief: Path | None) -> tuple[Brief | None, str | None]:
    """Check the spec before any model starts; the brief from --brief, else the one the spec records."""
    from agent.drafting.brief import load_brief, recorded_brief
    from agent.specdoc.document import load_spec

    doc = load_spec(spec)  # missing, unreadable or not a spec: InputError
    if brief is not None:
        return load_brief(brief), None
    return recorded_brief(spec, doc)


def _editable(spec: Path, *, reopen: bool, by: str | None) -> str | None:
    """Before any model starts: an APPROVED spec is refused (NotEditableError) unless --reopen, which
    reopens it now and returns the message to show. The writers check again when they write."""
    from agent.cli.review import reopen_spec
    from agent.specdoc.document import load_spec
    from agent.specdoc.lifecycle import ensure_editable, is_editable

    doc = load_spec(spec)
    if not reopen:
        ensure_editable(doc)
        return None
    return None if is_editable(doc) else reopen_spec(spec, by)


def _context(paths: list[str] | None, budget: int, brief: Brief | None) -> ContextPack | None:
    """The indexed ``--context`` files (else the configured ones) ranked against the brief (None without)."""
    paths = context_paths(paths)
    if not paths:
        return None
    from agent.context.retrieval import index_context

    pack = index_context(paths, budget=budget)
    return pack.for_brief(f"{brief.title}\n{brief.body}") if brief is not None else pack


@app.command()
def chat(
    spec: SpecArg,
    brief: BriefOpt = None,
    template: TemplateOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Apply every proposed change without asking.")
    ] = False,
    reopen: ReopenOpt = False,
    by: ReopenByOpt = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    model_path: ModelPathOpt = None,
    temperature: TemperatureOpt = None,
    max_retries: RetriesOpt = None,
    timeout: TimeoutOpt = None,
    no_cache: NoCacheOpt = False,
    context: ContextOpt = None,
    context_budget: ContextBudgetOpt = 600,
) -> None:
    """A conversation about SPEC: each message is a question (answered) or a change (diff, Apply? y/n/e).

    Every accepted change is written to SPEC at once and recorded in SPEC.history.jsonl (/undo, /redo
    work across sessions). Lines are read from a pipe too: a scripted session.

    Model options not given come from SPECDRAFT_* variables and specdraft.toml (`specdraft config show`).
    """
    with user_errors(REFINE_HINTS), sigterm_as_interrupt():
        from rich.console import Console

        from agent.drafting.chat import ChatSession, reader_for
        from agent.drafting.refine import Refiner
        from agent.llm.providers import open_endpoint

        settings, options = _settings(
            provider, model, base_url, model_path, temperature, timeout, max_retries, no_cache
        )
        loaded_brief, brief_notice = _load_inputs(spec, brief)
        console = Console(highlight=False, soft_wrap=True)
        if brief_notice:
            console.print(brief_notice, style="dim", markup=False)
        message = _editable(spec, reopen=reopen, by=by)
        if message:
            console.print(message, style="yellow", markup=False)
        if sys.stdin.isatty():
            console.print("Starting the model...", markup=False)
        with open_endpoint(settings) as endpoint:
            if endpoint.notice:
                console.print(endpoint.notice, markup=False)
            refiner = Refiner(
                spec,
                endpoint,
                settings,
                options,
                brief=loaded_brief,
                template=template,
                context=_context(context, context_budget, loaded_brief),
            )
            session = ChatSession(refiner, reader_for(sys.stdin, console), console, yes=yes)
            session.run()


@app.command()
def refine(
    spec: SpecArg,
    message: Annotated[str, typer.Option("-m", "--message", help="What to change, in plain words.")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Apply the change (default: print the diff only).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable result on stdout.")
    ] = False,
    brief: BriefOpt = None,
    template: TemplateOpt = None,
    reopen: ReopenOpt = False,
    by: ReopenByOpt = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    model_path: ModelPathOpt = None,
    temperature: TemperatureOpt = None,
    max_retries: RetriesOpt = None,
    timeout: TimeoutOpt = None,
    no_cache: NoCacheOpt = False,
    context: ContextOpt = None,
    context_budget: ContextBudgetOpt = 600,
) -> None:
    """Apply one instruction to SPEC: without --yes print the diff and write nothing; with --yes apply it.

    Exit codes: 0 ok (also when nothing needed changing), 1 model error or a section that never
    validated, 2 bad input.

    Model options not given come from SPECDRAFT_* variables and specdraft.toml (`specdraft config show`).
    """
    with user_errors(REFINE_HINTS), sigterm_as_interrupt():
        from rich.console import Console

        from agent.drafting.chat import ChatSession, PipeReader
        from agent.drafting.refine import Refiner, check_instruction
        from agent.errors import ModelError
        from agent.llm.providers import open_endpoint

        instruction = check_instruction(message)
        settings, options = _settings(
            provider, model, base_url, model_path, temperature, timeout, max_retries, no_cache
        )
        loaded_brief, brief_notice = _load_inputs(spec, brief)
        console = Console(highlight=False, soft_wrap=True, stderr=as_json)
        if brief_notice:
            typer.echo(brief_notice, err=True)
        # a preview writes nothing, so it needs no reopening; applying does
        notice = _editable(spec, reopen=reopen, by=by) if yes else None
        if notice:
            console.print(notice, style="yellow", markup=False)
        with open_endpoint(settings) as endpoint:
            refiner = Refiner(
                spec,
                endpoint,
                settings,
                options,
                brief=loaded_brief,
                template=template,
                context=_context(context, context_budget, loaded_brief),
            )
            if refiner.journal.warning:
                typer.echo(refiner.journal.warning, err=True)
            proposal = refiner.propose(instruction)
        applied = None
        if not as_json:
            session = ChatSession(refiner, PipeReader(sys.stdin, lambda text: None), console)
            if proposal.answer is not None:
                session.say(proposal.answer)
            for change in proposal.changes:
                session.show_diff(change)
        if yes and proposal.changes:
            applied = refiner.apply(proposal)
        if as_json:
            result = proposal.to_dict(spec.name)
            result["applied"] = applied is not None
            result["change_id"] = applied.id if applied else None
            typer.echo(json.dumps(result, indent=2))
        else:
            for failure in proposal.failures:
                typer.echo(
                    f"{failure.title}: left as it was; the model's answer never validated "
                    f"({'; '.join(failure.problems[:3])}).",
                    err=True,
                )
            if applied is not None:
                typer.echo(
                    f"Applied change {applied.id} to {', '.join(applied.titles)}; saved {spec}.", err=True
                )
            elif proposal.changes:
                typer.echo("Nothing written (preview). Run again with --yes to apply.", err=True)
            elif proposal.answer is None and not proposal.failures:
                typer.echo("The model proposed no change.", err=True)
        if proposal.failures and not proposal.changes:
            raise ModelError(
                f"No section was changed: {', '.join(f.title for f in proposal.failures)} never validated."
            )
