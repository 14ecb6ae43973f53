"""What a spec records about its context: files (path relative to the spec, sha256), the directories
walked, the git commit and whether the tree was dirty, and which files each section's prompt used.
Nothing of the files' content is recorded."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.io.textinput import DEFAULT_MAX_BYTES, read_user_bytes

if TYPE_CHECKING:  # retrieval pulls in bm25s and numpy: drift and lint only need the hashing here
    from agent.context.retrieval import ContextPack

GIT_TIMEOUT_SECONDS = 5.0


def file_sha256(path: Path) -> str:
    """The sha256 of a regular file's bytes (InputError for a special file or one over 50 MB)."""
    return hashlib.sha256(read_user_bytes(path, what="Context file", max_bytes=DEFAULT_MAX_BYTES)).hexdigest()


def relative_to(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def git_state(directory: Path) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` for the repository holding ``directory``; None without git."""

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=directory,
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    if not commit:
        return None
    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": bool(status and status.strip())}


def context_provenance(pack: ContextPack, spec_dir: Path, sources: dict[str, list[str]]) -> dict[str, Any]:
    """The ``context`` entry of a spec's provenance; ``sources`` maps section keys to chunk sources
    (paths relative to the working directory, as the chunks name them)."""
    cwd = Path.cwd()
    data: dict[str, Any] = {
        "files": [
            {"path": relative_to(f.path, spec_dir), "sha256": file_sha256(f.path)} for f in pack.walk.files
        ],
        "directories": sorted({relative_to(d, spec_dir) for d in pack.walk.directories}),
    }
    first = pack.walk.files[0].path.parent if pack.walk.files else cwd
    git = git_state(first)
    if git is not None:
        data["git"] = git
    data["sections"] = {
        key: sorted(relative_to(cwd / source, spec_dir) for source in paths)
        for key, paths in sources.items()
        if paths
    }
    return data
