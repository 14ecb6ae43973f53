"""The ONE confinement of a path that the user did not type: it stays inside its root, or it is refused.

A path named by an MCP tool's argument, a spec's front matter or a project's ``specdraft.toml`` is text
someone else may have written (``../../etc/passwd``, ``/home/me/.ssh/id_ed25519``, a symlink that leads
out, a megabyte of ``a/``). It is used only when, symlinks followed, it names something inside its root:
the MCP server's root, the spec's folder (or the git work tree holding it), the project. Flags and
environment variables are the user's own and are not confined.
"""

from __future__ import annotations

import os
from pathlib import Path

from agent.errors import InputError, OutsideRootError

#: longer than any real path (PATH_MAX is 4096 on Linux): refused before the file system is asked
MAX_PATH_CHARS = 4096


def confine(
    value: str | Path,
    root: Path,
    *,
    what: str,
    root_name: str = "",
    base: Path | None = None,
    hint: str | None = None,
) -> Path:
    """``value`` resolved (relative to ``base``, default ``root``; symlinks followed), inside ``root``.

    Raises OutsideRootError naming the path, the root and why (an absolute path, ``..``, a symlink),
    and InputError for an empty path, a NUL byte or a path longer than MAX_PATH_CHARS.
    """
    root = root.resolve()
    return _confined(value, root, (base or root).resolve(), what=what, root_name=root_name, hint=hint)


def _confined(
    value: str | Path, root: Path, start: Path, *, what: str, root_name: str, hint: str | None
) -> Path:
    """:func:`confine` for a ``root`` and a ``start`` already resolved (each resolve walks the path)."""
    text = str(value)
    shown = clip(text)
    if not text.strip():
        raise InputError(f"The {what} is an empty path.")
    if len(text) > MAX_PATH_CHARS:
        raise InputError(f"The {what} '{shown}' is {len(text):,} characters long; a path has at most 4,096.")
    if "\x00" in text:
        raise InputError(f"The {what} '{shown}' contains a NUL byte.")
    candidate = Path(text)
    try:
        resolved = (start / candidate).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise InputError(f"The {what} '{shown}' cannot be resolved: {exc}.") from None
    if resolved.is_relative_to(root):
        return resolved
    where = f"{root_name} {root}" if root_name else str(root)
    raise OutsideRootError(
        f"The {what} '{shown}' is outside {where}: {_why(candidate, start, root)}.",
        hint=hint or f"Give a path inside {root}.",
    )


def _why(candidate: Path, start: Path, root: Path) -> str:
    if candidate.is_absolute():
        return "it is an absolute path elsewhere"
    if not Path(os.path.normpath(start / candidate)).is_relative_to(root):
        return "'..' leads out of it"
    return "a symlink in it leads out of it"


def work_tree(folder: Path) -> Path | None:
    """The nearest folder at or above ``folder`` holding ``.git`` (a repository's work tree), if any."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def spec_root(spec_folder: Path) -> Path:
    """The root of paths a spec's front matter names: the git work tree holding the spec, else its folder
    (``briefs/`` and ``src/`` beside ``specs/`` is the common layout)."""
    return _spec_root_of(spec_folder.resolve())


def _spec_root_of(folder: Path) -> Path:
    """:func:`spec_root` of a folder already resolved."""
    return work_tree(folder) or folder


def confine_recorded(reference: str, spec_folder: Path, *, what: str) -> Path:
    """A path a spec's front matter records (relative to the spec's folder), confined to ``spec_root``.

    The front matter is only text: ``brief: /home/me/.ssh/id_rsa`` or ``template: ../../etc/passwd``
    must not make specdraft read, send or show that file.
    """
    folder = spec_folder.resolve()  # once: resolving walks every component of the path
    root = _spec_root_of(folder)
    return _confined(
        reference,
        root,
        folder,
        what=what,
        root_name="the spec's folder" if root == folder else "the spec's work tree",
        hint=None,
    )


def clip(text: str, limit: int = 120) -> str:
    """A path as a message shows it: at most ``limit`` characters, line breaks escaped."""
    shown = text.replace("\n", "\\n").replace("\r", "\\r")
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
