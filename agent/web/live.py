"""Server-Sent Events: a page hears within a second when the files it shows change on disk.

``watchfiles`` (inotify and friends, polling where there is none) watches the folders; an event is sent
when a watched file (the spec, its comments, its history, its approved copy; for the list, any ``.md``)
is written, created or removed. A comment line every 15 s keeps proxies from closing the stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from agent.io.journal import journal_path
from agent.signoff.steps import approved_copy_path
from agent.specdoc.comments import comments_path

#: how long changes are gathered into one event (ms): an atomic write is a create and a rename
DEBOUNCE_MS = 200
HEARTBEAT_S = 15.0


def spec_files(spec: Path) -> set[Path]:
    """The files whose change a spec's page shows."""
    return {spec, comments_path(spec), journal_path(spec), approved_copy_path(spec)}


async def events(
    folders: list[Path],
    wanted: Callable[[Path], bool],
    stop: asyncio.Event,
    *,
    recursive: bool,
    changed: Callable[[], bool] = lambda: False,
) -> AsyncIterator[str]:
    """SSE lines: ``event: change`` on every batch of changes ``wanted`` accepts, heartbeats between.

    ``changed`` is asked once the watch has started: a change made between the page's rendering and its
    event stream connecting is sent at once rather than missed. ``stop`` must be this stream's own:
    watchfiles sets it when the stream is cancelled (the browser went away).
    """
    from watchfiles import awatch

    yield "retry: 1000\n\n"
    changes = awatch(
        *folders,
        debounce=DEBOUNCE_MS,
        step=50,
        stop_event=stop,
        rust_timeout=1000,
        yield_on_timeout=True,
        recursive=recursive,
    )
    loop = asyncio.get_running_loop()
    last = loop.time()
    first = True
    async for batch in changes:
        if first and await asyncio.to_thread(changed):
            yield "event: change\ndata: changed\n\n"
        first = False
        if any(wanted(Path(path)) for _, path in batch):
            last = loop.time()
            yield "event: change\ndata: changed\n\n"
        elif loop.time() - last > HEARTBEAT_S:
            last = loop.time()
            yield ": still here\n\n"
