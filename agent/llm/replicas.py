"""Several OpenAI-compatible servers serving one model: a batch spread over them, failures routed around.

Each replica has its URL and a limit of requests in flight (by default the slots setting: --parallel
for draft, --jobs for batch). A request goes to the least busy healthy replica, and waits when every
healthy one is full. A connection error, an HTTP 5xx or a timeout takes the replica out for a cool-down
(2 s, doubling with each failure in a row, at most 60 s) and the request is sent to another replica
inside the same per-call deadline; that failover is counted as a retry. After the cool-down the replica
gets one request again (a probe): an answer puts it back, a failure doubles its cool-down. When every
replica is down, a call waits for the first to come back, unless it has already seen as many failures
as there are replicas or its deadline would pass first: then it fails with a ModelError naming each
URL and why it failed. A 429 is not a replica failure: it is retried after a pause, as for one server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agent.errors import ModelError, ModelTimeoutError
from agent.io.redact import display_url, redact

#: first cool-down of a replica that failed, doubled for each further failure in a row, capped
COOL_DOWN_FIRST = 2.0
COOL_DOWN_MAX = 60.0
#: the longest pause after a 429 (a server's Retry-After is honoured up to this)
MAX_BACKOFF = 8.0


@dataclass
class Replica:
    url: str
    limit: int
    active: int = 0
    requests: int = 0
    failures: int = 0
    #: failures in a row (sets the next cool-down); 0 when healthy
    strikes: int = 0
    down_until: float = 0.0
    last_error: str | None = None

    def healthy(self, now: float) -> bool:
        return now >= self.down_until

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": display_url(self.url),
            "requests": self.requests,
            "failures": self.failures,
            "down": self.strikes > 0,
            "last_error": self.last_error,
        }


class ReplicaPool:
    """Hands each model call to a replica, and moves it to another when that one fails."""

    def __init__(
        self,
        urls: list[str] | tuple[str, ...],
        limit: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        cool_down_first: float = COOL_DOWN_FIRST,
        cool_down_max: float = COOL_DOWN_MAX,
    ) -> None:
        if not urls:
            raise ValueError("a replica pool needs at least one URL")
        self.replicas = [Replica(url, max(1, limit)) for url in urls]
        self.clock = clock
        self.cool_down_first = cool_down_first
        self.cool_down_max = cool_down_max
        #: requests moved to another replica after a failure (all calls together)
        self.failovers = 0
        self._waiters: list[asyncio.Future[None]] = []

    def as_list(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.replicas]

    def _wake(self) -> None:
        """Tell every waiting call that a replica was freed or changed state (never blocks)."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _pick(self, now: float) -> Replica | None:
        free = [r for r in self.replicas if r.healthy(now) and r.active < r.limit]
        if not free:
            return None
        # least busy first (relative to its limit); a recovering replica only gets one probe at a time
        free = [r for r in free if not (r.strikes and r.active)]
        return min(free, key=lambda r: (r.active / r.limit, r.requests), default=None)

    def _next_recovery(self, now: float) -> float | None:
        waiting = [r.down_until for r in self.replicas if not r.healthy(now)]
        return min(waiting) if waiting else None

    async def _acquire(self, ends: float, *, give_up: bool) -> Replica:
        while True:
            now = self.clock()
            replica = self._pick(now)
            if replica is not None:
                replica.active += 1
                replica.requests += 1
                return replica
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            if any(r.healthy(now) for r in self.replicas):
                await waiter  # every healthy replica is full: wait for one to finish
                continue
            recovery = self._next_recovery(now)
            if give_up or recovery is None or recovery >= ends:
                raise self._all_down()
            # every replica is cooling down: wait for the first to come back (or any change)
            await asyncio.wait([waiter], timeout=max(0.0, recovery - now))

    def _release(self, replica: Replica) -> None:
        replica.active -= 1
        self._wake()

    def _failed(self, replica: Replica, reason: str) -> None:
        replica.failures += 1
        replica.strikes += 1
        replica.last_error = reason
        pause = min(self.cool_down_max, self.cool_down_first * 2 ** (replica.strikes - 1))
        replica.down_until = self.clock() + pause
        self._wake()

    def _answered(self, replica: Replica) -> None:
        if replica.strikes:
            replica.strikes = 0
            replica.down_until = 0.0

    def _all_down(self) -> ModelError:
        failed = "; ".join(f"{display_url(r.url)} ({r.last_error or 'up, no room'})" for r in self.replicas)
        return ModelError(
            f"No model server could answer: {failed}.",
            hint="Are the servers running? Check each --base-url (or base_url in specdraft.toml).",
        )

    async def call(
        self, send: Callable[[str], Awaitable[Any]], deadline: float, retries: int
    ) -> tuple[Any, int]:
        """``send(url)`` on a healthy replica, moved to another on a replica failure, all within
        ``deadline`` seconds; returns the answer and how many failovers it took.

        A call makes at most ``max(retries + 1, replicas)`` attempts. A timeout at the deadline takes
        the replica that hung out of rotation and is raised as a ModelTimeoutError naming it (the
        request is never re-sent).
        """
        import openai

        ends = self.clock() + deadline
        attempts = max(retries + 1, len(self.replicas))
        failed = 0  # attempts that failed so far
        failovers = 0
        hung: Replica | None = None
        try:
            async with asyncio.timeout(deadline):
                while True:
                    replica = await self._acquire(ends, give_up=failed >= len(self.replicas))
                    try:
                        answer = await send(replica.url)
                    except asyncio.CancelledError:
                        hung = replica  # the deadline (or an interrupt) ended the request
                        raise
                    except openai.APITimeoutError:
                        self._failed(replica, "no answer in time")
                        raise _timed_out(replica) from None
                    except (openai.APIConnectionError, openai.InternalServerError) as exc:
                        self._failed(replica, _reason(exc))
                        failed += 1
                        if failed >= attempts:
                            raise self._all_down() from None
                        failovers += 1
                        self.failovers += 1
                    except openai.RateLimitError as exc:
                        # the server is up, only busy: not a replica failure; back off as one server would
                        failed += 1
                        pause = min(MAX_BACKOFF, max(0.5 * 2 ** (failed - 1), retry_after(exc)))
                        if failed >= attempts or self.clock() + pause >= ends:
                            raise
                        await asyncio.sleep(pause)
                    else:
                        self._answered(replica)
                        return answer, failovers
                    finally:
                        self._release(replica)
        except TimeoutError:
            if hung is None:  # still waiting for a free replica when the deadline came
                raise ModelTimeoutError(
                    "No model server had room for the request before its deadline.",
                    hint="Raise --timeout, or lower --jobs/--parallel.",
                ) from None
            self._failed(hung, "no answer in time")
            raise _timed_out(hung) from None


def _reason(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    cause = exc.__cause__ or exc.__context__
    text = redact(str(cause)) if cause is not None and str(cause) else "connection failed"
    return text if len(text) <= 120 else text[:117] + "..."


def _timed_out(replica: Replica) -> ModelTimeoutError:
    return ModelTimeoutError(
        f"The model server at {display_url(replica.url)} did not answer in time.",
        hint="Raise --timeout, or lower --parallel on a slow machine.",
    )


def retry_after(exc: Exception) -> float:
    """The seconds a server's Retry-After header asks for (0 when absent or unreadable)."""
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else 0.0
    except ValueError:
        return 0.0
