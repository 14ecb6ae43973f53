"""``specdraft trace`` and ``specdraft eval``: how far a spec can be trusted, without a model.

trace: the requirement -> endpoints, tests, success criteria, tasks matrix and what nothing covers.
eval: a scorecard per spec and overall (lint, smells, brief coverage, off-topic, duplicates, trace, usage),
optionally compared with a baseline ``--json`` result; ``--draft`` drafts briefs first and scores those.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.cli.app import app, user_errors
from agent.cli.option_groups import with_option_groups
from agent.cli.options import (
    CheckBriefOpt,
    CheckTemplateOpt,
    ContextFlags,
    DraftModelFlags,
    JsonOpt,
    SpecArg,
    effective_config,
)
from agent.cli.review import brief_facts
from agent.errors import InputError
from agent.io.atomic import atomic_write_text
from agent.io.sanitize import for_terminal
from agent.signoff.eval import FIGURES, compare, markdown, report, score
from agent.specdoc.document import load_spec
from agent.specdoc.template_resolver import spec_outline
from agent.specdoc.trace import KINDS, trace_document

if TYPE_CHECKING:
    from agent.io.config import EffectiveConfig


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@app.command("trace")
def trace_command(spec: SpecArg, as_json: JsonOpt = False) -> None:
    """Print which endpoints, tests, success criteria and tasks cite each requirement (FR-001, ...).

    Exit 0 when every requirement is cited somewhere, 1 when some are not, 2 bad input.
    """
    with user_errors():
        matrix = trace_document(load_spec(spec))
        if as_json:
            typer.echo(json.dumps(matrix.to_dict(), indent=2, ensure_ascii=False))
        else:
            table = Table(title=f"{spec}: traceability", title_justify="left")
            table.add_column("Requirement", no_wrap=True)
            for kind, _ in KINDS:
                table.add_column(kind.capitalize())
            for req in matrix.requirements:
                cells = [_refs(req.covered_by[kind]) for kind, _ in KINDS]
                table.add_row(req.id if req.covered else f"[yellow]{req.id}[/]", *cells)
            console = _console()
            console.print(table)
            uncovered = ", ".join(r.id for r in matrix.uncovered) or "none"
            console.print(
                f"{len(matrix.requirements)} requirement(s), {matrix.traced_share:.0%} traced; "
                f"covered by nothing: {escape(uncovered)}"
            )
        if matrix.uncovered:
            raise typer.Exit(1)


def _refs(lines: list[str]) -> str:
    """The spec's lines citing a requirement, shortened and safe to print (no control sequences)."""
    lines = [for_terminal(line) for line in lines]
    return escape("\n".join(line if len(line) <= 48 else line[:45] + "..." for line in lines)) or "-"


@app.command("eval")
@with_option_groups
def eval_command(
    specs: Annotated[list[Path], typer.Argument(help="Specs to score (or briefs with --draft).")],
    brief: CheckBriefOpt = None,
    template: CheckTemplateOpt = None,
    as_json: JsonOpt = False,
    report_path: Annotated[
        Path | None, typer.Option("--report", help="Also write the scorecard as a Markdown table to FILE.")
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline", help="An earlier `specdraft eval --json` result: show every figure's change."
        ),
    ] = None,
    draft: Annotated[
        bool,
        typer.Option("--draft", help="The arguments are briefs: draft each (keep going), then score it."),
    ] = False,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="With --draft: where the drafted specs are written.")
    ] = Path("eval-specs"),
    *,
    flags: DraftModelFlags,
    context: ContextFlags,
) -> None:
    """Score specs: sections, lint by rule, smells per 10 requirements, brief coverage, off-topic items,
    duplicates, clarifications, traced share, tokens, seconds, cost.

    The brief comes from --brief, else from each spec's front matter. Exit 0, or 2 on bad input.
    """
    with user_errors():
        old = _read_baseline(baseline) if baseline else None
        usage: dict[Path, dict[str, float | None]] = {}
        drafted_from: dict[Path, Path] = {}
        if draft:
            config = effective_config(flags, template=template)
            # the briefs just drafted from are known: no need to trust the specs' recorded paths
            drafted_from = {output_dir / f"{brief_path.stem}.md": brief_path for brief_path in specs}
            specs, usage = _draft_all(specs, output_dir, config, context)
        cards: list[dict[str, Any]] = []
        for path in specs:
            doc = load_spec(path)
            outline = spec_outline(template, doc, path)
            card = score(
                doc, outline, brief_facts(path, doc, brief or drafted_from.get(path)), path=str(path)
            )
            card.update({k: v for k, v in usage.get(path, {}).items() if v is not None})
            cards.append(card)
        result = report(cards)
        if old is not None:
            result["delta"] = compare(result, old)
        if report_path is not None:
            atomic_write_text(report_path, markdown(result), overwrite=True)
        if as_json:
            typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        else:
            _print(result)


