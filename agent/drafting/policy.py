"""The re-ask policy: how many attempts a section gets and how each attempt is sampled and shown.

One type, :class:`ReaskPolicy`, read by the re-ask loop (agent.drafting.reask). ``policy_for`` picks
it from the model's size; bench/reask.py measures, per section, how often a re-ask turns a rejected
answer into a valid one, and the small-model policy below follows from those figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

#: models at or below this many parameters count as "small" (the bundled SmolLM2-135M, 360M)
SMALL_MODEL_PARAMS = 1_000_000_000


@dataclass(frozen=True)
class ReaskPolicy:
    """What the re-ask loop does; the loop itself stays policy-free."""

    #: total attempts per section: the first answer plus the re-asks
    attempts: int = 3
    #: the first attempt's temperature (the user's --temperature)
    temperature: float = 0.2
    #: added to the temperature for each re-ask (a model that looped once loops again if cold)
    temperature_step: float = 0.25
    #: llama.cpp's repeat_penalty on the first attempt (1.0 = off)
    repeat_penalty: float = 1.0
    #: added to the repeat penalty for each re-ask
    repeat_penalty_step: float = 0.15
    #: show the worked example of a filled field on the first attempt
    example_first: bool = True
    #: show the section's template Markdown above the field list
    show_template: bool = True
    #: at most this many items per list in the schema sent to the server (None: the section model's own)
    max_items: int | None = None
    name: str = "classic"

    def temperature_for(self, attempt: int) -> float:
        return self.temperature + self.temperature_step * (attempt - 1)

    def repeat_penalty_for(self, attempt: int) -> float:
        return self.repeat_penalty + self.repeat_penalty_step * (attempt - 1)


#: the policy before speed-fitting: two re-asks for every model, the example shown first
CLASSIC = ReaskPolicy()
#: small models, from bench/reask.py on the bundled 135M model (docs/performance.md): the prompt's
#: example was copied in about 7 of 18 first answers, the template's [bracketed instructions] were
#: copied as placeholders, and answers looped to the length limit; without the example and the
#: template's Markdown (the field list carries the same instructions in fewer tokens) and with a mild
#: repeat penalty, 7-11 of 18 first answers validated instead of 0-1. A re-ask turned a rejected
#: answer into a valid one for 9 of 50 rejected sections over four runs, at the cost of a whole call
#: each, so small models get no re-ask by default (--max-retries asks again). Lists in the schema sent
#: to the server are capped at 5 items: the 135M model's long lists loop into repeats; three runs each
#: way took 102-109 s against 124-132 s (23% fewer completion tokens) and marked as many sections.
SMALL = ReaskPolicy(
    attempts=1, repeat_penalty=1.1, example_first=False, show_template=False, max_items=5, name="small-model"
)


def model_params(model: str) -> int | None:
    """Parameters read from a model name like 'SmolLM2-135M-Instruct' or 'qwen2.5-7b' (None if absent)."""
    match = re.search(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([mb])(?![a-z])", model.lower())
    if match is None:
        return None
    scale = 1_000_000 if match.group(2) == "m" else 1_000_000_000
    return int(float(match.group(1)) * scale)


def policy_for(model: str, max_retries: int | None = None, temperature: float | None = None) -> ReaskPolicy:
    """The policy for ``model``; the user's --max-retries sets the attempts, --temperature the first one."""
    params = model_params(model)
    policy = SMALL if params is not None and params <= SMALL_MODEL_PARAMS else CLASSIC
    if max_retries is not None:
        policy = replace(policy, attempts=max_retries + 1)
    if temperature is not None:
        policy = replace(policy, temperature=temperature)
    return policy
