"""``specdraft draft`` and ``specdraft templates``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.app import SECTION_HINTS, app, sigterm_as_interrupt, user_errors
from agent.cli.option_groups import with_option_groups
from agent.cli.options import (
    ContextFlags,
    DraftModelFlags,
    JsonOpt,
    KeepGoingOpt,
    NoCacheOpt,
    OutputOpt,
    StrictOpt,
    TemplateOpt,
    effective_config,
)
from agent.cli.usage_line import token_line
from agent.errors import EXIT_ATTENTION, SpecdraftError

if TYPE_CHECKING:
    from agent.cli.progress import DraftProgress
    from agent.drafting.brief import Brief
    from agent.drafting.service import DraftOutcome, DraftPlan

templates_app = typer.Typer(
    help="List the built-in spec templates, or show one.", invoke_without_command=True, no_args_is_help=False
)
app.add_typer(templates_app, name="templates")


@templates_app.callback()
def templates_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the built-in templates (name, sections, description)."""
    if ctx.invoked_subcommand is not None:
        return
    with user_errors():
        from agent.specdoc.template_resolver import list_templates

        infos = list_templates()
        if as_json:
            typer.echo(
                json.dumps(
                    [
                        {
                            "name": i.name,
                            "sections": i.sections,
                            "description": i.description,
                            "path": str(i.path),
                        }
                        for i in infos
                    ],
                    indent=2,
                )
            )
            return
        from rich.console import Console
        from rich.table import Table

        table = Table("name", "sections", "description")
        for info in infos:
            table.add_row(info.name, str(info.sections), info.description)
        Console().print(table)
        typer.echo(
            "Show one with `specdraft templates show NAME`; use your own with `draft --template path.md`."
        )


@templates_app.command("show")
def templates_show(
    name: Annotated[str, typer.Argument(help="Built-in template name (e.g. tech-spec) or a path.")],
    fields: Annotated[
        bool, typer.Option("--fields", help="List the fields the model fills per section.")
    ] = False,
) -> None:
    """Print a template's Markdown, or with --fields what each section asks the model for."""
    with user_errors():
        from agent.specdoc.template_resolver import load_template

        template = load_template(name)
        if not fields:
            typer.echo(template.text, nl=False)
            return
        from agent.drafting.prompting import describe_fields
        from agent.specdoc.schemas.techspec import CoveringSection

        for section in template.sections:
            kind = "typed model" if section.typed else "generated model"
            if not section.typed and issubclass(section.model, CoveringSection):
                kind += ", items cite requirements"
            typer.echo(f"## {section.title}  [{kind}]")
            typer.echo(describe_fields(section.model))
            typer.echo("")


@app.command()
@with_option_groups
def draft(
    brief: Annotated[str, typer.Argument(help="The feature brief (Markdown or text), or - for stdin.")],
    output: OutputOpt = None,
    template: TemplateOpt = None,
    *,
    flags: DraftModelFlags,
    no_cache: NoCacheOpt = False,
    keep_going: KeepGoingOpt = True,
    strict: StrictOpt = False,
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing output file.")] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print a machine-readable result (path, sections, tokens, cost) on stdout."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    context: ContextFlags,
) -> None:
    """Draft a spec from BRIEF: every template section filled by the model and validated.

    --context PATH grounds the spec in existing files (OpenAPI, SQL, code, docs): see docs/context.md.

    A section that never validates, or whose model call passes --timeout, is marked
    [NEEDS ATTENTION: reason] and the rest of the spec is still written (exit 3); --strict fails fast.
    Completion budgets and parallel calls are fitted to the engine's measured speed.

    Exit codes: 0 ok, 1 model or runtime error (or a failed section with --strict), 2 bad input,
    3 written with sections needing attention.

    Options not given fall back to SPECDRAFT_* variables, specdraft.toml and the user configuration
    (see `specdraft config show`). --context PATH grounds the spec in existing files: see docs/context.md.
    """
    with user_errors(SECTION_HINTS), sigterm_as_interrupt():
        from agent.drafting import service
        from agent.drafting.brief import load_brief

        config = effective_config(flags, template=template)
        loaded_brief = load_brief(brief)
        plan = service.plan_drafts(
            config,
            use_cache=not no_cache,
            keep_going=not strict,
            context=context.paths,
            context_budget=context.budget,
        )
        output = service.destination(output, config, plan, loaded_brief, overwrite=force)
        quiet = quiet or as_json
        outcome = _draft_with_progress(
            loaded_brief, plan, output, overwrite=force, quiet=quiet, as_json=as_json
        )
        _show_outcome(outcome, output, as_json=as_json, quiet=quiet)
        if outcome.result.needs_attention:
            raise typer.Exit(EXIT_ATTENTION)


def _draft_with_progress(
    brief: Brief, plan: DraftPlan, output: Path | None, *, overwrite: bool, quiet: bool, as_json: bool
) -> DraftOutcome:
    """Draft with a progress bar on stderr (nothing when quiet); a failure still says what it spent."""
    from agent.cli.progress import DraftProgress
    from agent.drafting.service import draft_to_file

    if plan.context is not None and not quiet:
        typer.echo(f"Context: {plan.context.walk.summary()}, {len(plan.context.chunks)} chunks", err=True)
    reporter = DraftProgress(total=len(plan.template.sections), quiet=quiet)
    try:
        with reporter:
            return draft_to_file(brief, plan, output, overwrite=overwrite, observer=reporter)
    except SpecdraftError as exc:
        _report_spent(exc, reporter, quiet=quiet, as_json=as_json)
        raise


def _report_spent(exc: SpecdraftError, reporter: DraftProgress, *, quiet: bool, as_json: bool) -> None:
    """What the failed draft spent: a progress note, and with --json the result scripts read."""
    if exc.usage is None:
        return
    if not quiet:
        reporter.note(f"Spent before the failure: {exc.usage.calls} model calls; {token_line(exc.usage)}")
    if as_json:
        failed = {"output": None, "status": "failed", "error": exc.message}
        typer.echo(json.dumps({**failed, "tokens": exc.usage.as_dict()}, indent=2))


def _show_outcome(outcome: DraftOutcome, output: Path | None, *, as_json: bool, quiet: bool) -> None:
    """The spec on stdout when no file was named; the --json result, or the summary on stderr."""
    if output is None:
        sys.stdout.write(outcome.markdown)
    if as_json:
        summary = outcome.summary(str(output) if output else None)
        summary["lint"] = outcome.lint_line
        summary["brief_coverage"] = outcome.brief_coverage
        typer.echo(json.dumps(summary, indent=2))
    elif not quiet:
        _report(outcome, output, f"{outcome.lint_line}; brief coverage {outcome.brief_coverage:.0%}")


def _report(outcome: DraftOutcome, output: Path | None, lint_line: str) -> None:
    usage = outcome.result.usage
    if outcome.language_note:
        typer.echo(outcome.language_note, err=True)
    where = str(output) if output else "stdout"
    typer.echo(
        f"Drafted {len(outcome.result.sections)} sections to {where} in {outcome.seconds:.1f} s "
        f"({usage.calls} model calls, {outcome.result.retries} retries"
        + (f", {usage.cache_hits} answers from the response cache" if usage.cache_hits else "")
        + ")",
        err=True,
    )
    typer.echo(f"{token_line(usage)}; {outcome.cost().describe()}", err=True)
    if outcome.result.needs_attention:
        typer.echo("Needs attention: " + ", ".join(outcome.result.needs_attention), err=True)
    typer.echo(lint_line, err=True)
