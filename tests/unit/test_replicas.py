"""The replica pool (several --base-url): least busy healthy server, failover inside one deadline,
cool-downs, a clear error when every server is down; and the embedded server sized to free memory."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import openai
import pytest

from agent.errors import ModelError, ModelTimeoutError
from agent.io.redact import display_url
from agent.llm.replicas import ReplicaPool
from agent.models import select as model_select
from agent.models.bundled import bundled_model_path
from agent.models.select import GIB, ResolvedModel, fit_server

A, B = "http://a.test/v1", "http://b.test/v1"


def _refused(url: str) -> openai.APIConnectionError:
    return openai.APIConnectionError(request=httpx.Request("POST", url))


def _http_503(url: str) -> openai.InternalServerError:
    request = httpx.Request("POST", url)
    return openai.InternalServerError("down", response=httpx.Response(503, request=request), body=None)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_failing_replica_is_routed_around_and_cooled_down() -> None:
    clock = Clock()
    pool = ReplicaPool([A, B], limit=2, clock=clock)
    sent: list[str] = []

    async def send(url: str) -> str:
        sent.append(url)
        if url == B:
            raise _http_503(url)
        return "answer"

    async def run() -> list[tuple[Any, int]]:
        return [await pool.call(send, 30, 3) for _ in range(6)]

    results = asyncio.run(run())
    assert all(answer == "answer" for answer, _ in results)
    # B failed once, then sat out its cool-down: no other request went to it
    assert sent.count(B) == 1 and sent.count(A) == 6
    assert sum(failovers for _, failovers in results) == 1 == pool.failovers
    state = {r["url"]: r for r in pool.as_list()}
    assert state[B]["down"] and state[B]["last_error"] == "HTTP 503" and state[B]["failures"] == 1
    assert not state[A]["down"]

    # after the cool-down, one probe; it fails again and the next cool-down is twice as long
    clock.now += 2.1
    asyncio.run(pool.call(send, 30, 3))
    assert sent.count(B) == 2
    clock.now += 2.1  # less than the 4 s second cool-down
    asyncio.run(pool.call(send, 30, 3))
    assert sent.count(B) == 2
    clock.now += 2.0
    asyncio.run(pool.call(send, 30, 3))
    assert sent.count(B) == 3


def test_a_recovered_replica_takes_requests_again() -> None:
    clock = Clock()
    pool = ReplicaPool([A, B], limit=1, clock=clock)
    b_up = False

    async def send(url: str) -> str:
        if url == B and not b_up:
            raise _refused(url)
        return url

    asyncio.run(pool.call(send, 30, 3))
    asyncio.run(pool.call(send, 30, 3))
    b_up = True
    clock.now += 2.1

    async def both() -> list[tuple[Any, int]]:
        return list(await asyncio.gather(pool.call(send, 30, 3), pool.call(send, 30, 3)))

    assert sorted(url for url, _ in asyncio.run(both())) == [A, B]
    assert not any(r["down"] for r in pool.as_list())


def test_requests_go_to_the_least_busy_replica_within_its_limit() -> None:
    pool = ReplicaPool([A, B], limit=2)
    busy: dict[str, int] = {A: 0, B: 0}
    peak: dict[str, int] = {A: 0, B: 0}

    async def send(url: str) -> str:
        busy[url] += 1
        peak[url] = max(peak[url], busy[url])
        await asyncio.sleep(0.02)
        busy[url] -= 1
        return url

    async def many() -> list[tuple[Any, int]]:
        return list(await asyncio.gather(*(pool.call(send, 30, 0) for _ in range(12))))

    urls = [url for url, _ in asyncio.run(many())]
    assert urls.count(A) == urls.count(B) == 6
    assert peak == {A: 2, B: 2}  # never more than each replica's limit at once


def test_every_replica_down_is_a_clear_error_naming_each() -> None:
    pool = ReplicaPool(["http://user:secret@a.test/v1", B], limit=1, cool_down_first=0.05)
    sent: list[str] = []

    async def send(url: str) -> str:
        sent.append(url)
        raise _refused(url) if url == B else _http_503(url)

    with pytest.raises(ModelError) as caught:
        asyncio.run(pool.call(send, 30, 3))
    message = str(caught.value)
    assert "http://user:***@a.test/v1 (HTTP 503)" in message and "http://b.test/v1 (" in message
    assert "secret" not in message
    assert len(sent) == 2  # each tried once, not retried within the call
    # a later call waits for the first cool-down to end, probes each server once more, and fails
    with pytest.raises(ModelError, match="No model server could answer"):
        asyncio.run(asyncio.wait_for(pool.call(send, 30, 3), 2.0))
    assert len(sent) == 4
    # ... unless its deadline ends before any server comes back
    pool.cool_down_first = 60
    with pytest.raises(ModelError, match="No model server could answer"):
        asyncio.run(pool.call(send, 1, 3))  # probes both after their short cool-downs: now 4 min long
    assert len(sent) == 6
    with pytest.raises(ModelError, match="No model server could answer"):
        asyncio.run(pool.call(send, 1, 3))
    assert len(sent) == 6


def test_a_timeout_is_not_resent_and_takes_the_replica_out() -> None:
    pool = ReplicaPool([A, B], limit=1)
    sent: list[str] = []

    async def send(url: str) -> str:
        sent.append(url)
        if url == A:
            await asyncio.sleep(10)
        return url

    with pytest.raises(ModelTimeoutError, match=r"server at http://a\.test/v1 did not answer in time"):
        asyncio.run(pool.call(send, 0.2, 3))
    assert sent == [A]  # one deadline per call: nothing re-sent after it
    assert {r["url"]: r["down"] for r in pool.as_list()} == {A: True, B: False}
    assert asyncio.run(pool.call(send, 5, 3)) == (B, 0)


def test_display_url_masks_credentials() -> None:
    assert display_url("https://u:p@h.test:8443/v1") == "https://u:***@h.test:8443/v1"
    assert display_url("https://ghp_tokenvalue1234@h.test/v1") == "https://***@h.test/v1"
    assert display_url(f"{A},https://u:p@h.test/v1") == f"{A},https://u:***@h.test/v1"
    assert display_url(A) == A


# ---------------------------------------------------------------- the embedded server and free memory


def _model() -> ResolvedModel:
    return ResolvedModel("smollm2-135m-instruct", bundled_model_path(), 8192, True)


def test_slots_are_lowered_to_free_memory_with_a_notice() -> None:
    kv = 30 * 3 * 128 * 2  # bytes per token of the bundled model
    weights = bundled_model_path().stat().st_size
    overhead = 256 * 1024**2 + weights // 20
    free = int((weights + overhead + 5000 * kv) / 0.85)  # room for two 2048-token slots, not 16
    fit = fit_server(_model(), 16, available=free)
    assert fit.slots == 2 and fit.n_ctx // fit.slots >= 2048
    assert fit.notice is not None
    assert "Running 2 request(s) at once instead of the 16 asked for (--jobs/--parallel)" in fit.notice
    assert f"{free / GIB:.1f} GiB of memory is free" in fit.notice and "smollm2-135m-instruct" in fit.notice


def test_enough_memory_keeps_the_slots_and_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    fit = fit_server(_model(), 8, available=32 * GIB)
    assert (fit.slots, fit.n_ctx, fit.notice) == (8, 8 * 8192, None)
    # without a reading given, the system's free memory is used
    monkeypatch.setattr(model_select, "memory_available", lambda: 32 * GIB)
    assert fit_server(_model(), 8) == fit
