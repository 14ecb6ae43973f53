"""What a batch's resume digest depends on: the server only when there is one."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.drafting.batch import inputs_digest
from agent.drafting.batch_inputs import BatchItem
from agent.drafting.brief import load_brief
from agent.drafting.drafter import DraftOptions
from agent.llm.providers import ModelSettings, Provider
from agent.specdoc.template_resolver import load_template


def _digest(tmp_path: Path, *servers: str, template: str = "tech-spec") -> str:
    brief_file = tmp_path / "brief.md"
    brief_file.write_text("# Dark mode\n\nUsers pick a dark theme that is kept per account.\n")
    item = BatchItem("dark-mode", load_brief(brief_file))
    provider = Provider.compatible if servers else Provider.local
    settings = ModelSettings(provider=provider, model="m", base_url=servers)
    return inputs_digest(item, load_template(template), settings, DraftOptions(), "prompts")


def test_another_replica_keeps_the_digest(tmp_path: Path) -> None:
    two = _digest(tmp_path, "http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1")
    three = _digest(tmp_path, "http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1", "http://127.0.0.1:3/v1")
    assert two == three


def test_another_single_server_changes_the_digest(tmp_path: Path) -> None:
    assert _digest(tmp_path, "http://127.0.0.1:1/v1") != _digest(tmp_path, "http://127.0.0.1:2/v1")


@pytest.mark.parametrize(
    ("servers", "digest"),
    [
        ((), "4b6e96198737aa5ae5f8376bcf8464e0fa25d873b018e74ad6f12a0eb8f8708a"),
        (("http://127.0.0.1:1/v1/",), "b61410af529ae27066cbdb7123623698ce33c52935be4f1f498d03a5026a232b"),
        (
            ("http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"),
            "e8dc9a8c75449f794c8a6f60802db6d6f06ddb221347b5b6fee7e426353977a3",
        ),
    ],
)
def test_digests_of_earlier_runs_still_match(tmp_path: Path, servers: tuple[str, ...], digest: str) -> None:
    """The values specdraft computed when base_url travelled as a string: finished specs are not redrafted
    because the settings changed shape (the server as configured, trailing slash and all)."""
    template = tmp_path / "small.md"
    template.write_text("# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n")
    assert _digest(tmp_path, *servers, template=str(template)) == digest
