"""The folders the review page serves, and the one way a URL becomes a file: nothing outside them.

A spec is addressed as ``<root index>/<path relative to that root>``. ``..``, absolute paths, hidden
parts, anything but a ``.md`` file and symlinks that leave the root all resolve to None (the page answers
404, never says why: a probe learns nothing about the disk).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agent.io.markdown_walk import markdown_files

#: a folder with more spec files than this is listed up to it (the page says so)
MAX_SPECS = 5000


@dataclass(frozen=True)
class SpecRef:
    root: int
    rel: str  # POSIX path relative to the root
    path: Path  # resolved, inside the root

    @property
    def key(self) -> str:
        return f"{self.root}/{self.rel}"


class SpecRoots:
    def __init__(self, folders: list[Path]) -> None:
        self.folders = [folder.resolve() for folder in folders]

    def resolve(self, root: int, rel: str) -> SpecRef | None:
        """The spec file ``rel`` under root ``root``; None unless it is a ``.md`` file inside it."""
        if not 0 <= root < len(self.folders) or not rel or "\\" in rel or "\x00" in rel:
            return None
        parts = PurePosixPath(rel).parts
        if rel.startswith("/") or any(p in ("..", ".") or p.startswith(".") for p in parts):
            return None
        base = self.folders[root]
        try:
            path = (base / rel).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not path.is_relative_to(base) or not path.is_file() or path.suffix != ".md":
            return None
        return SpecRef(root, path.relative_to(base).as_posix(), path)

    def walk(self) -> tuple[list[SpecRef], bool]:
        """Every ``.md`` file under the roots (hidden folders skipped), and whether the list was cut."""
        found: list[SpecRef] = []
        for index, base in enumerate(self.folders):
            for file in markdown_files(base):
                ref = self.resolve(index, file.relative_to(base).as_posix())
                if ref is not None:
                    found.append(ref)
                if len(found) >= MAX_SPECS:
                    return found, True
        return found, False
