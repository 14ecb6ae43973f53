"""Speculative decoding settings of the embedded engine are checked before the model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.llm.embedded import EmbeddedServer, EmbeddedSettings, Speculation
from agent.models.bundled import bundled_model_path


def _start(speculation: Speculation) -> None:
    settings = EmbeddedSettings(bundled_model_path(), "bundled", slots=1, speculation=speculation)
    EmbeddedServer(settings).start()


def test_an_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="Unknown speculative decoding kind 'warp'"):
        _start(Speculation("warp"))


def test_a_missing_draft_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"draft model .* does not exist"):
        _start(Speculation("draft", draft_model=tmp_path / "missing.gguf"))
