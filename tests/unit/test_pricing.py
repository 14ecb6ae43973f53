"""Cost estimates: the shipped price table, user overrides, and the figures draft and batch print."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.errors import ConfigError
from agent.llm.client import Usage
from agent.llm.pricing import SHIPPED_PRICES, Price, estimate_cost, find_price, load_price_file, load_prices

TEMPLATE = "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"
BRIEF = "# CSV export\n\nUsers export their invoices as CSV files from the billing page, by date range.\n"


def test_the_shipped_table_loads_and_prices_the_default_openai_model() -> None:
    from agent.llm.providers import DEFAULT_OPENAI_MODEL

    prices = load_price_file(SHIPPED_PRICES)
    assert DEFAULT_OPENAI_MODEL in prices
    for name, price in prices.items():
        assert price.output >= price.input > 0, name
        assert price.cached_input is None or price.cached_input <= price.input, name


def test_dated_snapshots_match_the_longest_name() -> None:
    prices = {"gpt-4o": Price(input=2.5, output=10), "gpt-4o-mini": Price(input=0.15, output=0.6)}
    assert find_price("gpt-4o-mini-2024-07-18", prices) == ("gpt-4o-mini", prices["gpt-4o-mini"])
    assert find_price("gpt-4o-2024-08-06", prices) == ("gpt-4o", prices["gpt-4o"])
    assert find_price("gpt-4o-mini", prices) == ("gpt-4o-mini", prices["gpt-4o-mini"])
    assert find_price("gpt-4oo", prices) is None


def test_cached_prompt_tokens_are_charged_at_the_cached_rate() -> None:
    prices = {"m": Price(input=0.15, cached_input=0.075, output=0.60)}
    usage = Usage(prompt_tokens=1_000_000, cached_tokens=400_000, completion_tokens=100_000)
    estimate = estimate_cost(usage, "m", "openai", prices)
    # 600k uncached x 0.15 + 400k cached x 0.075 + 100k completion x 0.60, per million
    assert estimate.usd == pytest.approx(0.09 + 0.03 + 0.06)
    no_cached_rate = estimate_cost(usage, "m2", "openai", {"m2": Price(input=0.15, output=0.60)})
    assert no_cached_rate.usd == pytest.approx(0.15 + 0.06)


def test_batch_requests_are_priced_with_the_table_s_batch_discount() -> None:
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=100_000)
    prices = {"m": Price(input=0.15, output=0.60, batch_discount=0.5), "n": Price(input=0.15, output=0.60)}
    live = estimate_cost(usage, "m", "openai", prices)
    batch = estimate_cost(usage, "m", "openai", prices, batch=True)
    assert live.usd == pytest.approx(0.21) and batch.usd == pytest.approx(0.105)
    assert "batch price (50% off)" in batch.basis
    undiscounted = estimate_cost(usage, "n", "openai", prices, batch=True)
    assert undiscounted.usd == pytest.approx(0.21) and "no batch discount" in undiscounted.basis
    shipped = load_price_file(SHIPPED_PRICES)
    assert all(price.batch_discount == 0.5 for price in shipped.values())


def test_local_is_free_and_an_unpriced_remote_model_is_unknown() -> None:
    usage = Usage(prompt_tokens=5000, completion_tokens=800)
    assert estimate_cost(usage, "smollm2-135m-instruct", "local", {}).usd == 0.0
    unknown = estimate_cost(usage, "my-vllm-model", "compatible", {})
    assert (
        unknown.usd is None and "my-vllm-model" in unknown.describe() and "prices.toml" in unknown.describe()
    )


def test_user_prices_add_and_replace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "prices.toml"
    user.write_text(
        '[models."gpt-4o-mini"]\ninput = 1.0\noutput = 2.0\n\n'
        '[models."house-model"]\ninput = 0\noutput = 0.5\n'
    )
    monkeypatch.setenv("SPECDRAFT_PRICES", str(user))
    prices = load_prices()
    assert prices["gpt-4o-mini"] == Price(input=1.0, output=2.0)
    assert prices["house-model"].output == 0.5
    assert "gpt-4o" in prices, "shipped entries stay unless replaced"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[models.x\n", "not valid TOML"),
        ('[models."x"]\ninput = -1\noutput = 1\n', "models.x.input"),
        ('[models."x"]\ninput = 1\n', "models.x.output"),
        ('[models."x"]\ninput = 1\noutput = 1\nper = "token"\n', "models.x.per"),
    ],
    ids=["toml", "negative", "missing", "unknown-field"],
)
def test_a_broken_price_file_names_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_price_file(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_a_missing_explicit_price_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECDRAFT_PRICES", str(tmp_path / "nowhere.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_prices()


def _draft(server: FaultServer, tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    (tmp_path / "brief.md").write_text(BRIEF)
    (tmp_path / "small.md").write_text(TEMPLATE)
    args = ["draft", str(tmp_path / "brief.md"), "-o", str(tmp_path / "spec.md"), "--force",
            "--template", str(tmp_path / "small.md"), "--base-url", server.base_url,
            "--model", "fault-model", "--parallel", "1", *extra]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120", "OPENAI_API_KEY": ""})
    return result.exit_code, result.stdout, result.stderr


def test_draft_prints_tokens_and_cost(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."fault-model"]\ninput = 1000\noutput = 2000\n')
    monkeypatch.setenv("SPECDRAFT_PRICES", str(prices))
    code, _, err = _draft(fault_server, tmp_path)
    assert code == 0, err
    # the fault server reports 10 prompt and 5 completion tokens per call; two sections, two calls
    assert "Tokens: 20 prompt, 0 of them cached (0%), 10 completion" in err
    assert "estimated cost $0.0400 (fault-model list price" in err
    code, out, err = _draft(fault_server, tmp_path, "--json", "--no-cache")
    assert code == 0, err
    assert json.loads(out)["cost"]["usd"] == pytest.approx((20 * 1000 + 10 * 2000) / 1e6)


def test_an_unpriced_model_says_so(fault_server: FaultServer, tmp_path: Path) -> None:
    code, _, err = _draft(fault_server, tmp_path)
    assert code == 0, err
    assert "cost unknown (no price for 'fault-model'" in err


def test_a_broken_price_file_stops_before_any_model_call(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."fault-model"]\ninput = "cheap"\noutput = 1\n')
    monkeypatch.setenv("SPECDRAFT_PRICES", str(prices))
    code, _, err = _draft(fault_server, tmp_path)
    assert code == 2 and "Price table" in err and "Traceback" not in err
    assert fault_server.chat_requests() == []
    assert not (tmp_path / "spec.md").exists()


def test_batch_reports_tokens_and_cost(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."fault-model"]\ninput = 1000\noutput = 2000\n')
    monkeypatch.setenv("SPECDRAFT_PRICES", str(prices))
    briefs = tmp_path / "briefs"
    briefs.mkdir()
    for name in ("one", "two"):
        (briefs / f"{name}.md").write_text(BRIEF.replace("CSV", name))
    (tmp_path / "small.md").write_text(TEMPLATE)
    args = ["batch", str(briefs), "-o", str(tmp_path / "out"), "-t", str(tmp_path / "small.md"),
            "--base-url", fault_server.base_url, "--model", "fault-model"]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200", "OPENAI_API_KEY": ""})
    assert result.exit_code == 0, result.output
    assert "Tokens: 40 prompt, 0 of them cached (0%), 20 completion" in result.stderr
    assert "estimated cost $0.0800" in result.stderr
    totals = json.loads((tmp_path / "out" / "report.json").read_text())["totals"]
    assert totals["cost"]["usd"] == pytest.approx(0.08)
