"""The review server's settings and per-app state."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from agent.drafting.refine import RefineOptions
from agent.llm.providers import ModelSettings
from agent.signoff.records import Person
from agent.web.refining import Refining
from agent.web.roots import SpecRoots
from agent.web.security import Guard
from agent.web.specinfo import RowCache


@dataclass
class ServeSettings:
    folders: list[Path]
    token: str
    #: the Host names the server answers to (the bound address, plus localhost for loopback)
    hosts: set[str]
    #: private keys the page may sign with (the browser sees only their file names)
    ssh_keys: list[Path] = field(default_factory=list)
    allowed_signers: Path | None = None
    #: the name and email the approve and comment forms start with (git's identity)
    identity: Person | None = None
    #: the model refine asks (None: the page offers no refine), as `specdraft refine` would use it
    model: ModelSettings | None = None
    refine_options: RefineOptions = field(default_factory=RefineOptions)


@dataclass
class AppState:
    settings: ServeSettings
    roots: SpecRoots
    guard: Guard
    rows: RowCache
    refining: Refining | None = None
    #: each open event stream's stop event (set on shutdown; watchfiles sets one when its stream ends)
    streams: weakref.WeakSet[asyncio.Event] = field(default_factory=weakref.WeakSet)
    stopping: bool = False

    def stream_stop(self) -> asyncio.Event:
        """A stop event for a new event stream, set when the server shuts down."""
        stop = asyncio.Event()
        self.streams.add(stop)
        if self.stopping:
            stop.set()
        return stop

    def shut_down(self) -> None:
        self.stopping = True
        for stop in list(self.streams):
            stop.set()
