"""The review server's settings and per-app state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from agent.signoff.records import Person
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


@dataclass
class AppState:
    settings: ServeSettings
    roots: SpecRoots
    guard: Guard
    rows: RowCache
    stop: asyncio.Event
