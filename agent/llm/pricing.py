"""Estimated cost of a draft from its token counts and a small price table.

The shipped table (agent/prices.toml) holds list prices per million tokens; the user's
``$SPECDRAFT_PRICES`` or ``~/.config/specdraft/prices.toml`` adds models or replaces prices.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import ConfigError
from agent.io.userfiles import config_file, read_toml
from agent.io.validation import validation_message
from agent.llm.client import Usage

SHIPPED_PRICES = Path(__file__).with_name("prices.toml")


class Price(BaseModel):
    """US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    #: the share of the price the provider's Batch API takes off (0.5: half price); None: no discount
    batch_discount: float | None = Field(default=None, ge=0, lt=1)


class PriceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: dict[str, Price] = Field(default_factory=dict)


@dataclass(frozen=True)
class CostEstimate:
    #: None when the model has no price (an unknown model on a compatible server)
    usd: float | None
    basis: str

    def describe(self) -> str:
        if self.usd is None:
            return f"cost unknown ({self.basis})"
        return f"estimated cost ${self.usd:.4f} ({self.basis})"

    def as_dict(self) -> dict[str, object]:
        return {"usd": None if self.usd is None else round(self.usd, 6), "basis": self.basis}


def user_prices_path() -> Path:
    return config_file("SPECDRAFT_PRICES", "prices.toml")


def load_price_file(path: Path) -> dict[str, Price]:
    data = read_toml(path, "Price table")
    try:
        return PriceFile.model_validate(data).models
    except ValidationError as exc:
        raise ConfigError(
            f"Price table '{path}': {validation_message(exc)}.",
            hint='Write each model as [models."NAME"] with input, output and optional cached_input '
            "(US dollars per million tokens).",
        ) from None


def load_prices() -> dict[str, Price]:
    prices = load_price_file(SHIPPED_PRICES)
    path = user_prices_path()
    if path.is_file():
        prices.update(load_price_file(path))
    elif "SPECDRAFT_PRICES" in os.environ:
        raise ConfigError(f"SPECDRAFT_PRICES points to '{path}', which does not exist.")
    return prices


def find_price(model: str, prices: dict[str, Price]) -> tuple[str, Price] | None:
    """The exact entry, else the longest entry ``model`` starts with followed by '-' (dated snapshots)."""
    if model in prices:
        return model, prices[model]
    candidates = [name for name in prices if model.startswith(name + "-")]
    if not candidates:
        return None
    best = max(candidates, key=len)
    return best, prices[best]


def estimate_cost(
    usage: Usage, model: str, provider: str, prices: dict[str, Price] | None = None, *, batch: bool = False
) -> CostEstimate:
    """What ``usage`` cost on ``model``; local models are free, unknown remote models are unknown.

    ``batch``: the requests went through a Batch API, priced with the model's ``batch_discount``."""
    if provider == "local":
        return CostEstimate(0.0, "local model, no charge")
    try:
        table = load_prices() if prices is None else prices
    except ConfigError as exc:  # checked before drafting; a file broken since must not lose the result
        return CostEstimate(None, exc.message)
    found = find_price(model, table)
    if found is None:
        return CostEstimate(None, f"no price for '{model}'; add it to {user_prices_path()}")
    name, price = found
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    cached_rate = price.input if price.cached_input is None else price.cached_input
    usd = (
        (usage.prompt_tokens - cached) * price.input
        + cached * cached_rate
        + usage.completion_tokens * price.output
    ) / 1_000_000
    basis = f"{name} list price, US$ per 1M tokens: {price.input:g} in, {price.output:g} out"
    if not batch:
        return CostEstimate(usd, basis)
    if not price.batch_discount:
        return CostEstimate(usd, f"{basis}; no batch discount in the price table")
    return CostEstimate(
        usd * (1 - price.batch_discount), f"{basis}, batch price ({price.batch_discount:.0%} off)"
    )
