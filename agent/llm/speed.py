"""The engine's measured speed, and the work fitted to it (completion budgets, slots, deadlines).

Speeds of the same model on the same machine vary several-fold from day to day, so nothing here uses a
fixed figure: a short probe at the start gives a first estimate and every completed call refines it
(an exponentially weighted running mean of generated tokens per second, for all slots together).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

#: the smallest completion budget a section is given, even on a very slow engine
MIN_BUDGET = 192
#: the share of the deadline a full completion budget may use (the prompt needs time too)
DEADLINE_SHARE = 0.6


@dataclass
class SpeedMeter:
    """A running estimate of generated tokens per second (for the whole server, all slots)."""

    smoothing: float = 0.3
    tokens_per_second: float | None = None
    samples: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, completion_tokens: int, seconds: float, *, concurrent: int = 1) -> None:
        """One finished call: ``concurrent`` calls shared the server while it ran."""
        if completion_tokens <= 0 or seconds <= 0:
            return
        rate = completion_tokens / seconds * max(1, concurrent)
        with self._lock:
            if self.tokens_per_second is None:
                self.tokens_per_second = rate
            else:
                self.tokens_per_second += self.smoothing * (rate - self.tokens_per_second)
            self.samples += 1

    def per_slot(self, slots: int) -> float | None:
        if self.tokens_per_second is None:
            return None
        return self.tokens_per_second / max(1, slots)


def fit_budget(wanted: int, meter: SpeedMeter, *, slots: int, timeout: float) -> int:
    """A completion budget no larger than ``wanted`` that one slot can finish inside the deadline."""
    rate = meter.per_slot(slots)
    if rate is None:
        return wanted
    affordable = int(rate * timeout * DEADLINE_SHARE)
    return max(min(MIN_BUDGET, wanted), min(wanted, affordable))


def fit_slots(wanted: int, budget: int, meter: SpeedMeter, *, timeout: float) -> int:
    """How many calls may share the server so that each can still finish ``budget`` tokens in time."""
    if meter.tokens_per_second is None:
        return wanted
    fits = math.floor(meter.tokens_per_second * timeout * DEADLINE_SHARE / max(1, budget))
    return max(1, min(wanted, fits))
