"""Where specdraft keeps the user's files, and reading its TOML configuration files.

Paths follow the XDG base directories (``~/.config``, ``~/.cache``); each file can be moved with its
own environment variable.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from agent.errors import ConfigError


def user_path(env_var: str, xdg_var: str, xdg_default: str, *parts: str) -> Path:
    """``$env_var`` when set, else ``$xdg_var/specdraft/<parts>`` (``~/<xdg_default>`` when unset)."""
    explicit = os.environ.get(env_var)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get(xdg_var) or str(Path.home() / xdg_default)
    return Path(base, "specdraft", *parts)


def config_file(env_var: str, name: str) -> Path:
    return user_path(env_var, "XDG_CONFIG_HOME", ".config", name)


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; an unreadable or malformed one is a ConfigError naming ``what`` and the path."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{what} '{path}' cannot be read: {exc.strerror}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} '{path}' is not valid TOML: {exc}.") from None
