"""``specdraft serve``: the review page, a local web app over the specs under some folders.

Starlette, uvicorn and watchfiles are imported inside the command so ``specdraft --help`` stays fast.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.app import app, user_errors
from agent.cli.option_groups import with_option_groups
from agent.cli.options import ModelFlags
from agent.errors import InputError

DEFAULT_PORT = 8765
#: private keys offered for signing when no --ssh-key is given (those with a .pub beside them)
DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def served_folders(paths: list[Path]) -> list[Path]:
    """The folders given, else the configured output_dir, else the working directory."""
    from agent.io.config import load_config

    if not paths:
        configured = load_config().settings.output_dir
        paths = [configured if configured is not None and configured.is_dir() else Path.cwd()]
    for path in paths:
        if not path.is_dir():
            raise InputError(f"'{path}' is not a folder.", hint="Give folders that hold specs (*.md).")
    return paths


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def served_hosts(host: str, port: int) -> set[str]:
    """The Host headers the page answers to: the address served (and localhost for loopback)."""
    names = {_bracketed(host)} | ({"localhost", "127.0.0.1"} if is_loopback(host) else set())
    return names | {f"{name}:{port}" for name in names}


def signing_keys(given: list[Path]) -> list[Path]:
    for key in given:
        if not key.is_file():
            raise InputError(f"--ssh-key '{key}' is not a file.", hint="Give the private key's path.")
    if given:
        return [key.resolve() for key in given]
    ssh = Path.home() / ".ssh"
    return [ssh / name for name in DEFAULT_KEYS if (ssh / name).is_file() and (ssh / f"{name}.pub").is_file()]


def _free_port(host: str, port: int) -> int:
    """``port`` when it can be bound (0: any free one); InputError naming the port otherwise."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(
                f"Cannot listen on {host}:{port}: {exc.strerror}.",
                hint="Choose another --port (0: any free one).",
            ) from None
        return int(probe.getsockname()[1])


FoldersArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Folders of specs (default: the configured output_dir, else this folder).", show_default=False
    ),
]
PortOpt = Annotated[int, typer.Option("--port", help="The port (0: any free one).")]
HostOpt = Annotated[str, typer.Option("--host", help="The address to listen on.")]
AllowRemoteOpt = Annotated[
    bool,
    typer.Option(
        "--allow-remote", help="Allow a --host other than loopback (others on the network can reach it)."
    ),
]
OpenOpt = Annotated[bool, typer.Option("--open", help="Open the page in the web browser.")]
SshKeysOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--ssh-key",
        help="A private key the page may sign approvals with (repeatable; default: ~/.ssh/id_ed25519, "
        "id_ecdsa, id_rsa when present). The browser sees only its file name.",
    ),
]
SignersOpt = Annotated[
    Path | None,
    typer.Option("--allowed-signers", help="Check SSH signatures against this file when the page verifies."),
]


@app.command("serve")
@with_option_groups
def serve_command(
    paths: FoldersArg = None,
    port: PortOpt = DEFAULT_PORT,
    host: HostOpt = "127.0.0.1",
    allow_remote: AllowRemoteOpt = False,
    open_browser: OpenOpt = False,
    ssh_keys: SshKeysOpt = None,
    allowed_signers: SignersOpt = None,
    *,
    flags: ModelFlags,
) -> None:
    """Serve a review page: specs with their lint findings, trace, comments, diffs, review and approval.

    Listens on 127.0.0.1 only unless --host and --allow-remote say otherwise. The address printed carries
    a random token for this run; every request needs it. Stop with Ctrl-C.

    The page's refine asks the model refine would (the model options, else SPECDRAFT_* variables and
    specdraft.toml); it starts on the first instruction.
    """
    with user_errors():
        from agent.cli.chat import refine_setup
        from agent.signoff.identity import git_identity
        from agent.web.app import ServeSettings, create_app
        from agent.web.security import new_token

        if not is_loopback(host) and not allow_remote:
            raise InputError(
                f"--host {host} would let others on the network reach the review page.",
                hint="Add --allow-remote to mean it, or leave --host at 127.0.0.1.",
            )
        setup = refine_setup(flags, use_cache=True)
        folders = served_folders(paths or [])
        port = _free_port(host, port)
        token = new_token()
        hosts = served_hosts(host, port)
        settings = ServeSettings(
            folders,
            token,
            hosts,
            ssh_keys=signing_keys(ssh_keys or []),
            allowed_signers=allowed_signers,
            identity=git_identity(Path.cwd()),
            model=setup.settings,
            refine_options=setup.options,
        )
        url = f"http://{_bracketed(host)}:{port}/?token={token}"
        if not is_loopback(host):
            typer.echo(
                f"Warning: listening on {host}: anyone on the network with the address can review.", err=True
            )
        typer.echo(f"Serving {', '.join(str(f) for f in folders)} (Ctrl-C stops).")
        typer.echo(f"Open {url}")
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        _run(create_app(settings), host, port)


def _run(application: object, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        application,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        lifespan="on",
    )
    uvicorn.Server(config).run()
