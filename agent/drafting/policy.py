"""The re-ask policy: how many attempts a section gets and how each attempt is sampled and shown.

One type, :class:`ReaskPolicy`, read by the re-ask loop (agent.drafting.reask) and the drafter. The
policy follows the model's size (agent.models.size: counted from its GGUF for the embedded engine, read
from its name for a remote model); :data:`TIERS` is the table to tune, and bench/reask.py measures, per
section, how often a re-ask turns a rejected answer into a valid one. The engine's measured speed is the
other fact: it fits each completion budget (the tier's cap, then agent.llm.speed) and the parallel calls.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agent.models.size import ModelSize


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
    #: at most this many completion tokens per call (None: the schema's own budget, fitted to the speed)
    max_tokens: int | None = None
    #: written into the spec's front matter (``reask_policy``): the size tier, or "classic"
    name: str = "classic"

    def temperature_for(self, attempt: int) -> float:
        return self.temperature + self.temperature_step * (attempt - 1)

    def repeat_penalty_for(self, attempt: int) -> float:
        return self.repeat_penalty + self.repeat_penalty_step * (attempt - 1)

    def budget_for(self, wanted: int) -> int:
        """A section's completion budget before the speed fit: its schema's figure, capped by the tier."""
        return min(wanted, self.max_tokens) if self.max_tokens else wanted


#: the policy before sizes were told apart: two re-asks, the example shown first (bench/reask.py's
#: "today" baseline)
CLASSIC = ReaskPolicy()


@dataclass(frozen=True)
class SizeTier:
    """Models with at most ``up_to`` parameters (and more than the tier before) get ``policy``."""

    #: None: no upper bound; models whose size is unknown land here too
    up_to: int | None
    policy: ReaskPolicy

    @property
    def name(self) -> str:
        return self.policy.name


#: Fewer parameters: a lighter first request. The tiny tier follows bench/reask.py on the bundled 135M
#: model (docs/performance.md): the prompt's example was copied in about 7 of 18 first answers, the
#: template's [bracketed instructions] were copied as placeholders, and answers looped to the length
#: limit; without the example and the template's Markdown (the field list carries the same instructions
#: in fewer tokens) and with a mild repeat penalty, 7-11 of 18 first answers validated instead of 0-1. A
#: re-ask rescued 9 of 50 rejected sections over four runs, at a whole call each, so tiny models get no
#: re-ask by default (--max-retries asks again). Lists in the schema sent to the server are capped at 5
#: items: the 135M model's long lists loop into repeats; three runs each way took 102-109 s against
#: 124-132 s and marked as many sections. The small tier (0.2B-1B, e.g. Qwen2.5-0.5B) keeps that first
#: request and gets one re-ask; from 1B on, the classic request with one re-ask. Not yet measured on
#: those models: tune the rows here when bench/reask.py has been run on them.
TIERS: tuple[SizeTier, ...] = (
    SizeTier(
        up_to=200_000_000,
        policy=ReaskPolicy(
            name="tiny",
            attempts=1,
            repeat_penalty=1.1,
            example_first=False,
            show_template=False,
            max_items=5,
            max_tokens=None,
        ),
    ),
    SizeTier(
        up_to=1_000_000_000,
        policy=ReaskPolicy(
            name="small",
            attempts=2,
            repeat_penalty=1.1,
            example_first=False,
            show_template=False,
            max_items=5,
            max_tokens=None,
        ),
    ),
    SizeTier(
        up_to=4_000_000_000,
        policy=ReaskPolicy(
            name="medium",
            attempts=2,
            repeat_penalty=1.0,
            example_first=False,
            show_template=False,
            max_items=6,
            max_tokens=None,
        ),
    ),
    SizeTier(
        up_to=None,
        policy=ReaskPolicy(
            name="large",
            attempts=2,
            repeat_penalty=1.0,
            example_first=True,
            show_template=True,
            max_items=None,
            max_tokens=None,
        ),
    ),
)


def tier_for(params: int | None) -> SizeTier:
    """The first tier whose bound holds ``params``; an unknown size gets the last (largest) tier.

    A size is unknown mostly for remote models named without one (gpt-4o-mini, a gateway's alias),
    which are large; a local GGUF without a readable count is rare, and the user is told (see
    agent.llm.providers).
    """
    if params is not None:
        for tier in TIERS:
            if tier.up_to is not None and params <= tier.up_to:
                return tier
    return TIERS[-1]


def tier_named(name: str) -> SizeTier:
    """The tier called ``name`` (for tests and benches); KeyError for an unknown name."""
    for tier in TIERS:
        if tier.name == name:
            return tier
    raise KeyError(name)


def policy_for(
    size: ModelSize, max_retries: int | None = None, temperature: float | None = None
) -> ReaskPolicy:
    """The policy for a model of ``size``; --max-retries sets the attempts, --temperature the first one's."""
    policy = tier_for(size.params).policy
    if max_retries is not None:
        policy = replace(policy, attempts=max_retries + 1)
    if temperature is not None:
        policy = replace(policy, temperature=temperature)
    return policy


def describe_tiers() -> str:
    """The default re-asks per tier in words, for help texts and `specdraft config` (true after tuning)."""
    parts = [
        f"{tier.policy.attempts - 1} up to {_short(tier.up_to)} parameters"
        for tier in TIERS
        if tier.up_to is not None
    ]
    parts.append(f"{TIERS[-1].policy.attempts - 1} above or when the size is unknown")
    return ", ".join(parts)


def _short(params: int) -> str:
    return f"{params / 1e9:g}B" if params >= 1_000_000_000 else f"{params / 1e6:g}M"
