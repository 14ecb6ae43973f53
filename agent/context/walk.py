"""Find the files behind ``--context`` paths (files, directories, globs).

Directories are walked honouring ``.gitignore`` files (via ``pathspec``, which implements git's own
wildmatch rules); binary, generated, oversized and unreadable files are skipped and counted; a symlink
that leaves the walked tree is not followed.
"""

from __future__ import annotations

import glob
import itertools
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from agent.errors import InputError, InputTooLargeError, NotRegularFileError
from agent.io.textinput import read_user_bytes

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


#: files that hold credentials, never sent to a model from a walked directory or a glob
SECRET_FILES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".netrc", ".pgpass", ".npmrc", ".pypirc")
SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx")


def secret_bearing(path: Path) -> bool:
    """``.env`` and ``.env.*``, private keys and credential files (by name)."""
    name = path.name
    return (
        name == ".env"
        or name.startswith(".env.")
        or name.startswith(SECRET_FILES)
        or name.endswith(SECRET_SUFFIXES)
    )


def _read(path: Path, result: WalkResult, resolved: Path | None = None, *, named: bool = False) -> int:
    """Read one file into ``result`` (``resolved``: its resolved path, when the caller has it); its size.

    A file matched by a walk or a glob that is special (a FIFO, a device), oversized or secret-bearing is
    skipped and counted; one ``named`` on the command line is refused instead when it is special.
    """
    if generated(path):
        result.skipped["generated"] += 1
        return 0
    if not named and secret_bearing(path):
        result.skipped["secret-bearing"] += 1
        return 0
    try:
        data = read_user_bytes(path, what="Context path", max_bytes=MAX_FILE_BYTES)
    except NotRegularFileError:
        if named:
            raise
        result.skipped["special file"] += 1
        return 0
    except InputTooLargeError:
        result.skipped["oversized"] += 1
        return 0
    except InputError:
        result.skipped["unreadable"] += 1
        return 0
    if b"\0" in data[:8192]:
        result.skipped["binary"] += 1
        return 0
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        result.skipped["binary"] += 1
        return 0
    result.files.append(ContextFile(resolved or path.resolve(), text))
    return len(data)


def _ignore_spec(
    directory: Path, inherited: list[tuple[Path, pathspec.GitIgnoreSpec]]
) -> list[tuple[Path, pathspec.GitIgnoreSpec]]:
    gitignore = directory / ".gitignore"
    if not gitignore.is_file():
        return inherited
    try:  # bounded: a .gitignore linked to a huge file costs at most its first megabyte
        raw = read_user_bytes(gitignore, what=".gitignore", max_bytes=1_000_000, head=True)
    except InputError:
        return inherited
    if b"\0" in raw:  # binary, not a list of patterns (compiling it would cost seconds)
        return inherited
    lines = [line for line in raw.decode("utf-8", errors="replace").splitlines() if len(line) <= 4096]
    return [*inherited, (directory, pathspec.GitIgnoreSpec.from_lines(lines))]


def _ignored(path: Path, is_dir: bool, specs: list[tuple[Path, pathspec.GitIgnoreSpec]]) -> bool:
    for base, spec in specs:
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(relative):
            return True
    return False


#: a walk that finds more files than this is refused (``--context /`` would walk the whole machine)
MAX_WALK_FILES = 50_000


def walk_directory(root: Path, result: WalkResult) -> list[Path]:
    """Every file under ``root`` a context may use, in a stable order."""
    root = root.resolve()
    result.directories.append(root)
    found: list[Path] = []

    def visit(directory: Path, specs: list[tuple[Path, pathspec.GitIgnoreSpec]]) -> None:
        try:
            specs = _ignore_spec(directory, specs)
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            result.skipped["unreadable"] += 1
            return
        for entry in entries:
            try:
                _visit_entry(entry, specs)
            except OSError:  # a permission error on one entry (``--context /``) skips that entry
                result.skipped["unreadable"] += 1

    def _visit_entry(entry: os.DirEntry[str], specs: list[tuple[Path, pathspec.GitIgnoreSpec]]) -> None:
        path = Path(entry.path)
        if entry.is_symlink() and not path.resolve().is_relative_to(root):
            result.skipped["symlink outside the tree"] += 1
            return
        if entry.is_dir():
            if entry.name in SKIP_DIRS:
                result.skipped["generated"] += 1
            elif not _ignored(path, True, specs) and not entry.is_symlink():
                result.directories.append(path.resolve())
                visit(path, specs)
            return
        if entry.is_file() and not _ignored(path, False, specs):
            found.append(path)
            if len(found) > MAX_WALK_FILES:
                raise InputError(
                    f"Context path '{root}' holds more than {MAX_WALK_FILES:,} files.",
                    hint="Point --context at the directories that matter for this brief.",
                )

    visit(root, [])
    return found


def _glob_base(pattern: str) -> Path:
    """The directory a glob cannot leave: its leading parts before the first one with a wildcard."""
    parts = Path(pattern).parts
    fixed = [part for part in itertools.takewhile(lambda p: not glob.has_magic(p), parts)]
    return Path(*fixed) if fixed else Path(".")


def _candidates(raw: str, result: WalkResult) -> list[Path]:
    """The paths behind one ``--context`` value; a glob's matches that a symlink takes out of the glob's
    own directory are skipped, as a directory walk skips them."""
    if not glob.has_magic(raw):
        if not Path(raw).exists():
            raise InputError(
                f"Context path '{raw}' does not exist.", hint="Pass an existing file, directory or glob."
            )
        return [Path(raw)]
    matches = [Path(p) for p in sorted(glob.glob(raw, recursive=True))]
    if not matches:
        raise InputError(f"Context path '{raw}' matches no file.", hint="Check the glob pattern.")
    base = _glob_base(raw).resolve()
    inside = [m for m in matches if m.resolve().is_relative_to(base)]
    if len(inside) < len(matches):
        result.skipped["symlink outside the tree"] += len(matches) - len(inside)
    return inside


def walk_context(paths: list[str], *, max_total_bytes: int = MAX_TOTAL_BYTES) -> WalkResult:
    """Read every context file behind ``paths``; raise InputError for a path that matches nothing, a
    special file named directly, or a context over ``max_total_bytes`` (found as soon as it is)."""
    result = WalkResult()
    seen: set[Path] = set()
    total = 0
    for raw in paths:
        for candidate in _candidates(raw, result):
            named = not glob.has_magic(raw)
            files = walk_directory(candidate, result) if candidate.is_dir() else [candidate]
            for file in files:
                resolved = file.resolve()
                if resolved in seen:
                    continue
                seen.add(resolved)
                total += _read(file, result, resolved, named=named and file is candidate)
                if total > max_total_bytes:
                    raise InputError(
                        f"The context is over {max_total_bytes // 1024} KiB, more than the limit of "
                        f"{max_total_bytes // 1024} KiB.",
                        hint="Point --context at the directories that matter for this brief "
                        "(or add a .gitignore).",
                    )
    return result
