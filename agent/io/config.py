"""specdraft's settings: command-line flags > SPECDRAFT_* variables > project file > user file > defaults.

* The project file is the nearest ``specdraft.toml``, or ``pyproject.toml`` with a ``[tool.specdraft]``
  table, found by walking up from the working directory (a ``pyproject.toml`` without that table does
  not count). The walk stops at the repository root (a directory holding ``.git`` or ``.hg``), so a file
  outside your repository never applies to it; outside any repository it goes up to the filesystem root.
  In one directory ``specdraft.toml`` wins over ``pyproject.toml``.
* The user file is ``$XDG_CONFIG_HOME/specdraft/config.toml`` (``~/.config/specdraft/config.toml``),
  or the file named by ``SPECDRAFT_USER_CONFIG``.
* Relative paths in a file (template, model_path, output_dir, context) are relative to that file's
  directory; in a variable or flag, to the working directory. In the project file, context, template
  and output_dir must stay inside the project (``project_root``, the one confinement of agent.io.paths).
* A ``base_url`` only the project file names gets no API key until the file is trusted
  (``specdraft config trust``, agent.io.trust): ``EffectiveConfig.key_withheld`` says why.

API keys are never read from these files: a key-looking setting is an error that names the variable
to use instead. Every problem is a ConfigError (exit 2) naming the file and line, or the variable.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.errors import ConfigError, InputError
from agent.io.paths import confine
from agent.io.redact import display_url
from agent.io.textinput import read_user_bytes
from agent.io.trust import TRUST_COMMAND, is_trusted
from agent.io.userfiles import config_file

PROJECT_FILE = "specdraft.toml"
PYPROJECT_FILE = "pyproject.toml"
USER_FILE_ENV = "SPECDRAFT_USER_CONFIG"
KEY_ENV = "OPENAI_API_KEY"
#: the walk for a project file stops at a repository root (a directory holding one of these)
REPOSITORY_MARKERS = (".git", ".hg")

_URL = re.compile(r"^https?://[^\s,]+$")


class Settings(BaseModel):
    """Every setting a configuration file, variable or flag can give, with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    provider: Literal["local", "openai", "compatible"] = Field(
        "local", description="local (embedded llama.cpp), openai, or compatible (any base_url)"
    )
    model: str | None = Field(None, min_length=1, description="model name (local catalogue, OpenAI, server)")
    base_url: tuple[str, ...] = Field(
        (),
        description="an OpenAI-compatible server (http://host:8000/v1), or a list of replicas of one model",
    )
    model_path: Path | None = Field(None, description="a GGUF file served by the embedded engine")
    template: str | None = Field(None, min_length=1, description="template name or path (tech-spec)")
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="sampling temperature")
    max_retries: int = Field(2, ge=0, le=10, description="re-asks per section when validation fails")
    parallel: int = Field(4, ge=1, le=64, description="sections drafted at once")
    jobs: int = Field(4, ge=1, le=1024, description="specs drafted at once by batch")
    timeout: float = Field(300.0, ge=1.0, le=86_400.0, description="seconds to wait for one model answer")
    output_dir: Path | None = Field(None, description="where batch (and draft without -o) write specs")
    context: list[Path] = Field(default_factory=list, description="files or directories for context")
    language: str | None = Field(
        None,
        min_length=1,
        description="the spec's language (en, de, es, ...); unset: template's, else brief's",
    )

    @field_validator("temperature", "max_retries", "parallel", "jobs", "timeout", mode="before")
    @classmethod
    def _no_booleans(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("expected a number, not true/false")
        return value

    @field_validator("base_url", mode="before")
    @classmethod
    def _server_urls(cls, value: object) -> object:
        """One URL, a list of them or a comma-separated string -> a tuple of http(s) URLs, each checked
        here once, as given (surrounding white space removed), never the same server twice."""
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()] if "," in value else [value]
        if not isinstance(value, list | tuple):
            return value
        if not value:
            raise ValueError("an empty list; give at least one server URL")
        single = len(value) == 1
        urls: list[str] = []
        for item in value:
            if not isinstance(item, str) or not _URL.match(item.strip()):
                which = "" if single else f"{_shown(item)} "
                raise ValueError(f"{which}should be an http(s) URL, e.g. http://localhost:8000/v1")
            url = item.strip()
            if url.rstrip("/") in (u.rstrip("/") for u in urls):
                raise ValueError(f"{json.dumps(display_url(url))} is listed twice")
            urls.append(url)
        return tuple(urls)

    @field_validator("context", mode="before")
    @classmethod
    def _no_empty_paths(cls, value: object) -> object:
        if isinstance(value, list) and any(isinstance(v, str) and not v.strip() for v in value):
            raise ValueError("a context entry is an empty string")
        return value


