"""One way to put a pydantic ValidationError into words: each error as ``where: what (got value)``.

Briefs, batch rows, sign-off records, the model catalogue, the price table and a model's section answer
are validated with pydantic; each site reports a failure through :func:`validation_message` (one line,
the errors joined by "; ") or :func:`validation_problems` (one string per error). A site says how a
location reads (``where``: ``priority``, ``approvals[0].email``, ``model 'tiny'.files``), how a bad value
is quoted (``got``; None leaves it out) and how many errors to show (``first``). The layout, pydantic's
"Value error, " prefix dropped, and the shortened quoting of a value (:func:`shown`) live here.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from agent.errors import ListItemError

#: where an error is, as pydantic says it: field names and list positions
Location = tuple[int | str, ...]
Where = Callable[[Location], str]
Got = Callable[[object], str]


def shown(value: object, limit: int = 80) -> str:
    """A value quoted in an error message, shortened: a 10,000-character title is not echoed whole."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text):,} characters)"


def dotted(loc: Location) -> str:
    """``('models', 0, 'files')`` -> ``models.0.files``."""
    return ".".join(str(part) for part in loc)


def indexed(prefix: str = "") -> Where:
    """Locations read like the data they point into: ``approvals[0].email`` after ``prefix``."""

    def where(loc: Location) -> str:
        text = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
        return text.removeprefix(".")

    return where


def validation_problems(
    exc: ValidationError,
    *,
    where: Where = dotted,
    got: Got | None = shown,
    first: int | None = None,
    whole: str = "value",
) -> list[str]:
    """One ``where: what (got value)`` per error (the first ``first``); ``whole`` names an error of the
    whole value, which has no location."""
    problems = []
    for error in exc.errors()[:first]:
        place = where(_located(error)) or whole
        message = str(error["msg"]).removeprefix("Value error, ")
        quoted = f" (got {got(error.get('input'))})" if got is not None else ""
        problems.append(f"{place}: {message}{quoted}")
    return problems


def _located(error: ErrorDetails) -> Location:
    """Where the error is; a list validator's :class:`ListItemError` points into its list."""
    loc = tuple(error["loc"])
    cause = error.get("ctx", {}).get("error")
    return (*loc, cause.index) if isinstance(cause, ListItemError) else loc


def validation_message(
    exc: ValidationError,
    *,
    where: Where = dotted,
    got: Got | None = shown,
    first: int | None = None,
    whole: str = "value",
) -> str:
    """The errors of ``exc`` in one line, joined by "; " (see :func:`validation_problems`)."""
    return "; ".join(validation_problems(exc, where=where, got=got, first=first, whole=whole))
