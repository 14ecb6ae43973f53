"""The installed console script, run as a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "specdraft"


@pytest.fixture
def specdraft() -> str:
    found = str(SCRIPT) if SCRIPT.exists() else shutil.which("specdraft")
    if not found:
        pytest.fail("the specdraft console script is not installed; run `make install`")
    return found


def test_help_lists_the_commands(specdraft: str) -> None:
    started = time.perf_counter()
    result = subprocess.run([specdraft, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    for command in ("draft", "templates", "lint", "approve", "verify", "models"):
        assert command in result.stdout
    assert time.perf_counter() - started < 30  # generous: a shared CI machine; bench/ measures it properly


def test_templates_json(specdraft: str) -> None:
    result = subprocess.run(
        [specdraft, "templates", "--json"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    names = {t["name"] for t in json.loads(result.stdout)}
    assert {"tech-spec", "adr"} <= names


def test_missing_brief_is_a_clean_error(specdraft: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [specdraft, "draft", str(tmp_path / "nope.md")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_line_starts_without_the_drafting_engine() -> None:
    """Commands import the engine (and numpy, the model client) when they run, not when specdraft starts."""
    root = Path(__file__).resolve().parents[2]
    heavy = ["agent.drafting.drafter", "agent.context.retrieval", "agent.llm.client", "numpy", "openai"]
    code = f"import sys, agent.cli.main; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, cwd=root
    )
    assert result.stdout.strip() == "[]"
