"""The re-ask policy: how many attempts a section gets and how each attempt is sampled.

The re-ask loop (agent.drafting.reask) reads a ``ModelPolicy`` turned into its ``ReaskPolicy``;
``policy_for`` picks it from the model's size. With a
135M-360M model a section that failed its first attempt rarely validates on a re-ask (bench/reask.py
measures this per section), so small models get one re-ask instead of two: the run ends sooner and the
section is marked [NEEDS ATTENTION] with its reason. Larger models keep the classic two re-asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: models at or below this many parameters count as "small" (the bundled SmolLM2-135M, 360M)
SMALL_MODEL_PARAMS = 1_000_000_000


@dataclass(frozen=True)
class ModelPolicy:
    """What the re-ask loop does; the loop itself stays policy-free."""

    #: total attempts per section: the first answer plus the re-asks
    attempts: int = 3
    #: added to the base temperature for each re-ask (a model that looped once loops again if cold)
    temperature_step: float = 0.25
    #: added to llama.cpp's repeat_penalty (1.0 = off) for each re-ask
    repeat_penalty_step: float = 0.15
    #: show the worked example of a filled field on the first attempt
    example_first: bool = True
    #: hide the example on re-asks (a small model that copied it copies it again while it can see it)
    example_on_reask: bool = False
    name: str = "classic"

    def temperature(self, base: float, attempt: int) -> float:
        return base + self.temperature_step * (attempt - 1)

    def repeat_penalty(self, attempt: int) -> float:
        return 1.0 + self.repeat_penalty_step * (attempt - 1)

    def with_example(self, attempt: int) -> bool:
        return self.example_first if attempt == 1 else self.example_on_reask


#: the policy before speed-fitting: two re-asks for every model
CLASSIC = ModelPolicy()
#: small models: one re-ask (a second re-ask rarely turns a rejected answer into a valid one)
SMALL = ModelPolicy(attempts=2, name="small-model")


def model_params(model: str) -> int | None:
    """Parameters read from a model name like 'SmolLM2-135M-Instruct' or 'qwen2.5-7b' (None if absent)."""
    match = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([mb])(?![a-z])", model.lower())
    if match is None:
        return None
    scale = 1_000_000 if match.group(2) == "m" else 1_000_000_000
    return int(float(match.group(1)) * scale)


def policy_for(model: str, max_retries: int | None = None) -> ModelPolicy:
    """The policy for ``model``; an explicit ``max_retries`` (the user's --max-retries) sets the attempts."""
    params = model_params(model)
    base = SMALL if params is not None and params <= SMALL_MODEL_PARAMS else CLASSIC
    if max_retries is None:
        return base
    return ModelPolicy(
        attempts=max_retries + 1,
        temperature_step=base.temperature_step,
        repeat_penalty_step=base.repeat_penalty_step,
        example_first=base.example_first,
        example_on_reask=base.example_on_reask,
        name=base.name,
    )
