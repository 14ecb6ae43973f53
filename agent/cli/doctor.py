"""``specdraft doctor``: versions, models, settings, the provider and the files a draft needs, checked."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.app import app, user_errors
from agent.cli.options import JsonOpt
from agent.errors import EXIT_OK, EXIT_RUNTIME

if TYPE_CHECKING:
    from agent.cli.diagnostics import DoctorReport

_STYLES = {"ok": "green", "info": "cyan", "warn": "yellow", "fail": "bold red"}


@app.command()
def doctor(
    as_json: JsonOpt = False,
    probe: Annotated[
        bool,
        typer.Option(
            "--probe",
            help="Also start the embedded server (provider local) and ask it for its models; "
            "without it the server is not started.",
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option(min=0.5, max=120.0, help="Seconds to wait for the provider's answer.")
    ] = 5.0,
) -> None:
    """Check that a draft can run here: Python and package versions, the embedded engine, local models,
    the model a draft would use and why, free memory, the provider (GET base_url/models), the API key
    variable (set or not; never its value), writable cache and config locations, ssh-keygen.

    Exit codes: 0 a draft can run (warnings allowed), 1 something must be fixed first.
    """
    with user_errors():
        from agent.cli.diagnostics import run_doctor

        report = run_doctor(probe=probe, timeout=timeout)
        if as_json:
            typer.echo(json.dumps(report.as_dict(), indent=2))
        else:
            _print(report)
        raise typer.Exit(EXIT_OK if report.ready else EXIT_RUNTIME)


def _print(report: DoctorReport) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=False)
    table = Table("check", "", "detail", title="specdraft doctor", title_justify="left", expand=False)
    for check in report.checks:
        style = _STYLES[check.status]
        table.add_row(escape(check.name), f"[{style}]{check.status}[/]", escape(check.detail))
    console.print(table)
    if report.models:
        models = Table("local model", "size", "checked", title_justify="left")
        for m in report.models:
            mark = "[green]ok[/]" if m.verified else "[red]failed[/]"
            models.add_row(escape(m.name), f"{m.size_bytes / 1e6:,.0f} MB", f"{mark} {escape(m.how)}")
        console.print(models)
    if report.model:
        console.print(f"A draft would use: {report.model} ({report.model_reason})", markup=False)
    for check in report.problems:
        if check.fix:
            console.print(f"{check.status.upper()} {check.name}: {check.fix}", markup=False)
    if report.ready:
        console.print("Ready: a draft can run.", style="green")
    else:
        failed = ", ".join(dict.fromkeys(c.name for c in report.checks if c.status == "fail"))
        console.print(f"Not ready: fix {failed} first.", style="bold red", markup=False)
