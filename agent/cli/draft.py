"""``specdraft draft`` and ``specdraft templates``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.app import app, user_errors
from agent.cli.options import (
    SECTION_HINTS,
    BaseUrlOpt,
    ContextBudgetOpt,
    ContextOpt,
    DraftRetriesOpt,
    KeepGoingOpt,
    ModelFlags,
    ModelOpt,
    ModelPathOpt,
    NoCacheOpt,
    ParallelOpt,
    ProviderOpt,
    StrictOpt,
    TemperatureOpt,
    TemplateOpt,
    TimeoutOpt,
    effective_config,
    sigterm_as_interrupt,
    token_line,
)
from agent.errors import EXIT_ATTENTION, SpecdraftError

if TYPE_CHECKING:
    from agent.drafting.service import DraftOutcome

templates_app = typer.Typer(
    help="List the built-in spec templates, or show one.", invoke_without_command=True, no_args_is_help=False
)
app.add_typer(templates_app, name="templates")


@templates_app.callback()
def templates_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
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

        for section in template.sections:
            kind = "typed" if section.typed else "generated"
            typer.echo(f"## {section.title}  [{kind} model]")
            typer.echo(describe_fields(section.model))
            typer.echo("")


@app.command()
def draft(
    brief: Annotated[str, typer.Argument(help="The feature brief (Markdown or text), or - for stdin.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the spec here; - for stdout. Default: stdout, or <brief name>.md in the "
            "configured output_dir.",
        ),
    ] = None,
    template: TemplateOpt = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    model_path: ModelPathOpt = None,
    temperature: TemperatureOpt = None,
    max_retries: DraftRetriesOpt = None,
    parallel: ParallelOpt = None,
    timeout: TimeoutOpt = None,
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
    context: ContextOpt = None,
    context_budget: ContextBudgetOpt = 600,
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
        from agent.cli.progress import DraftProgress
        from agent.drafting import service
        from agent.drafting.brief import load_brief

        flags = ModelFlags(
            provider, model, base_url, model_path, temperature, max_retries, timeout, parallel, template
        )
        config = effective_config(flags)
        loaded_brief = load_brief(brief)
        plan = service.plan_drafts(
            config,
            use_cache=not no_cache,
            keep_going=not strict,
            context=context,
            context_budget=context_budget,
        )
        output = service.destination(output, config, plan, loaded_brief, overwrite=force)
        quiet = quiet or as_json
        if plan.context is not None and not quiet:
            typer.echo(f"Context: {plan.context.walk.summary()}, {len(plan.context.chunks)} chunks", err=True)
        reporter = DraftProgress(total=len(plan.template.sections), quiet=quiet)
        try:
            with reporter:
                outcome = service.draft_to_file(
                    loaded_brief, plan, output, overwrite=force, observer=reporter
                )
        except SpecdraftError as exc:
            if exc.usage is not None and not quiet:  # what the failed draft spent is still reported
                reporter.note(
                    f"Spent before the failure: {exc.usage.calls} model calls; {token_line(exc.usage)}"
                )
            if as_json and exc.usage is not None:
                # Scripts still learn what the failed draft spent.
                failed = {"output": None, "status": "failed", "error": exc.message}
                typer.echo(json.dumps({**failed, "tokens": exc.usage.as_dict()}, indent=2))
            raise
        if output is None:
            sys.stdout.write(outcome.markdown)
        if as_json:
            summary = outcome.summary(str(output) if output else None)
            summary["lint"] = outcome.lint_line
            summary["brief_coverage"] = outcome.brief_coverage
            typer.echo(json.dumps(summary, indent=2))
        elif not quiet:
            _report(outcome, output, f"{outcome.lint_line}; brief coverage {outcome.brief_coverage:.0%}")
        if outcome.result.needs_attention:
            raise typer.Exit(EXIT_ATTENTION)


def _report(outcome: DraftOutcome, output: Path | None, lint_line: str) -> None:
    usage = outcome.result.usage
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
