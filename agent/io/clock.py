"""The one timestamp format of the files specdraft keeps beside a spec (journal, comments): UTC, whole
seconds, ``Z`` for the zone (``2026-12-05T19:00:00Z``)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_timestamp() -> str:
    """Now, as those files record it."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
