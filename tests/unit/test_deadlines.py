"""Speed meter, budgets fitted to it, the one deadline per call, the re-ask sampling ramps and the ETA."""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest

from agent.cli.progress import eta_seconds
from agent.drafting.policy import CLASSIC, tier_named
from agent.llm.client import within_deadline
from agent.llm.speed import MIN_BUDGET, SpeedMeter, fit_budget, fit_slots


def _status_error(status: int, retry_after: str | None = None) -> openai.APIStatusError:
    headers = {"retry-after": retry_after} if retry_after else {}
    response = httpx.Response(status, headers=headers, request=httpx.Request("POST", "http://x/"))
    kind = openai.RateLimitError if status == 429 else openai.InternalServerError
    return kind("boom", response=response, body=None)


def test_speed_meter_smooths_and_counts_slots() -> None:
    meter = SpeedMeter(smoothing=0.5)
    assert meter.per_slot(4) is None
    meter.record(100, 10.0)  # 10 tok/s
    assert meter.tokens_per_second == pytest.approx(10.0)
    meter.record(100, 10.0, concurrent=3)  # 30 tok/s for the server
    assert meter.tokens_per_second == pytest.approx(20.0)
    assert meter.per_slot(4) == pytest.approx(5.0)
    meter.record(0, 5.0)  # nothing generated: no information
    assert meter.samples == 2


def test_budget_is_fitted_to_the_deadline_at_the_measured_speed() -> None:
    meter = SpeedMeter()
    assert fit_budget(1536, meter, slots=4, timeout=300) == 1536  # nothing measured yet
    meter.record(10, 1.0)  # 10 tok/s in total, 2.5 per slot
    # 2.5 tok/s x 300 s x 0.6 = 450 tokens fit
    assert fit_budget(1536, meter, slots=4, timeout=300) == 450
    assert fit_budget(300, meter, slots=4, timeout=300) == 300
    assert fit_budget(1536, meter, slots=4, timeout=10) == MIN_BUDGET  # never below a usable floor


def test_slots_shrink_when_the_engine_is_too_slow_for_the_budget() -> None:
    meter = SpeedMeter()
    assert fit_slots(4, 1536, meter, timeout=300) == 4
    meter.record(10, 1.0)  # 10 tok/s x 300 s x 0.6 = 1800 tokens per deadline
    assert fit_slots(4, 1536, meter, timeout=300) == 1
    assert fit_slots(4, 400, meter, timeout=300) == 4
    assert fit_slots(4, 600, meter, timeout=300) == 3


def test_reask_sampling_ramps() -> None:
    tiny = tier_named("tiny").policy
    assert CLASSIC.temperature_for(3) == pytest.approx(0.7)
    assert CLASSIC.repeat_penalty_for(1) == 1.0 and tiny.repeat_penalty_for(2) == pytest.approx(1.25)
    assert CLASSIC.example_first and not tiny.example_first


def test_eta_from_tokens_per_second() -> None:
    assert eta_seconds(0, 10, 0, 5.0) is None
    rate, left = eta_seconds(2, 10, 200, 20.0) or (0.0, 0.0)
    assert rate == pytest.approx(10.0)
    assert left == pytest.approx(8 * 100 / 10.0)


def test_transport_faults_are_retried_with_growing_pauses_inside_one_deadline() -> None:
    pauses: list[float] = []
    sent = 0

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    async def send() -> str:
        nonlocal sent
        sent += 1
        if sent < 4:
            raise _status_error(503)
        return "answer"

    assert asyncio.run(within_deadline(send, 60, 3, sleep=sleep)) == "answer"
    assert pauses == [0.5, 1.0, 2.0]


def test_retry_after_is_honoured_and_retries_are_bounded() -> None:
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    async def send() -> str:
        raise _status_error(429, retry_after="3")

    with pytest.raises(openai.RateLimitError):
        asyncio.run(within_deadline(send, 60, 2, sleep=sleep))
    assert pauses == [3.0, 3.0]


def test_no_retry_is_started_that_could_not_finish_before_the_deadline() -> None:
    sent = 0

    async def send() -> str:
        nonlocal sent
        sent += 1
        raise _status_error(500)

    with pytest.raises(openai.InternalServerError):
        asyncio.run(within_deadline(send, 0.3, 3))  # the first pause (0.5 s) would pass the deadline
    assert sent == 1


def test_a_stalled_call_is_cancelled_at_the_deadline_and_never_resent() -> None:
    sent = 0
    cancelled = False

    async def send() -> str:
        nonlocal sent, cancelled
        sent += 1
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled = True
            raise
        return "late"

    with pytest.raises(openai.APITimeoutError):
        asyncio.run(within_deadline(send, 0.1, 3))
    assert sent == 1 and cancelled
