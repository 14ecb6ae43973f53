"""``specdraft draft`` and ``specdraft templates``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.app import app, user_errors
from agent.cli.options import (
    BaseUrlOpt,
    DraftRetriesOpt,
    KeepGoingOpt,
    ModelOpt,
    ModelPathOpt,
    NoCacheOpt,
    ProviderOpt,
    StrictOpt,
    TemperatureOpt,
    TemplateOpt,
    TimeoutOpt,
    check_price_table,
    model_settings,
    sigterm_as_interrupt,
    token_line,
)
from agent.errors import EXIT_ATTENTION, InputError, SpecdraftError

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
        from agent.spec.template_resolver import list_templates

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
        from agent.spec.template_resolver import load_template

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
        Path | None, typer.Option("-o", "--output", help="Write the spec here (default: stdout).")
    ] = None,
    template: TemplateOpt = None,
    provider: ProviderOpt = "local",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    model_path: ModelPathOpt = None,
    temperature: TemperatureOpt = 0.2,
    max_retries: DraftRetriesOpt = None,
    parallel: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Most sections drafted at once (and embedded server slots); fewer run at once when "
            "the measured engine speed could not finish them inside --timeout.",
        ),
    ] = 4,
    timeout: TimeoutOpt = 300.0,
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
) -> None:
    """Draft a spec from BRIEF: every template section filled by the model and validated.

    A section that never validates, or whose model call passes --timeout, is marked
    [NEEDS ATTENTION: reason] and the rest of the spec is still written (exit 3); --strict fails fast.
    Completion budgets and parallel calls are fitted to the engine's measured speed.

    Exit codes: 0 ok, 1 model or runtime error (or a failed section with --strict), 2 bad input,
    3 written with sections needing attention.
    """
    with user_errors(), sigterm_as_interrupt():
        from agent.cli.progress import DraftProgress
        from agent.drafting.brief import load_brief
        from agent.drafting.drafter import DraftOptions
        from agent.spec.template_resolver import load_template

        settings = model_settings(
            provider=provider,
            model=model,
            base_url=base_url,
            model_path=model_path,
            temperature=temperature,
            timeout=timeout,
            parallel=parallel,
            no_cache=no_cache,
        )
        check_price_table(settings)
        if output is not None:
            _check_output(output, force)
        loaded_brief = load_brief(brief)
        loaded_template = load_template(template)
        options = DraftOptions(
            max_retries=max_retries,
            keep_going=not strict,
            parallel=parallel,
            temperature=temperature,
            probe=True,
        )
        try:
            outcome = _run(
                loaded_brief,
                loaded_template,
                settings,
                options,
                quiet=quiet or as_json,
                progress=DraftProgress,
                output=output,
            )
        except SpecdraftError as exc:
            if as_json and exc.usage is not None:
                # Scripts still learn what the failed draft spent.
                failed = {"output": None, "status": "failed", "error": exc.message}
                typer.echo(json.dumps({**failed, "tokens": exc.usage.as_dict()}, indent=2))
            raise
        if output is not None:
            from agent.io.atomic import atomic_write_text

            atomic_write_text(output, outcome.markdown, overwrite=force)
        else:
            sys.stdout.write(outcome.markdown)
        lint_line = _lint_summary(outcome.markdown, loaded_template.path)
        if as_json:
            summary = outcome.summary(str(output) if output else None)
            summary["lint"] = lint_line
            typer.echo(json.dumps(summary, indent=2))
        elif not quiet:
            _report(outcome, output, lint_line)
        if outcome.result.needs_attention:
            raise typer.Exit(EXIT_ATTENTION)


def _check_output(output: Path, force: bool) -> None:
    """Refuse before any model work: a missing directory or an existing file without --force."""
    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(
            f"Output directory '{directory}' does not exist.",
            hint="Create it first, or choose another -o path.",
        )
    if output.is_dir():
        raise InputError(f"Output path '{output}' is a directory; give a file name.")
    if output.exists() and not force:
        raise InputError(
            f"'{output}' already exists; not overwriting it.",
            hint="Pass --force to replace it, or choose another path with -o.",
        )


def _run(brief, template, settings, options, *, quiet: bool, progress, output):  # type: ignore[no-untyped-def]
    from agent.drafting.service import draft_with_endpoint
    from agent.llm.providers import open_endpoint

    reporter = progress(total=len(template.sections), quiet=quiet)
    with reporter:
        reporter.note("Starting the model...")
        with open_endpoint(settings) as endpoint:
            if endpoint.notice:
                reporter.note(endpoint.notice)
            if endpoint.load_seconds:
                reporter.note(f"Model {endpoint.model} loaded in {endpoint.load_seconds:.1f} s")
            try:
                return draft_with_endpoint(
                    endpoint, brief, template, settings, options, reporter.on_event, spec_path=output
                )
            except SpecdraftError as exc:
                if exc.usage is not None and not quiet:
                    # What the failed draft spent is still reported.
                    spent = exc.usage
                    reporter.note(f"Spent before the failure: {spent.calls} model calls; {token_line(spent)}")
                raise


def _lint_summary(markdown: str, template_path: Path) -> str:
    from agent.signoff.lint import lint_text, summary_line
    from agent.spec.document import read_template_outline

    return summary_line(lint_text(markdown, read_template_outline(template_path)))


def _report(outcome, output: Path | None, lint_line: str) -> None:  # type: ignore[no-untyped-def]
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
