"""``specdraft batch``: draft many briefs concurrently, resume, and report."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agent.cli.app import SECTION_HINTS, app, sigterm_as_interrupt, user_errors
from agent.cli.option_groups import with_option_groups
from agent.cli.options import (
    BatchModelFlags,
    ContextFlags,
    JobsOpt,
    KeepGoingOpt,
    NoCacheOpt,
    OutputDirOpt,
    StrictOpt,
    TemplateOpt,
    WaveFlags,
    effective_config,
)
from agent.cli.usage_line import token_line
from agent.drafting.batch_journal import Via
from agent.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from agent.drafting.batch import BatchJob, BatchReport, BriefRecord
    from agent.io.config import EffectiveConfig

#: above this many briefs the summary table lists only the ones that did not succeed
TABLE_ROWS = 40


@app.command()
@with_option_groups
def batch(
    inputs: Annotated[
        str | None,
        typer.Argument(
            help="A directory of .md/.txt briefs, a quoted glob ('rfcs/**/*.md'), a .jsonl or a .csv file "
            "(not needed with --status or --cancel).",
            metavar="INPUTS",
            show_default=False,
        ),
    ] = None,
    output_dir: OutputDirOpt = None,
    template: TemplateOpt = None,
    *,
    flags: BatchModelFlags,
    keep_going: KeepGoingOpt = True,
    strict: StrictOpt = False,
    jobs: JobsOpt = None,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Redraft every brief, even unchanged finished ones.")
    ] = False,
    no_cache: NoCacheOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print report.json's content on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output and no summary.")] = False,
    context: ContextFlags,
    waves: WaveFlags,
) -> None:
    """Draft a spec for every brief in INPUTS into OUTPUT_DIR, up to --jobs at once.

    Re-running skips briefs whose spec exists and whose brief, template, prompts and model settings
    are unchanged (--force redoes all; identical requests are still answered from the response cache
    unless --no-cache). Ctrl-C or SIGTERM stops cleanly; report.json marks what was interrupted.
    The summary ends with the tokens spent and the estimated cost. A section that never validates
    is marked [NEEDS ATTENTION] and its brief's spec is still written; a brief fails only when no spec
    could be written (bad input, server gone; --strict also fails a brief on a failed section).
    Tokens, model calls and seconds are counted for every brief, failed or interrupted ones too.

    With --via batch-api every wave of section requests of all briefs is one JSONL file run as a batch
    on the server's /v1/batches (OpenAI: half price, within 24 hours), polled until it ends; with
    --via jsonl the wave's request file is written for `vllm run-batch` and --ingest RESULTS.jsonl goes
    on. Either way a run picks up where the last one stopped (OUTPUT_DIR/batch/journal.json).

    Exit codes: 0 all ok (or the requests written, waiting for --ingest), 1 none could be drafted, 2 bad
    input, 3 some failed, were malformed or need attention, 130 interrupted.

    Options not given fall back to SPECDRAFT_* variables, specdraft.toml and the user configuration
    (see `specdraft config show`).
    """
    with user_errors(SECTION_HINTS), sigterm_as_interrupt():
        config = effective_config(flags, template=template, jobs=jobs, output_dir=output_dir)
        if waves.status or waves.cancel:
            _journal_command(config, cancel=waves.cancel, as_json=as_json)
            return
        job = _plan_batch(
            inputs, config, force=force, use_cache=not no_cache, keep_going=not strict, context=context
        )
        progress = BatchProgress(quiet=quiet or as_json)
        with progress:
            report = _run(job, progress, waves)
        if as_json:
            typer.echo(json.dumps(report.as_dict(), indent=2))
        elif not quiet:
            print_summary(report)
        raise typer.Exit(report.exit_code)


def _run(job: BatchJob, progress: BatchProgress, waves: WaveFlags) -> BatchReport:
    """The batch live, or in waves (--via batch-api or jsonl, --ingest)."""
    from agent.drafting.batch import run_batch
    from agent.drafting.batch_via import check_no_open_waves, run_via

    via = Via.JSONL if waves.ingest is not None and waves.via is Via.LIVE else waves.via
    if via is Via.LIVE:
        check_no_open_waves(job.output_dir)
        return run_batch(job, progress)
    return run_via(job, via, progress, ingest=waves.ingest, poll=waves.poll)


def _journal_command(config: EffectiveConfig, *, cancel: bool, as_json: bool) -> None:
    """--status or --cancel: the waves journaled in the output directory."""
    from agent.drafting.batch_via import batch_status, cancel_batches
    from agent.llm.providers import model_settings

    output_dir = _output_dir(config)
    settings = model_settings(config.settings, slots=config.settings.jobs)
    if cancel:
        stopped = cancel_batches(output_dir, settings)
        if as_json:
            typer.echo(json.dumps(stopped, indent=2))
        for entry in stopped if not as_json else []:
            typer.echo(
                f"wave {entry['wave']} part {entry['part']}: {entry['batch_id'] or entry['requests_file']} "
                f"{entry['status']}",
                err=True,
            )
        if not stopped and not as_json:
            typer.echo("No unfinished batch to cancel.", err=True)
        return
    shown = batch_status(output_dir, settings)
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    typer.echo(
        f"--via {shown['via']}: {shown['waves']} wave(s), {shown['requests']} request(s), "
        f"{shown['answers']} answer(s) collected, {shown['lines_without_answer']} line(s) without an answer",
        err=True,
    )
    for entry in shown["submissions"]:
        done = "collected" if entry["collected"] else "not collected"
        typer.echo(
            f"wave {entry['wave']} part {entry['part']}: {entry['requests']} requests, "
            f"{entry['batch_id'] or entry['requests_file']}, {entry['status']}, {done}",
            err=True,
        )


def _output_dir(config: EffectiveConfig) -> Path:
    if config.settings.output_dir is None:
        raise InputError(
            "Where should the specs go? Give -o DIR (or set output_dir in specdraft.toml).",
            hint="e.g. specdraft batch briefs/ -o specs/",
        )
    return config.settings.output_dir


def _plan_batch(
    inputs: str | None,
    config: EffectiveConfig,
    *,
    force: bool,
    use_cache: bool,
    keep_going: bool,
    context: ContextFlags,
) -> BatchJob:
    """Everything checked before any model work: the output directory, the settings, template and
    context, and the briefs (a directory holding none is an error; malformed ones are reported)."""
    from agent.drafting.batch import BatchJob
    from agent.drafting.batch_inputs import load_inputs
    from agent.drafting.service import plan_drafts
    from agent.io.output import check_output_dir

    cfg = config.settings
    if inputs is None:
        raise InputError("Which briefs? Give INPUTS: a directory, a quoted glob, a .jsonl or a .csv file.")
    output_dir = _output_dir(config)
    check_output_dir(output_dir)  # before any model work: a file or an unwritable place is found now
    plan = plan_drafts(
        config,
        slots=cfg.jobs,
        use_cache=use_cache,
        keep_going=keep_going,
        context=context.paths,
        context_budget=context.budget,
    )
    loaded = load_inputs(inputs)
    if not loaded.items and not loaded.problems:
        raise InputError(f"No briefs found in '{inputs}'.")
    output_dir.mkdir(parents=True, exist_ok=True)
    return BatchJob.from_plan(
        plan, loaded.items, output_dir, jobs=cfg.jobs, force=force, problems=loaded.problems
    )


class BatchProgress:
    """One rich bar on a terminal (done, failed, running, tokens, ETA), plain lines otherwise, or nothing."""

    def __init__(self, *, quiet: bool = False, stream: Any = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.interactive = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total = self.done = self.failed = self.running = self.token_count = 0
        self.t0 = time.perf_counter()
        self._live: Any = None
        self._task: Any = None
        self._running: set[str] = set()

    def __enter__(self) -> BatchProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._refresh()
            self._live.stop()
            self._live = None

    def _print(self, line: str) -> None:
        if self.quiet:
            return
        from agent.io.sanitize import for_terminal

        line = for_terminal(line)
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False)
        else:
            print(f"[{time.perf_counter() - self.t0:7.1f}s] {line}", file=self.stream, flush=True)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(
                self._task,
                completed=self.done + self.failed,
                failed=self.failed,
                running=self.running,
                tokens=self.token_count,
            )

    def planned(self, total: int, skipped: int) -> None:
        self.total = total - skipped
        if skipped:
            self._print(f"{skipped} of {total} briefs unchanged since their spec was drafted; skipping them")
        if self.interactive and self.total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._live = Progress(
                TextColumn("[bold]Batch[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("[red]{task.fields[failed]} failed[/]"),
                TextColumn("{task.fields[running]} running"),
                TextColumn("{task.fields[tokens]} tokens"),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
            )
            self._live.start()
            self._task = self._live.add_task("", total=self.total, failed=0, running=0, tokens=0)

    def note(self, message: str) -> None:
        self._print(message)

    def started(self, record: BriefRecord) -> None:
        self._running.add(record.id)
        self.running = len(self._running)
        self._refresh()
        if not self.interactive:
            self._print(f"{record.id}: drafting")

    def tokens(self, record: BriefRecord, completion_tokens: int) -> None:
        self.token_count += completion_tokens
        self._refresh()

    def finished(self, record: BriefRecord) -> None:
        self._running.discard(record.id)
        self.running = len(self._running)
        if record.status == "failed":
            self.failed += 1
            first = (record.error or "failed").splitlines()[0]
            self._print(f"{record.id}: FAILED ({first})")
        else:
            self.done += 1
            extra = (
                f", needs attention: {', '.join(record.needs_attention)}" if record.needs_attention else ""
            )
            self._print(
                f"{record.id}: {record.status} -> {record.output} ({record.sections} sections, "
                f"{record.completion_tokens} tokens, {record.seconds:.1f} s{extra})"
            )
        self._refresh()


def print_summary(report: BatchReport) -> None:
    """The summary on stderr: a table of at most TABLE_ROWS briefs, the totals, tokens and cost, the
    servers used, and the malformed inputs."""
    from rich.console import Console

    console = Console(file=sys.stderr)
    _print_table(console, report)
    _print_totals(console, report)
    for problem in report.problems[:TABLE_ROWS]:
        console.print(f"malformed: {problem.where}: {problem.message}", markup=False, highlight=False)
    if len(report.problems) > TABLE_ROWS:
        console.print(
            f"... and {len(report.problems) - TABLE_ROWS:,} more malformed input(s) in report.json.",
            markup=False,
            highlight=False,
        )


#: how each status is coloured in the summary table
_STYLES = {
    "ok": "green",
    "skipped": "dim",
    "attention": "yellow",
    "failed": "red",
    "interrupted": "red",
    "waiting": "cyan",
}


def _print_table(console: Console, report: BatchReport) -> None:
    """One row per brief; with more than TABLE_ROWS briefs only those that did not succeed, at most
    TABLE_ROWS of them (a 10,000-brief batch interrupted prints a summary, not 10,000 rows)."""
    from rich.markup import escape
    from rich.table import Table

    rows = report.records
    if len(rows) > TABLE_ROWS:
        rows = [r for r in rows if r.status not in ("ok", "skipped")]
    hidden = max(0, len(rows) - TABLE_ROWS)
    rows = rows[:TABLE_ROWS]
    if rows:
        table = Table(
            "id", "status", "sect.", "attn.", "retries", "tokens", "s", "output or error", expand=True
        )
        for r in rows:
            where = (
                r.output
                if r.status in ("ok", "attention", "skipped")
                else (r.error or "").splitlines()[0][:80]
            )
            table.add_row(
                escape(r.id),
                f"[{_STYLES.get(r.status, '')}]{r.status}[/]",
                str(r.sections),
                str(len(r.needs_attention)),
                str(r.retries),
                str(r.completion_tokens),
                f"{r.seconds:.1f}",
                escape(where or ""),
            )
        console.print(table)
    if hidden:
        console.print(
            f"... and {hidden:,} more brief(s) that did not succeed; report.json lists every one.",
            markup=False,
            highlight=False,
        )


def _print_totals(console: Console, report: BatchReport) -> None:
    """Briefs by outcome, seconds, tokens and cost, and each server's requests and failures."""
    totals = report.as_dict()["totals"]
    console.print(
        f"{totals['briefs']} briefs: {totals['ok']} ok, {totals['attention']} need attention, "
        f"{totals['failed']} failed, {totals['skipped']} skipped (unchanged), "
        f"{totals['interrupted']} interrupted, {totals['malformed']} malformed input(s); "
        f"{report.seconds:.1f} s. Report: {report.output_dir / 'report.json'}",
        markup=False,
        highlight=False,
    )
    spent = report.usage()
    hits = f"; {spent.cache_hits} answers from the response cache" if spent.cache_hits else ""
    cost = report.cost().describe()
    if report.batch:  # sent in waves: the batch price, next to what the same requests cost live
        live = report.live_cost()
        cost += f"; live: {'unknown' if live.usd is None else f'${live.usd:.4f}'}"
        cost = f"{cost}; {report.batch.get('waves', 0)} wave(s), {report.batch.get('requests', 0)} request(s)"
    console.print(f"{token_line(spent)}{hits}; {cost}", markup=False, highlight=False)
    if report.replicas:
        servers = ", ".join(
            f"{r['url']} {r['requests']} request(s)"
            + (f", {r['failures']} failed (last: {r['last_error']})" if r["failures"] else "")
            for r in report.replicas
        )
        console.print(
            f"Servers: {servers}; {spent.failovers} request(s) moved to another server.",
            markup=False,
            highlight=False,
        )
