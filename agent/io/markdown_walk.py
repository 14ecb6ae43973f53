"""The one walk for Markdown files under a folder (lint of a directory, the review page, MCP's spec list).

Hidden files and folders and the folders that hold other people's files (``node_modules``, virtualenvs,
caches) are never entered, so a project with a large dependency tree is not read to find its few specs,
and a caller that needs only the first N stops the walk there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

#: folders never walked into (besides hidden ones: .git, .venv, ...)
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})


def markdown_files(folder: Path) -> Iterator[Path]:
    """Every ``.md`` file under ``folder``, lazily: a folder's files by name, then its subfolders by name."""
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            if name.endswith(".md") and not name.startswith("."):
                yield Path(top) / name
