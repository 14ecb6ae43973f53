"""``specdraft export SPEC --to json|markdown|jira-csv|github``: a spec's tasks into the team's tracker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.app import app, user_errors
from agent.errors import InputError
from agent.io.atomic import atomic_write_text
from agent.io.output import check_output_path
from agent.io.redact import display_url

if TYPE_CHECKING:
    from agent.integrations.export.tasks import Task

FORMATS = ("json", "markdown", "jira-csv", "github")


@app.command("export")
def export_command(
    spec: Annotated[Path, typer.Argument(help="The spec Markdown file.", show_default=False)],
    to: Annotated[str, typer.Option("--to", help="json | markdown | jira-csv | github")] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing -o FILE.")] = False,
    repo: Annotated[
        str | None,
        typer.Option("--repo", help="GitHub owner/name (default: the origin remote, if on GitHub)."),
    ] = None,
    milestones: Annotated[
        bool, typer.Option("--milestones", help="GitHub: phases as milestones, not labels.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="GitHub: print what would be created; no token.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
) -> None:
    """Export the spec's tasks (T-001...) with their phase, cited requirements and acceptance criteria.

    GitHub export is idempotent: tasks recorded in SPEC.exports.json next to the spec, or with an issue
    whose body carries this spec's hidden marker, are skipped; what is created is recorded there.
    Token: GITHUB_TOKEN or GH_TOKEN; API: GITHUB_API_URL.
    """
    from agent.integrations.export.tasks import load_tasks

    with user_errors():
        if to not in FORMATS:
            raise InputError(
                f"--to '{to}' is not a known format.", hint=f"Choose one of: {', '.join(FORMATS)}."
            )
        if output is not None:  # the one output check: never over the spec it exports, nor a FIFO
            check_output_path(output, overwrite=force, inputs=[spec])
        _doc, tasks = load_tasks(spec)
        if to == "github":
            _to_github(spec, tasks, repo=repo, dry_run=dry_run, milestones=milestones, as_json=as_json)
        else:
            _to_file(spec, tasks, to, output, as_json=as_json)


def _to_github(
    spec: Path, tasks: list[Task], *, repo: str | None, dry_run: bool, milestones: bool, as_json: bool
) -> None:
    """One issue per task not exported yet (or the plan, with --dry-run), and what was done."""
    from agent.integrations.export import github

    target = github.check_repo(repo) if repo else github.repo_from_remote(spec.resolve().parent)

    def _created(task_id: str, entry: dict[str, object]) -> None:
        if not as_json:
            link = display_url(str(entry.get("url")))
            typer.echo(f"created {task_id}: #{entry.get('number')} {link}", err=True)

    result = github.export_to_github(
        spec, tasks, repo=target, dry_run=dry_run, milestones=milestones, on_created=_created
    )
    if as_json:
        summary = {
            "repo": result.repo,
            "dry_run": dry_run,
            "created": result.created,
            "skipped": result.skipped,
            "changed": result.changed,
            "would_create": [p["title"] for p in result.planned],
        }
        typer.echo(json.dumps(summary, indent=2))
        return
    for planned in result.planned:
        typer.echo(f"would create: {planned['title']}")
    typer.echo(
        f"{result.repo}: {len(result.created)} created, {len(result.skipped)} already exported"
        + (f", {len(result.planned)} would be created" if dry_run else "")
    )
    if result.changed:
        typer.echo(f"text changed since export (issues not updated): {', '.join(result.changed)}")


def _to_file(spec: Path, tasks: list[Task], to: str, output: Path | None, *, as_json: bool) -> None:
    """The tasks as JSON, Markdown or Jira CSV, on stdout or in ``output``."""
    from agent.integrations.export import formats

    render = {"json": formats.to_json, "markdown": formats.to_markdown, "jira-csv": formats.to_jira_csv}[to]
    text = render(tasks, spec_name=spec.name)
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_text(output, text)
    if as_json and output is not None:
        typer.echo(json.dumps({"format": to, "tasks": len(tasks), "output": str(output)}))
