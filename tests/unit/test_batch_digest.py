"""What a batch's resume digest depends on: the server only when there is one."""

from __future__ import annotations

from pathlib import Path

from agent.drafting.batch import inputs_digest
from agent.drafting.batch_inputs import BatchItem
from agent.drafting.brief import load_brief
from agent.drafting.drafter import DraftOptions
from agent.llm.providers import ModelSettings, Provider
from agent.specdoc.template_resolver import load_template


def _digest(tmp_path: Path, base_url: str) -> str:
    brief_file = tmp_path / "brief.md"
    brief_file.write_text("# Dark mode\n\nUsers pick a dark theme that is kept per account.\n")
    item = BatchItem("dark-mode", load_brief(brief_file))
    settings = ModelSettings(provider=Provider.local, model="m", base_url=base_url)
    return inputs_digest(item, load_template("tech-spec"), settings, DraftOptions(), "prompts")


def test_another_replica_keeps_the_digest(tmp_path: Path) -> None:
    two = _digest(tmp_path, "http://127.0.0.1:1/v1,http://127.0.0.1:2/v1")
    three = _digest(tmp_path, "http://127.0.0.1:1/v1,http://127.0.0.1:2/v1,http://127.0.0.1:3/v1")
    assert two == three


def test_another_single_server_changes_the_digest(tmp_path: Path) -> None:
    assert _digest(tmp_path, "http://127.0.0.1:1/v1") != _digest(tmp_path, "http://127.0.0.1:2/v1")