def _draft_all(
    briefs: list[Path], output_dir: Path, config: EffectiveConfig, context: ContextFlags
) -> tuple[list[Path], dict[Path, dict[str, float | None]]]:
    """Draft every brief (sections that never validate are marked, not fatal) into ``output_dir``,
    one after another on one model; what each spent goes into the scorecard."""
    from agent.drafting.brief import load_brief
    from agent.drafting.service import check_destination, draft_to_file, open_drafting, plan_drafts

    loaded = [(path, load_brief(path)) for path in briefs]  # bad input fails before any model work
    # --context: one walk and index, the brief-wide chunks chosen per brief
    plan = plan_drafts(config, use_cache=False, context=context.paths, context_budget=context.budget)
    output_dir.mkdir(parents=True, exist_ok=True)
    # a FIFO in a spec's place, or the brief itself, is found before any model call
    for path, brief in loaded:
        check_destination(output_dir / f"{path.stem}.md", plan, brief, overwrite=True, force_hint="")
    written: list[Path] = []
    usage: dict[Path, dict[str, float | None]] = {}
    with open_drafting(plan) as endpoint:
        for index, (path, brief) in enumerate(loaded, 1):
            spec = output_dir / f"{path.stem}.md"
            typer.echo(f"[{index}/{len(loaded)}] drafting {path} -> {spec}", err=True)
            outcome = draft_to_file(brief, plan, spec, overwrite=True, endpoint=endpoint)
            tokens = outcome.result.usage.as_dict()
            total = tokens["prompt_tokens"] + tokens["completion_tokens"]
            usage[spec] = {
                "tokens": float(total),
                "seconds": round(outcome.seconds, 2),
                "cost": outcome.cost().usd,
            }
            typer.echo(f"  {outcome.seconds:.0f} s, {total} tokens", err=True)
            written.append(spec)
    return written, usage


def _read_baseline(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"Cannot read the baseline '{path}': {exc}.",
            hint="Pass a file written by `specdraft eval --json`.",
        ) from None
    if not isinstance(data, dict) or data.get("schema") != "specdraft.eval/1":
        raise InputError(
            f"'{path}' is not a `specdraft eval --json` result.",
            hint="Pass a file written by `specdraft eval --json`.",
        )
    return data


def _print(result: dict[str, Any]) -> None:
    table = Table(title="specdraft eval", title_justify="left")
    table.add_column("Figure")
    for card in result["specs"]:
        table.add_column(escape(Path(card["path"]).name))
    table.add_column("overall")
    if "delta" in result:
        table.add_column("change")
    for key in FIGURES:
        row = [key, *(_fmt(c.get(key)) for c in result["specs"]), _fmt(result["overall"].get(key))]
        if "delta" in result:
            change = result["delta"].get(key)
            row.append("-" if change is None else f"{change:+g}")
        table.add_row(*row)
    _console().print(table)
    rules = result["overall"]["lint_by_rule"]
    if rules:
        _console().print("lint by rule: " + ", ".join(f"{rule} {n}" for rule, n in rules.items()))


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
