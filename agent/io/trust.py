"""Which project files the user has trusted to name a model server that gets their API key.

A cloned repository's ``specdraft.toml`` is someone else's text. Its ``base_url`` is used, but the
user's ``OPENAI_API_KEY`` goes to that server only after ``specdraft config trust`` recorded the file's
path and sha256 here (as git's ``safe.directory`` and direnv's ``allow`` do); a changed file must be
trusted again. The record is ``$XDG_CONFIG_HOME/specdraft/trusted.json`` (``SPECDRAFT_TRUST_FILE``
moves it): ``{"projects": {"/abs/path/specdraft.toml": "<sha256>"}}``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from agent.errors import ConfigError, InputError
from agent.io.atomic import atomic_write_text
from agent.io.textinput import read_user_text
from agent.io.userfiles import config_file

TRUST_FILE_ENV = "SPECDRAFT_TRUST_FILE"
TRUST_COMMAND = "specdraft config trust"


def trust_file() -> Path:
    return config_file(TRUST_FILE_ENV, "trusted.json")


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _trusted() -> dict[str, str]:
    path = trust_file()
    if not path.exists():
        return {}
    try:
        text, _ = read_user_text(path, what="Trust record", max_bytes=4_000_000)
        projects = json.loads(text).get("projects", {})
    except (InputError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"The trust record '{path}' cannot be read: {exc}.",
            hint=f"Delete it and run `{TRUST_COMMAND}` again in each project you trust.",
        ) from None
    return {str(k): str(v) for k, v in projects.items()} if isinstance(projects, dict) else {}


def is_trusted(project_file: Path, text: str) -> bool:
    """Whether ``project_file`` with exactly this ``text`` was trusted."""
    return _trusted().get(str(project_file.resolve())) == text_sha256(text)


def trust(project_file: Path, text: str) -> Path:
    """Record ``project_file`` with this ``text`` as trusted; returns the record's path."""
    projects = _trusted()
    projects[str(project_file.resolve())] = text_sha256(text)
    path = trust_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"projects": projects}, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise ConfigError(f"Cannot write the trust record '{path}': {exc.strerror}.") from None
    return path
