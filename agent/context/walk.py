"""Find the files behind ``--context`` paths (files, directories, globs).

Directories are walked honouring ``.gitignore`` files (via ``pathspec``, which implements git's own
wildmatch rules); binary, generated, oversized and unreadable files are skipped and counted; a symlink
that leaves the walked tree is not followed.
"""

from __future__ import annotations

import glob
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from agent.errors import InputError

#: a single file larger than this is skipped (generated dumps, data files)
MAX_FILE_BYTES = 512 * 1024
#: the whole context may not be larger than this
MAX_TOTAL_BYTES = 8 * 1024 * 1024
SKIP_DIRS = {
    ".git", "node_modules", "dist", "build", "target", "__pycache__", ".venv", "venv", ".tox",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".next", "coverage", "vendor",
}  # fmt: skip
LOCKFILES = {
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Cargo.lock", "Gemfile.lock",
    "composer.lock", "uv.lock", "go.sum", "Pipfile.lock",
}  # fmt: skip


@dataclass(frozen=True)
class ContextFile:
    path: Path  # resolved
    text: str


@dataclass
class WalkResult:
    files: list[ContextFile] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    #: directories that were walked (drift looks there for new files)
    directories: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.files)} context file(s)"
        if self.skipped:
            text += " (skipped: " + ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) + ")"
        return text


def generated(path: Path) -> bool:
    name = path.name
    return name in LOCKFILES or ".min." in name or name.endswith((".map", ".pyc"))


def _read(path: Path, result: WalkResult, resolved: Path | None = None) -> None:
    """Read one file into ``result`` (``resolved``: its resolved path, when the caller has it)."""
    if generated(path):
        result.skipped["generated"] += 1
        return
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            result.skipped["oversized"] += 1
            return
        data = path.read_bytes()
    except OSError:
        result.skipped["unreadable"] += 1
        return
    if b"\0" in data[:8192]:
        result.skipped["binary"] += 1
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        result.skipped["binary"] += 1
        return
    result.files.append(ContextFile(resolved or path.resolve(), text))


def _ignore_spec(
    directory: Path, inherited: list[tuple[Path, pathspec.GitIgnoreSpec]]
) -> list[tuple[Path, pathspec.GitIgnoreSpec]]:
    gitignore = directory / ".gitignore"
    if not gitignore.is_file():
        return inherited
    try:
        lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return inherited
    return [*inherited, (directory, pathspec.GitIgnoreSpec.from_lines(lines))]


def _ignored(path: Path, is_dir: bool, specs: list[tuple[Path, pathspec.GitIgnoreSpec]]) -> bool:
    for base, spec in specs:
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(relative):
            return True
    return False


def walk_directory(root: Path, result: WalkResult) -> list[Path]:
    """Every file under ``root`` a context may use, in a stable order."""
    root = root.resolve()
    result.directories.append(root)
    found: list[Path] = []

    def visit(directory: Path, specs: list[tuple[Path, pathspec.GitIgnoreSpec]]) -> None:
        specs = _ignore_spec(directory, specs)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            result.skipped["unreadable"] += 1
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    result.skipped["symlink outside the tree"] += 1
                    continue
            if entry.is_dir():
                if entry.name in SKIP_DIRS:
                    result.skipped["generated"] += 1
                elif not _ignored(path, True, specs) and not entry.is_symlink():
                    result.directories.append(path.resolve())
                    visit(path, specs)
                continue
            if entry.is_file() and not _ignored(path, False, specs):
                found.append(path)

    visit(root, [])
    return found


def walk_context(paths: list[str], *, max_total_bytes: int = MAX_TOTAL_BYTES) -> WalkResult:
    """Read every context file behind ``paths``; raise InputError for a path that matches nothing."""
    result = WalkResult()
    seen: set[Path] = set()
    for raw in paths:
        candidates: list[Path]
        if glob.has_magic(raw):
            candidates = [Path(p) for p in sorted(glob.glob(raw, recursive=True))]
            if not candidates:
                raise InputError(f"Context path '{raw}' matches no file.", hint="Check the glob pattern.")
        else:
            candidates = [Path(raw)]
            if not candidates[0].exists():
                raise InputError(
                    f"Context path '{raw}' does not exist.", hint="Pass an existing file, directory or glob."
                )
        for candidate in candidates:
            files = walk_directory(candidate, result) if candidate.is_dir() else [candidate]
            for file in files:
                resolved = file.resolve()
                if resolved in seen:
                    continue
                seen.add(resolved)
                _read(file, result, resolved)
    total = sum(len(f.text.encode("utf-8")) for f in result.files)
    if total > max_total_bytes:
        raise InputError(
            f"The context is {total // 1024} KiB, more than the limit of {max_total_bytes // 1024} KiB.",
            hint="Point --context at the directories that matter for this brief (or add a .gitignore).",
        )
    return result