KEYS: tuple[str, ...] = tuple(Settings.model_fields)
DEFAULTS = Settings()


def env_var(key: str) -> str:
    """The environment variable for a setting, e.g. ``SPECDRAFT_BASE_URL`` for ``base_url``."""
    return f"SPECDRAFT_{key.upper()}"


ENV_VARS: dict[str, str] = {key: env_var(key) for key in KEYS}

_SECRET_WORDS = ("key", "token", "secret", "password", "passwd", "credential")


def _looks_secret(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    return any(word in lowered for word in _SECRET_WORDS)


# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class ConfigFile:
    """A configuration file that was read: where, which table, and the text (for line numbers)."""

    path: Path
    #: dotted table holding the settings: "" for specdraft.toml and the user file, "tool.specdraft"
    table: str
    text: str

    def line_of(self, key: str) -> int | None:
        """The 1-based line where ``key`` is set in this file's table (tomllib does not say)."""
        return find_key_line(self.text, self.table, key)

    def where(self, key: str | None = None) -> str:
        line = self.line_of(key) if key else None
        return f"{self.path}:{line}" if line else str(self.path)


@dataclass(frozen=True)
class EffectiveConfig:
    """The settings in force and, for each, where it came from."""

    settings: Settings
    #: key -> "default", "env SPECDRAFT_MODEL", "/path/specdraft.toml:3" or "flag --model"
    sources: dict[str, str]
    project_file: Path | None = None
    user_file: Path | None = None
    user_file_exists: bool = False
    files: tuple[ConfigFile, ...] = field(default=())
    #: key -> strength of its source: 0 default, 1 user file, 2 project file, 3 variable, 4 flag
    ranks: dict[str, int] = field(default_factory=dict)
    #: whether the project file (as it is now) was trusted with ``specdraft config trust``
    project_trusted: bool = True
    #: who named the model server when it was not the user (an MCP tool call's ``base_url``), else None
    server_named_by: str | None = None

    @property
    def key_withheld(self) -> str | None:
        """Why the API key must not go to the model server, or None: a ``base_url`` only the project
        file names, while that file (as it is now) is not trusted (agent.io.trust), or one a caller
        other than the user named (``server_named_by``)."""
        if not self.settings.base_url:
            return None
        if self.server_named_by is not None:
            return (
                f"the model server was named by {self.server_named_by}, not in your configuration: set it "
                "as base_url in specdraft.toml or SPECDRAFT_BASE_URL to send it your API key"
            )
        if self.project_trusted:
            return None
        if self.ranks.get("base_url") != RANK_PROJECT:
            return None
        return (
            f"the model server is named only by the project file {self.project_file}, which is not "
            f"trusted: run `{TRUST_COMMAND}` to send it your API key"
        )

    def with_flags(self, flags: Mapping[str, object]) -> EffectiveConfig:
        """These settings overridden by the command-line values that were given (None = not given)."""
        given = {key: value for key, value in flags.items() if value is not None and value != []}
        unknown = sorted(set(given) - set(KEYS))
        if unknown:
            raise ValueError(f"not settings: {unknown}")
        if not given:
            return self
        if "provider" in given and given["provider"] not in ("local", "openai", "compatible"):
            raise ConfigError(
                f"Unknown provider {given['provider']!r}.", hint="Choose local, openai or compatible."
            )
        try:
            settings = self.settings.model_copy(update=_validated(given))
        except ValidationError as exc:
            problems = [
                f"--{str(e['loc'][0]).replace('_', '-')} {_shown(_as_given(e['input']))}: "
                f"{_message(e['msg'])}"
                for e in exc.errors()
            ]
            raise ConfigError("Bad option value: " + "; ".join(problems)) from None
        sources = dict(self.sources)
        ranks = dict(self.ranks)
        for key in given:
            sources[key] = f"flag --{key.replace('_', '-')}"
            ranks[key] = RANK_FLAG
        settings, sources = _reconcile(settings, sources, ranks)
        return EffectiveConfig(
            settings,
            sources,
            self.project_file,
            self.user_file,
            self.user_file_exists,
            self.files,
            ranks,
            self.project_trusted,
        )


RANK_DEFAULT, RANK_USER, RANK_PROJECT, RANK_ENV, RANK_FLAG = range(5)


def _reconcile(
    settings: Settings, sources: dict[str, str], ranks: dict[str, int]
) -> tuple[Settings, dict[str, str]]:
    """Settings from a weaker place that a stronger choice cannot use are turned off (shown as ignored).

    ``--provider local`` (or a project's ``provider = "local"``) is not turned into a compatible server by a
    ``base_url`` from the user file; a ``model_path`` from a weaker place does not clash with a stronger
    ``base_url`` or a remote provider, nor a weaker ``base_url`` with a stronger ``model_path``.
    """

    def rank(key: str) -> int:
        return ranks.get(key, RANK_DEFAULT)

    drop: dict[str, str] = {}
    if settings.provider == "local" and settings.base_url and rank("provider") > rank("base_url"):
        drop["base_url"] = f"provider local ({sources['provider']})"
    if settings.provider != "local" and settings.model_path and rank("provider") > rank("model_path"):
        drop["model_path"] = f"provider {settings.provider} ({sources['provider']})"
    if settings.base_url and settings.model_path and "base_url" not in drop and "model_path" not in drop:
        if rank("base_url") > rank("model_path"):
            drop["model_path"] = f"base_url ({sources['base_url']})"
        elif rank("model_path") > rank("base_url"):
            drop["base_url"] = f"model_path ({sources['model_path']})"
    if not drop:
        return settings, sources
    sources = dict(sources)
    for key, reason in drop.items():
        sources[key] = f"ignored ({sources[key]}): overridden by {reason}"
    turned_off = {key: Settings.model_fields[key].default for key in drop}
    return settings.model_copy(update=turned_off), sources


# ---------------------------------------------------------------- finding files


def user_config_path() -> Path:
    """``$SPECDRAFT_USER_CONFIG``, else ``$XDG_CONFIG_HOME/specdraft/config.toml`` (``~/.config``)."""
    return config_file(USER_FILE_ENV, "config.toml")


def find_project_config(start: Path | None = None) -> ConfigFile | None:
    """The nearest specdraft.toml, or pyproject.toml with [tool.specdraft], from ``start`` upwards.

    Stops after the repository root (a directory holding ``.git`` or ``.hg``) or at the filesystem root.
    """
    directory = (start or _cwd()).resolve()
    for candidate_dir in (directory, *directory.parents):
        own = candidate_dir / PROJECT_FILE
        if own.is_file():
            return ConfigFile(own, "", _read_text(own))
        pyproject = candidate_dir / PYPROJECT_FILE
        if pyproject.is_file():
            text = _read_text(pyproject)
            data = _parse(text, pyproject)
            tool = data.get("tool")
            if isinstance(tool, dict) and "specdraft" in tool:
                return ConfigFile(pyproject, "tool.specdraft", text)
        if any((candidate_dir / marker).exists() for marker in REPOSITORY_MARKERS):
            break
    return None


def _cwd() -> Path:
    try:
        return Path.cwd()
    except FileNotFoundError:
        raise ConfigError(
            "The working directory no longer exists.", hint="cd to an existing directory and run again."
        ) from None


#: a configuration file is a few kilobytes; a larger one is refused after reading at most this + 1 byte
MAX_CONFIG_BYTES = 1_000_000


def _read_text(path: Path) -> str:
    """A configuration file by the one bounded reader (a FIFO or device in its place is refused)."""
    try:
        data = read_user_bytes(path, what="Configuration file", max_bytes=MAX_CONFIG_BYTES)
    except InputError as exc:
        raise ConfigError(exc.message, hint=exc.hint) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"Configuration file '{path}' is not valid UTF-8 text.") from None


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"Configuration file '{path}' is not valid TOML: {exc}.",
            hint="Fix the line it names; `specdraft init` writes a commented example.",
        ) from None
    except RecursionError:  # arrays or tables nested thousands deep: tomllib recurses once per level
        raise ConfigError(
            f"Configuration file '{path}' nests arrays or tables too deeply to read.",
            hint="specdraft's settings are flat values and short lists; remove the nesting.",
        ) from None


