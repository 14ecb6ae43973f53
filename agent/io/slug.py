"""Safe file names from brief ids: no path traversal, no hidden files, no collisions."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

MAX_SLUG = 80
_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_RUNS = re.compile(r"[-._]{2,}")
# Names Windows refuses as files, whatever the extension.
_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}


def slugify(identifier: str) -> str:
    """A lowercase ``[a-z0-9._-]`` name for ``identifier`` that is one plain file name.

    Separators become dashes, so ``../../etc/passwd`` becomes ``etc-passwd``: never a path, never
    hidden (no leading dot), never empty. Long ids are cut and keep a short digest of the whole id.
    """
    text = unicodedata.normalize("NFKD", identifier).encode("ascii", "ignore").decode("ascii").lower()
    text = _UNSAFE.sub("-", text)
    text = _RUNS.sub("-", text).strip("-._")
    if text.split(".", 1)[0] in _RESERVED:
        text = f"{text}-brief"
    if len(text) > MAX_SLUG:
        digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:8]
        text = text[: MAX_SLUG - 9].rstrip("-._") + "-" + digest
    return text or "brief"


def assign_slugs(identifiers: Iterable[str], *, reserved: Iterable[str] = ()) -> dict[str, str]:
    """Map each id to a slug unique among them (case-insensitively): the second ``a`` is ``a-2``.

    The result depends only on the ids and their order, so a re-run names the same files.
    """
    taken = {name.lower() for name in reserved}
    slugs: dict[str, str] = {}
    for identifier in identifiers:
        if identifier in slugs:
            continue
        base = slugify(identifier)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs[identifier] = slug
    return slugs
