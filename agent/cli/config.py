"""``specdraft config show`` and ``specdraft init``: the settings in force, and a commented project file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.cli.app import app, user_errors
from agent.cli.options import JsonOpt
from agent.drafting.policy import describe_tiers
from agent.errors import InputError

config_app = typer.Typer(
    help="specdraft's settings: flags > SPECDRAFT_* variables > specdraft.toml (or \\[tool.specdraft] in "
    "pyproject.toml, found by walking up to the repository root) > ~/.config/specdraft/config.toml "
    "> defaults. See docs/configuration.md.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


def _shown(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


def _servers(urls: tuple[str, ...]) -> str | list[str] | None:
    """base_url as ``config show`` prints it: masked; none, one URL, or the list of several."""
    from agent.io.redact import display_url

    masked = [display_url(url) for url in urls]
    return masked if len(masked) > 1 else masked[0] if masked else None


@config_app.command("show")
def config_show(as_json: JsonOpt = False) -> None:
    """Print every effective setting and where it came from (variable, file:line, or default)."""
    with user_errors():
        from agent.io.config import ENV_VARS, KEYS, load_config

        config = load_config()
        values = config.settings.model_dump()
        values["base_url"] = _servers(config.settings.base_url)
        rows = [
            {"key": key, "value": _shown(values[key]), "source": config.sources[key], "env": ENV_VARS[key]}
            for key in KEYS
        ]
        files = {
            "project": str(config.project_file) if config.project_file else None,
            "project_trusted": config.project_trusted,
            "user": str(config.user_file) if config.user_file else None,
            "user_exists": config.user_file_exists,
        }
        if as_json:
            typer.echo(json.dumps({"settings": rows, "files": files}, indent=2))
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table("setting", "value", "from", title="Effective settings", title_justify="left")
        for row in rows:
            value = row["value"]
            shown = "-" if value is None or value == [] else json.dumps(value)
            if row["key"] == "max_retries" and row["source"] == "default":
                # drafting leaves an unset max_retries to the re-ask policy (agent/drafting/policy.py)
                shown = f"by model size ({describe_tiers()})"
            source = row["source"]
            style = "dim" if source == "default" else ""
            table.add_row(
                row["key"], escape(shown), f"[{style}]{escape(source)}[/]" if style else escape(source)
            )
        console = Console(highlight=False, soft_wrap=True)
        console.print(table)
        project: object = config.project_file or "none found (run `specdraft init` to write one)"
        if config.project_file is not None and not config.project_trusted:
            project = (
                f"{config.project_file} (not trusted: a base_url it names gets no API key; "
                "`specdraft config trust` trusts it)"
            )
        user = f"{config.user_file}" + ("" if config.user_file_exists else " (not present)")
        console.print(f"Project file: {project}", markup=False)
        console.print(f"User file:    {user}", markup=False)
        console.print(
            "Variables: SPECDRAFT_<SETTING> (e.g. SPECDRAFT_MODEL); flags given to a command override all.",
            markup=False,
        )


@config_app.command("trust")
def config_trust() -> None:
    """Trust this project's specdraft.toml (or \\[tool.specdraft] in pyproject.toml) as it is now: a
    base_url it names then gets your OPENAI_API_KEY.

    Until then such a server is used without the key. The file's path and sha256 are recorded in your
    config directory (trusted.json); once the file changes, it must be trusted again.
    """
    with user_errors():
        from agent.io.config import find_project_config
        from agent.io.trust import trust

        found = find_project_config()
        if found is None:
            raise InputError(
                "No project file here (specdraft.toml, or pyproject.toml with [tool.specdraft]).",
                hint="Run it in the project whose file you trust.",
            )
        record = trust(found.path, found.text)
        typer.echo(
            f"Trusted {found.path} as it is now (sha256 recorded in {record}); a base_url it names now "
            "gets your API key. Read the file first: it can name any server."
        )


@app.command("init")
def init_command(
    directory: Annotated[
        Path, typer.Argument(help="Where to write specdraft.toml (default: the working directory).")
    ] = Path("."),
) -> None:
    """Write a commented specdraft.toml (every setting, with its default) into DIRECTORY.

    An existing specdraft.toml is never overwritten (exit 2, nothing written).
    """
    with user_errors():
        from agent.io.atomic import atomic_write_text
        from agent.io.config import INIT_TEXT, PROJECT_FILE

        if not directory.is_dir():
            raise InputError(
                f"'{directory}' is not a directory.", hint="Create it first, or give an existing directory."
            )
        target = directory / PROJECT_FILE
        if target.exists() or target.is_symlink():
            raise InputError(
                f"'{target}' already exists; not overwriting it.",
                hint="Edit it, or delete it first to start from the commented example.",
            )
        try:
            atomic_write_text(target, INIT_TEXT, overwrite=False)
        except OSError as exc:
            raise InputError(f"Cannot write '{target}': {exc.strerror}.") from None
        typer.echo(f"Wrote {target}. Uncomment the settings you need; `specdraft config show` checks them.")
