"""A content-addressed disk cache of model answers.

An identical request (same model identity, messages, JSON schema, sampling settings and seed) is
answered from disk instead of the model: re-drafting an unchanged brief, resuming a batch with
``--force`` or repeating a refine costs nothing. Entries are JSON files named by the sha256 of the
request, sharded by the first two hex digits, written atomically. The cache is bounded in bytes:
when a write takes it over the bound, the least recently used entries (by mtime, touched on every
hit) are removed. Only the answer text, finish reason and token counts are stored; the request
itself (brief, spec text) is reduced to its digest and API keys never take part.

Location: ``$SPECDRAFT_CACHE_DIR``, else ``$XDG_CACHE_HOME/specdraft/responses``
(``~/.cache/specdraft/responses``). Size bound: ``$SPECDRAFT_CACHE_MAX_MB`` (default 200).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import ConfigError
from agent.io.userfiles import user_path

DEFAULT_MAX_MB = 200
#: bump when the stored format or the meaning of a key changes: old entries then simply miss
FORMAT_VERSION = 1


@dataclass(frozen=True)
class CachedAnswer:
    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class CacheStats:
    directory: Path
    entries: int
    bytes: int
    max_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "entries": self.entries,
            "bytes": self.bytes,
            "max_bytes": self.max_bytes,
        }


def default_cache_dir() -> Path:
    return user_path("SPECDRAFT_CACHE_DIR", "XDG_CACHE_HOME", ".cache", "responses")


def default_max_bytes() -> int:
    raw = os.environ.get("SPECDRAFT_CACHE_MAX_MB", "").strip()
    if not raw:
        return DEFAULT_MAX_MB * 1024 * 1024
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = -1.0
    if megabytes < 0:
        raise ConfigError(
            f"SPECDRAFT_CACHE_MAX_MB={raw!r} is not a size in megabytes.",
            hint="Set it to a number such as 200, or 0 to keep nothing.",
        )
    return int(megabytes * 1024 * 1024)


def request_key(identity: str, request: dict[str, Any]) -> str:
    """The sha256 of the model identity and the request, with keys sorted so dict order does not matter."""
    material = json.dumps(
        {"v": FORMAT_VERSION, "model": identity, "request": request},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        # Bytes on disk as far as this process knows: a full scan happens once, then only when the
        # running total passes the bound (other processes' writes are caught by that scan).
        self._known_bytes: int | None = None

    @classmethod
    def default(cls) -> ResponseCache:
        return cls(default_cache_dir(), default_max_bytes())

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedAnswer | None:
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            answer = CachedAnswer(
                text=str(data["text"]),
                finish_reason=data.get("finish_reason"),
                prompt_tokens=int(data.get("prompt_tokens", 0)),
                completion_tokens=int(data.get("completion_tokens", 0)),
            )
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError):
            # A damaged entry (disk full during a write by an older version, edited by hand): drop it.
            self.misses += 1
            self.forget(key)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        self.hits += 1
        return answer

    def put(self, key: str, answer: CachedAnswer) -> None:
        """Store an answer; a cache that cannot be written is skipped, never an error for the draft."""
        if self.max_bytes <= 0:
            return
        path = self._path(key)
        payload = json.dumps(
            {
                "text": answer.text,
                "finish_reason": answer.finish_reason,
                "prompt_tokens": answer.prompt_tokens,
                "completion_tokens": answer.completion_tokens,
            },
            ensure_ascii=False,
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".entry.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(payload)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            return
        if self._known_bytes is None:
            self._known_bytes = sum(size for _, size, _ in self._entries())
        else:
            self._known_bytes += len(payload.encode("utf-8"))
        if self._known_bytes > self.max_bytes:
            self._known_bytes = self._enforce_bound()

    def forget(self, key: str) -> None:
        with contextlib.suppress(OSError):
            self._path(key).unlink()

    def _entries(self) -> list[tuple[float, int, Path]]:
        found: list[tuple[float, int, Path]] = []
        if not self.directory.is_dir():
            return found
        for shard in self.directory.iterdir():
            if not shard.is_dir() or len(shard.name) != 2:
                continue
            for entry in shard.glob("*.json"):
                with contextlib.suppress(OSError):
                    stat = entry.stat()
                    found.append((stat.st_mtime, stat.st_size, entry))
        return found

    def _enforce_bound(self) -> int:
        """Remove least recently used entries down to 90% of the bound; return the bytes left."""
        entries = self._entries()
        total = sum(size for _, size, _ in entries)
        if total <= self.max_bytes:
            return total
        target = int(self.max_bytes * 0.9)
        for _, size, path in sorted(entries, key=lambda e: e[0]):
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
            if total <= target:
                break
        return total

    def stats(self) -> CacheStats:
        entries = self._entries()
        return CacheStats(self.directory, len(entries), sum(s for _, s, _ in entries), self.max_bytes)

    def clear(self) -> CacheStats:
        """Remove every entry; return what was removed. Only files this cache wrote are touched."""
        removed = self.stats()
        self._known_bytes = 0
        for _, _, path in self._entries():
            with contextlib.suppress(OSError):
                path.unlink()
        if self.directory.is_dir():
            for shard in self.directory.iterdir():
                if shard.is_dir() and len(shard.name) == 2:
                    for tmp in shard.glob(".entry.*.tmp"):
                        with contextlib.suppress(OSError):
                            tmp.unlink()
                    with contextlib.suppress(OSError):
                        shard.rmdir()
        return removed
