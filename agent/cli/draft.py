"""``specdraft draft`` and ``specdraft templates``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.app import app, user_errors
from agent.cli.options import (
    SECTION_HINTS,
    BaseUrlOpt,
    ContextBudgetOpt,
    ContextOpt,
    DraftRetriesOpt,
    KeepGoingOpt,
    ModelOpt,
    ModelPathOpt,
    NoCacheOpt,
    ParallelOpt,
    ProviderOpt,
    StrictOpt,
    TemperatureOpt,
    TemplateOpt,
    TimeoutOpt,
    check_price_table,
    chosen_retries,
    context_paths,
    effective_config,
    settings_from_config,
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
        from agent.drafting.brief import load_brief
        from agent.drafting.drafter import DraftOptions
        from agent.specdoc.template_resolver import load_template

        config = effective_config(
            template=template,
            provider=provider,
            model=model,
            base_url=base_url,
            model_path=model_path,
            temperature=temperature,
            max_retries=max_retries,
            parallel=parallel,
            timeout=timeout,
        )
        cfg = config.settings
        settings = settings_from_config(config, slots=cfg.parallel, no_cache=no_cache)
        check_price_table(settings)
        loaded_brief = load_brief(brief)
        loaded_template = load_template(cfg.template)
        output = _output_path(output, cfg.output_dir, brief, loaded_brief.title)
        if output is not None:
            from agent.io.output import check_output_path

            # before any model work: a bad -o is found now, not after the whole draft
            check_output_path(
                output, overwrite=force, inputs=[brief, *([str(cfg.template)] if cfg.template else [])]
            )
        options = DraftOptions(
            max_retries=chosen_retries(config),
            keep_going=not strict,
            parallel=cfg.parallel,
            temperature=cfg.temperature,
            probe=True,
        )
        pack = None
        context = context_paths(context)
        if context:
            from agent.context.retrieval import build_context

            pack = build_context(context, f"{loaded_brief.title}\n{loaded_brief.body}", budget=context_budget)
            if not (quiet or as_json):
                typer.echo(f"Context: {pack.walk.summary()}, {len(pack.chunks)} chunks", err=True)
        try:
            outcome = _run(
                loaded_brief,
                loaded_template,
                settings,
                options,
                quiet=quiet or as_json,
                progress=DraftProgress,
                output=output,
                context=pack,
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
        from agent.checks.lint import summary_line

        lint_line = summary_line(outcome.findings)
        coverage = _brief_coverage(outcome.markdown, loaded_brief)
        if as_json:
            summary = outcome.summary(str(output) if output else None)
            summary["lint"] = lint_line
            summary["brief_coverage"] = coverage
            typer.echo(json.dumps(summary, indent=2))
        elif not quiet:
            _report(outcome, output, f"{lint_line}; brief coverage {coverage:.0%}")
        if outcome.result.needs_attention:
            raise typer.Exit(EXIT_ATTENTION)


def _output_path(output: Path | None, output_dir: Path | None, brief: str, title: str) -> Path | None:
    """-o as given (- is stdout); without it, <brief name>.md in a configured output_dir, else stdout."""
    if output is not None:
        return None if str(output) == "-" else output
    if output_dir is None:
        return None
    from agent.io.slug import slugify

    name = slugify(Path(brief).stem if brief != "-" else title)
    if output_dir.exists() and not output_dir.is_dir():
        raise InputError(f"The configured output_dir '{output_dir}' is a file; it must be a directory.")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create the configured output_dir '{output_dir}': {exc.strerror}.") from None
    return output_dir / f"{name}.md"


def _run(brief, template, settings, options, *, quiet: bool, progress, output, context=None):  # type: ignore[no-untyped-def]
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
                    endpoint,
                    brief,
                    template,
                    settings,
                    options,
                    reporter.on_event,
                    spec_path=output,
                    context=context,
                )
            except SpecdraftError as exc:
                if exc.usage is not None and not quiet:
                    # What the failed draft spent is still reported.
                    spent = exc.usage
                    reporter.note(f"Spent before the failure: {spent.calls} model calls; {token_line(spent)}")
                raise


def _brief_coverage(markdown: str, brief) -> float:  # type: ignore[no-untyped-def]
    from agent.specdoc.grounding import extract

    return extract(brief.body, brief.title).coverage(markdown)[0]


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
