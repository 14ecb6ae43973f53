"""Doctor checks of files and tools: writable folders, ssh-keygen for signed approvals."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from agent.cli.diagnostics.report import DoctorReport
from agent.errors import SpecdraftError
from agent.io.config import user_config_path
from agent.llm.response_cache import default_cache_dir
from agent.models.store import models_dir


def _writable(path: Path) -> tuple[bool, Path]:
    """Whether ``path`` can be written (created if missing), judged on its nearest existing ancestor."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return (probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)), probe


def check_writable(report: DoctorReport) -> None:
    places: list[tuple[str, Callable[[], Path], str]] = [
        (
            "response cache",
            default_cache_dir,
            "Set SPECDRAFT_CACHE_DIR to a writable directory, or use --no-cache.",
        ),
        ("models directory", models_dir, "Set SPECDRAFT_MODELS_DIR to a writable directory to pull models."),
        (
            "config directory",
            lambda: user_config_path().parent,
            "Set XDG_CONFIG_HOME to a writable directory.",
        ),
    ]
    for name, where, fix in places:
        try:
            path = where()
        except SpecdraftError as exc:
            report.add(name, "warn", exc.message, exc.hint)
            continue
        ok, probe = _writable(path)
        if ok:
            report.add(name, "ok", f"{path} (writable)")
        else:
            report.add(name, "warn", f"{path} is not writable ({probe})", fix)


def check_ssh_keygen(report: DoctorReport) -> None:
    found = shutil.which("ssh-keygen")
    if found:
        report.add("ssh-keygen", "ok", found)
    else:
        report.add(
            "ssh-keygen",
            "warn",
            "not found (needed only for signed approvals)",
            "Install OpenSSH (e.g. apt install openssh-client) to sign approvals.",
        )