# ---------------------------------------------------------------- line numbers

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _normalise_table(name: str) -> str:
    parts = [p.strip().strip("\"'") for p in name.split(".")]
    return ".".join(parts)


def find_key_line(text: str, table: str, key: str) -> int | None:
    """The line of ``key = ...`` inside ``[table]`` ("" = the top level), or of a ``[table.key]`` header."""
    current = ""
    key_re = re.compile(rf"""^\s*(?:"{re.escape(key)}"|'{re.escape(key)}'|{re.escape(key)})\s*=""")
    dotted_re = re.compile(rf"^\s*{re.escape(table)}\.{re.escape(key)}\s*=") if table else None
    wanted_header = f"{table}.{key}" if table else key
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and "=" not in line.split("]")[0]:
            current = _normalise_table(header.group(1))
            if current == wanted_header:
                return number
            continue
        if current == table and key_re.match(line):
            return number
        if current == "" and dotted_re is not None and dotted_re.match(line):
            return number
    return None


# ---------------------------------------------------------------- validating one layer


def _file_values(config: ConfigFile, *, project: bool = False) -> dict[str, Any]:
    """The settings a file gives, checked (unknown keys, keys, types, ranges) with paths resolved; in the
    project file, the paths that are read (context, template) or written (output_dir) must stay inside
    the project (``project_root``): a cloned repository's file cannot name ``~/.ssh/id_ed25519``."""
    data = _parse(config.text, config.path)
    if config.table:
        for part in config.table.split("."):
            data = data.get(part, {}) if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            raise ConfigError(f"{config.where()}: [{config.table}] must be a table of settings.")
    problems: list[tuple[int, str]] = []
    secret = [k for k in data if _looks_secret(k)]
    for key in secret:  # the value is never quoted: it may be a real key
        problems.append(
            (
                config.line_of(key) or 0,
                f"{config.where(key)}: '{key}' looks like an API key or other secret; specdraft never "
                f"reads secrets from configuration files. Remove it and set {KEY_ENV} in the environment.",
            )
        )
    unknown = [k for k in data if k not in KEYS and k not in secret]
    for key in unknown:
        close = difflib.get_close_matches(key, KEYS, n=1)
        guess = f" Did you mean '{close[0]}'?" if close else ""
        problems.append((config.line_of(key) or 0, f"{config.where(key)}: unknown setting '{key}'.{guess}"))
    values = {k: v for k, v in data.items() if k in KEYS}
    checked: dict[str, Any] = {}
    try:
        checked = _validated(values)
    except ValidationError as exc:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else "?"
            shown = _shown(values.get(key, error["input"]))
            problems.append(
                (config.line_of(key) or 0, f"{config.where(key)}: {key} = {shown}: {_message(error['msg'])}.")
            )
    if problems:
        hint = "See `specdraft init` for a commented example of every setting."
        if unknown:
            hint = f"Known settings: {', '.join(KEYS)}. {hint}"
        raise ConfigError("\n".join(text for _, text in sorted(problems)), hint=hint)
    resolved = _resolve_paths(checked, config.path.parent)
    return _confined(resolved, config) if project else resolved


