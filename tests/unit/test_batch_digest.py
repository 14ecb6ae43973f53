"""What the resume digest depends on: the server only when there is one, the model served, the policy."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from agent.drafting.batch_inputs import BatchItem
from agent.drafting.brief import load_brief
from agent.drafting.digest import inputs_digest, settings_digest
from agent.drafting.drafter import DraftOptions
from agent.llm.providers import Endpoint, ModelSettings, Provider
from agent.models.size import FROM_TENSORS, ModelSize
from agent.specdoc.template_resolver import load_template


def _endpoint(model: str = "m", params: int | None = None) -> Endpoint:
    size = ModelSize(params, FROM_TENSORS) if params is not None else None
    return Endpoint(Provider.compatible, "http://127.0.0.1:1/v1", model, SecretStr("k"), size=size)


def _settings(base_url: str = "http://127.0.0.1:1/v1") -> ModelSettings:
    return ModelSettings(provider=Provider.local, model="m", base_url=tuple(base_url.split(",")))


def _digest(tmp_path: Path, base_url: str) -> str:
    brief_file = tmp_path / "brief.md"
    brief_file.write_text("# Dark mode\n\nUsers pick a dark theme that is kept per account.\n")
    item = BatchItem("dark-mode", load_brief(brief_file))
    settings = settings_digest(_settings(base_url), DraftOptions(), _endpoint())
    return inputs_digest(item.brief, load_template("tech-spec"), settings, "prompts")


def test_another_replica_keeps_the_digest(tmp_path: Path) -> None:
    two = _digest(tmp_path, "http://127.0.0.1:1/v1,http://127.0.0.1:2/v1")
    three = _digest(tmp_path, "http://127.0.0.1:1/v1,http://127.0.0.1:2/v1,http://127.0.0.1:3/v1")
    assert two == three


def test_another_single_server_changes_the_digest(tmp_path: Path) -> None:
    assert _digest(tmp_path, "http://127.0.0.1:1/v1") != _digest(tmp_path, "http://127.0.0.1:2/v1")


def test_the_model_served_and_its_policy_change_the_digest() -> None:
    options = DraftOptions()
    base = settings_digest(_settings(), options, _endpoint("m", 7_000_000_000))
    assert settings_digest(_settings(), options, _endpoint("m", 7_500_000_000)) == base  # same tier
    assert settings_digest(_settings(), options, _endpoint("m", 135_000_000)) != base  # tiny: 1 attempt
    assert settings_digest(_settings(), options, _endpoint("other", 7_000_000_000)) != base
    retries = DraftOptions(max_retries=3)
    assert settings_digest(_settings(), retries, _endpoint("m", 7_000_000_000)) != base
    hotter = DraftOptions(temperature=0.5)
    assert settings_digest(_settings(), hotter, _endpoint("m", 7_000_000_000)) != base


def test_a_language_set_changes_the_digest() -> None:
    endpoint = _endpoint("m", 7_000_000_000)
    base = settings_digest(_settings(), DraftOptions(), endpoint)
    assert settings_digest(_settings(), DraftOptions(language="de"), endpoint) != base
    assert settings_digest(_settings(), DraftOptions(language="de"), endpoint) != settings_digest(
        _settings(), DraftOptions(language="es"), endpoint
    )
