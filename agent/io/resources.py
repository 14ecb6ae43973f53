"""Where the shipped prompts and templates live, in a checkout or in an installed wheel."""

from __future__ import annotations

from pathlib import Path

from agent.errors import InstallationError

# agent/io/resources.py -> agent/
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    """Return the directory ``name`` (``prompts`` or ``templates``).

    A wheel carries them inside the package (hatchling force-include); a checkout or an editable
    install has them beside the package.
    """
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise InstallationError(
        f"The specdraft installation is missing its '{name}' directory.",
        hint="Reinstall specdraft (pip install --force-reinstall specdraft).",
    )