def project_root(project_file: Path) -> Path:
    """The project a project file belongs to: the repository holding it (``.git``, ``.hg``), else its
    directory."""
    directory = project_file.resolve().parent
    for candidate in (directory, *directory.parents):
        if any((candidate / marker).exists() for marker in REPOSITORY_MARKERS):
            return candidate
    return directory


def _confined(values: dict[str, Any], config: ConfigFile) -> dict[str, Any]:
    """The project file's context, template and output_dir, each confined to the project (one
    confinement, agent.io.paths); a path outside is a ConfigError naming the file and line."""
    root = project_root(config.path)
    checked = dict(values)

    def inside(key: str, value: str | Path) -> Path:
        try:
            return confine(value, root, what=f"{key} path", root_name="the project")
        except InputError as exc:
            raise ConfigError(
                f"{config.where(key)}: {exc.message}",
                hint=f"Paths in a project file stay inside the project; pass --{key.replace('_', '-')} "
                "to use one elsewhere (your own flags are not limited).",
            ) from None

    if "context" in checked:
        checked["context"] = [inside("context", p) for p in checked["context"]]
    if checked.get("output_dir") is not None:
        checked["output_dir"] = inside("output_dir", checked["output_dir"])
    template = checked.get("template")
    if isinstance(template, str) and _looks_like_path(template):
        checked["template"] = str(inside("template", template))
    return checked


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, name in ENV_VARS.items():
        raw = environ.get(name, "")
        if not raw.strip():
            continue
        if key == "context":
            values[key] = [part for part in raw.split(os.pathsep) if part.strip()]
        else:
            values[key] = raw.strip()
    try:
        checked = _validated(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = str(error["loc"][0])
            name = ENV_VARS[key]
            problems.append(f"{name}={_shown(environ.get(name))}: {_message(error['msg'])}.")
        raise ConfigError(
            "\n".join(problems), hint="Fix or unset the variable (see `specdraft config show`)."
        ) from None
    return _resolve_paths(checked, _cwd())


def _validated(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` (some settings) checked and converted, the one validation each value gets; raises
    ValidationError naming every bad one."""
    checked = Settings.model_validate(values)
    return {key: getattr(checked, key) for key in values}


def _as_given(value: object) -> object:
    """A repeatable flag given once (``--base-url URL``) is shown as that one value."""
    return value[0] if isinstance(value, list | tuple) and len(value) == 1 else value


def _shown(value: object) -> str:
    """A setting's value for a message: URLs masked (a base_url may carry a password), long ones cut."""
    text = _toml_value(_masked(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _masked(value: object) -> object:
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return display_url(value) if isinstance(value, str) and "://" in value else value


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def _message(msg: str) -> str:
    text = msg.removeprefix("Value error, ").rstrip(".")
    if text.startswith("String should match pattern '^https?://"):
        return "should be an http(s) URL, e.g. http://localhost:8000/v1"
    if "valid path" in text:
        return "should be a path (a string)"
    if text.startswith("Input should be 'local'"):
        return "should be local, openai or compatible"
    return text[:1].lower() + text[1:]


def _looks_like_path(template: str) -> bool:
    return "/" in template or "\\" in template or template.endswith(".md")


def _resolve_paths(values: dict[str, Any], base: Path) -> dict[str, Any]:
    """Relative paths become absolute against ``base`` (the file's directory, or the working directory)."""
    resolved = dict(values)

    def absolute(raw: object) -> Path:
        path = Path(str(raw)).expanduser()
        return path if path.is_absolute() else base / path

    for key in ("model_path", "output_dir"):
        if resolved.get(key) is not None:
            resolved[key] = absolute(resolved[key])
    if "context" in resolved:
        resolved["context"] = [absolute(p) for p in resolved["context"]]
    template = resolved.get("template")
    if isinstance(template, str) and _looks_like_path(template):
        resolved["template"] = str(absolute(template))
    return resolved


# ---------------------------------------------------------------- loading


def load_config(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> EffectiveConfig:
    """Defaults, then the user file, the project file and SPECDRAFT_* variables, each over the last."""
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    sources = dict.fromkeys(KEYS, "default")
    files: list[ConfigFile] = []

    user = user_config_path()
    user_exists = user.is_file()
    if not user_exists and env.get(USER_FILE_ENV):
        raise ConfigError(f"{USER_FILE_ENV} points to '{user}', which does not exist.")
    layers: list[ConfigFile] = []
    if user_exists:
        layers.append(ConfigFile(user, "", _read_text(user)))
    project = find_project_config(cwd)
    if project is not None and not (user_exists and _same_file(project.path, user)):
        layers.append(project)
    ranks: dict[str, int] = {}
    for layer in layers:
        values = _file_values(layer, project=layer is project)
        merged.update(values)
        layer_rank = RANK_PROJECT if layer is project else RANK_USER
        for key in values:
            sources[key] = layer.where(key)
            ranks[key] = layer_rank
        files.append(layer)
    env_values = _env_values(env)
    merged.update(env_values)
    for key in env_values:
        sources[key] = f"env {ENV_VARS[key]}"
        ranks[key] = RANK_ENV
    # every value was validated in its layer: the layers are merged over the defaults as they are
    settings, sources = _reconcile(DEFAULTS.model_copy(update=merged), sources, ranks)
    return EffectiveConfig(
        settings,
        sources,
        project_file=project.path if project else None,
        user_file=user,
        user_file_exists=user_exists,
        files=tuple(files),
        ranks=ranks,
        project_trusted=project is None or is_trusted(project.path, project.text),
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


# ---------------------------------------------------------------- specdraft init

INIT_TEXT = """\
# specdraft settings for this project (see docs/configuration.md or `specdraft config show`).
# Precedence: command-line flags > SPECDRAFT_* variables > this file > ~/.config/specdraft/config.toml.
# Relative paths are relative to this file's directory and stay inside the project.
# API keys never go here: export OPENAI_API_KEY (a base_url set here gets it after `specdraft config trust`).
# Uncomment and edit what you need; the values shown are the defaults.

# local (embedded llama.cpp, no key, no network), openai (OPENAI_API_KEY) or compatible (base_url).
# provider = "local"

# A pulled local model (`specdraft models`), an OpenAI model, or the compatible server's model.
# model = "qwen2.5-1.5b-instruct"

# An OpenAI-compatible server (vLLM, Ollama, LM Studio, a llama.cpp server, a gateway), or a list of
# servers serving the same model, e.g. ["http://gpu-1:8000/v1", "http://gpu-2:8000/v1"]: requests are
# spread over them, and one that fails is routed around.
# base_url = "http://localhost:8000/v1"

# Any GGUF file, served by the embedded engine.
# model_path = "models/my-model.gguf"

# A built-in template name (`specdraft templates`) or a path to a Markdown template.
# template = "tech-spec"

# temperature = 0.2        # sampling temperature, 0 to 2
# max_retries = 2          # re-asks per section when an answer fails validation, 0 to 10
#                          # (unset: chosen by the model's size, docs/drafting.md)
# parallel = 4             # sections drafted at once, 1 to 64
# jobs = 4                 # specs drafted at once by `specdraft batch`, 1 to 1024
# timeout = 300.0          # seconds to wait for one model answer, 1 to 86400

# Where `batch` writes specs, and `draft` without -o (as <brief name>.md).
# output_dir = "specs"

# Files or directories whose content grounds the spec in this repository.
# context = ["docs/architecture.md", "api/openapi.yaml"]

# The language specs are written in: en, de, es, fr, pt, ja or zh (docs/languages.md). Unset: the
# template's (tech-spec-de is German), else the brief's.
# language = "de"
"""
