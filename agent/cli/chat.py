"""``specdraft chat`` and ``specdraft refine``: revise an existing spec with the model."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.app import REFINE_HINTS, app, sigterm_as_interrupt, user_errors
from agent.cli.option_groups import with_option_groups
from agent.cli.options import (
    ContextFlags,
    ModelFlags,
    NoCacheOpt,
    ReopenByOpt,
    ReopenOpt,
    RevisedSpecArg,
    SourceBriefOpt,
    SpecTemplateOpt,
    effective_config,
)

if TYPE_CHECKING:
    from rich.console import Console

    from agent.context.retrieval import ContextPack
    from agent.drafting.brief import Brief
    from agent.drafting.refine import Proposal, RefineOptions, Refiner
    from agent.io.config import EffectiveConfig
    from agent.io.journal import Entry
    from agent.llm.providers import Endpoint, ModelSettings


@dataclass(frozen=True)
class RefineSetup:
    """The settings in force for chat or refine, and what the model and the revisions need of them."""

    config: EffectiveConfig
    settings: ModelSettings
    options: RefineOptions


def refine_setup(flags: ModelFlags, *, use_cache: bool) -> RefineSetup:
    """The flags given, over the configuration (see `specdraft config show`)."""
    from agent.drafting.refine import RefineOptions
    from agent.llm.providers import model_settings

    config = effective_config(flags)
    cfg = config.settings
    settings = model_settings(cfg, slots=1, use_cache=use_cache, key_withheld=config.key_withheld)
    return RefineSetup(
        config, settings, RefineOptions(max_retries=cfg.max_retries, temperature=cfg.temperature)
    )


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


def _context(config: EffectiveConfig, context: ContextFlags, brief: Brief | None) -> ContextPack | None:
    """The indexed ``--context`` files (else the configured ones) ranked against the brief (None without)."""
    from agent.drafting.service import context_paths

    paths = context_paths(config, context.paths)
    if not paths:
        return None
    from agent.context.retrieval import index_context

    pack = index_context(paths, budget=context.budget)
    return pack.for_brief(f"{brief.title}\n{brief.body}") if brief is not None else pack


def _refiner(
    spec: Path,
    endpoint: Endpoint,
    setup: RefineSetup,
    *,
    brief: Brief | None,
    template: str | None,
    context: ContextFlags,
) -> Refiner:
    """The refiner of SPEC on this endpoint, with the brief, the template and the context."""
    from agent.drafting.refine import Refiner

    return Refiner(
        spec,
        endpoint,
        setup.settings,
        setup.options,
        brief=brief,
        template=template,
        context=_context(setup.config, context, brief),
    )


@app.command()
@with_option_groups
def chat(
    spec: RevisedSpecArg,
    brief: SourceBriefOpt = None,
    template: SpecTemplateOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Apply every proposed change without asking.")
    ] = False,
    reopen: ReopenOpt = False,
    by: ReopenByOpt = None,
    *,
    flags: ModelFlags,
    no_cache: NoCacheOpt = False,
    context: ContextFlags,
) -> None:
    """A conversation about SPEC: each message is a question (answered) or a change (diff, Apply? y/n/e).

    Every accepted change is written to SPEC at once and recorded in SPEC.history.jsonl (/undo, /redo
    work across sessions). Lines are read from a pipe too: a scripted session.

    Model options not given come from SPECDRAFT_* variables and specdraft.toml (`specdraft config show`).
    """
    with user_errors(REFINE_HINTS), sigterm_as_interrupt():
        from rich.console import Console

        from agent.drafting.chat import ChatSession, reader_for
        from agent.llm.providers import open_endpoint

        setup = refine_setup(flags, use_cache=not no_cache)
        loaded_brief, brief_notice = _load_inputs(spec, brief)
        console = Console(highlight=False, soft_wrap=True)
        if brief_notice:
            console.print(brief_notice, style="dim", markup=False)
        message = _editable(spec, reopen=reopen, by=by)
        if message:
            console.print(message, style="yellow", markup=False)
        if comments := open_comments_notice(spec):
            console.print(comments, markup=False)
        if sys.stdin.isatty():
            console.print("Starting the model...", markup=False)
        with open_endpoint(setup.settings) as endpoint:
            if endpoint.notice:
                console.print(endpoint.notice, markup=False)
            refiner = _refiner(spec, endpoint, setup, brief=loaded_brief, template=template, context=context)
            session = ChatSession(refiner, reader_for(sys.stdin, console), console, yes=yes)
            session.run()


MessageOpt = Annotated[str | None, typer.Option("-m", "--message", help="What to change, in plain words.")]
CommentOpt = Annotated[
    int | None,
    typer.Option(
        "--comment",
        metavar="N",
        help="Address review comment N (see `specdraft comments`): its text is the instruction, its "
        "section the one revised; resolved once applied.",
    ),
]


@app.command()
@with_option_groups
def refine(
    spec: RevisedSpecArg,
    message: MessageOpt = None,
    comment: CommentOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Apply the change (default: print the diff only).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable result on stdout.")
    ] = False,
    brief: SourceBriefOpt = None,
    template: SpecTemplateOpt = None,
    reopen: ReopenOpt = False,
    by: ReopenByOpt = None,
    *,
    flags: ModelFlags,
    no_cache: NoCacheOpt = False,
    context: ContextFlags,
) -> None:
    """Apply one instruction to SPEC: without --yes print the diff and write nothing; with --yes apply it.

    Exit codes: 0 ok (also when nothing needed changing), 1 model error or a section that never
    validated, 2 bad input.

    Model options not given come from SPECDRAFT_* variables and specdraft.toml (`specdraft config show`).
    """
    with user_errors(REFINE_HINTS), sigterm_as_interrupt():
        from rich.console import Console

        from agent.errors import ModelError

        instruction, sections = _instruction(spec, message, comment)
        setup = refine_setup(flags, use_cache=not no_cache)
        loaded_brief, brief_notice = _load_inputs(spec, brief)
        console = Console(highlight=False, soft_wrap=True, stderr=as_json)
        if brief_notice:
            typer.echo(brief_notice, err=True)
        # a preview writes nothing, so it needs no reopening; applying does
        notice = _editable(spec, reopen=reopen, by=by) if yes else None
        if notice:
            console.print(notice, style="yellow", markup=False)
        refiner, proposal = _propose(
            spec, setup, instruction, sections, brief=loaded_brief, template=template, context=context
        )
        if not as_json:
            _show_proposal(refiner, proposal, console)
        applied = refiner.apply(proposal) if yes and proposal.changes else None
        if applied is not None and comment is not None:
            _resolve_comment(spec, comment, by)
        if as_json:
            result = proposal.to_dict(spec.name)
            result["applied"] = applied is not None
            result["change_id"] = applied.id if applied else None
            typer.echo(json.dumps(result, indent=2))
        else:
            _report_refined(spec, proposal, applied)
        if proposal.failures and not proposal.changes:
            raise ModelError(
                f"No section was changed: {', '.join(f.title for f in proposal.failures)} never validated."
            )


def _propose(
    spec: Path,
    setup: RefineSetup,
    instruction: str,
    sections: list[str] | None,
    *,
    brief: Brief | None,
    template: str | None,
    context: ContextFlags,
) -> tuple[Refiner, Proposal]:
    """Start the model, ask it for the change (or the answer), and stop it; the refiner applies later."""
    from agent.llm.providers import open_endpoint

    with open_endpoint(setup.settings) as endpoint:
        refiner = _refiner(spec, endpoint, setup, brief=brief, template=template, context=context)
        if refiner.journal.warning:
            typer.echo(refiner.journal.warning, err=True)
        return refiner, refiner.propose(instruction, sections=sections)


def _instruction(spec: Path, message: str | None, comment: int | None) -> tuple[str, list[str] | None]:
    """The instruction (-m, or review comment N's text) and the sections it is confined to."""
    from agent.drafting.refine import check_instruction
    from agent.errors import InputError
    from agent.specdoc.comments import CommentStore

    if (message is None) == (comment is None):
        raise InputError("Give either -m TEXT or --comment N.", hint='e.g. -m "Use PostgreSQL for storage".')
    if comment is None:
        assert message is not None
        return check_instruction(message), None
    found = CommentStore(spec).get_open(comment)
    return check_instruction(found.text), [found.section] if found.section else None


def _resolve_comment(spec: Path, comment: int, by: str | None) -> None:
    from agent.signoff.identity import reopener
    from agent.specdoc.comments import CommentStore

    CommentStore(spec).resolve(comment, by=reopener(by, spec.resolve().parent))
    typer.echo(f"Resolved review comment {comment}.", err=True)


def open_comments_notice(spec: Path) -> str | None:
    """What chat says when it starts on a spec with open review comments (None when there are none)."""
    from agent.cli.comments import comment_line
    from agent.specdoc.comments import CommentStore

    comments = CommentStore(spec).open_comments()
    if not comments:
        return None
    lines = [f"{len(comments)} open review comment(s); /comment N addresses one:"]
    return "\n".join(lines + [f"  {comment_line(c)}" for c in comments])


def _show_proposal(refiner: Refiner, proposal: Proposal, console: Console) -> None:
    """The model's answer to a question, and the diff of each proposed change."""
    from agent.drafting.chat import ChatSession, PipeReader

    session = ChatSession(refiner, PipeReader(sys.stdin, lambda text: None), console)
    if proposal.answer is not None:
        session.say(proposal.answer)
    for change in proposal.changes:
        session.show_diff(change)


def _report_refined(spec: Path, proposal: Proposal, applied: Entry | None) -> None:
    """On stderr: the sections left as they were, and what was written (or why nothing was)."""
    from agent.io.sanitize import for_terminal

    for failure in proposal.failures:
        typer.echo(
            for_terminal(
                f"{failure.title}: left as it was; the model's answer never validated "
                f"({'; '.join(failure.problems[:3])})."
            ),
            err=True,
        )
    if applied is not None:
        typer.echo(f"Applied change {applied.id} to {', '.join(applied.titles)}; saved {spec}.", err=True)
    elif proposal.changes:
        typer.echo("Nothing written (preview). Run again with --yes to apply.", err=True)
    elif proposal.answer is None and not proposal.failures:
        typer.echo("The model proposed no change.", err=True)
