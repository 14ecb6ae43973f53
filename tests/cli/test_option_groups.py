"""The model and context options are declared once (agent.cli.options) and shown by every command that
talks to a model; a command receives them as one value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.cli.option_groups import OptionGroup, with_option_groups
from agent.cli.options import ContextFlags, DraftModelFlags, ModelFlags

MODEL_OPTIONS = ["--provider", "--model", "--base-url", "--model-path", "--temperature", "--max-retries",
                 "--timeout"]  # fmt: skip
CONTEXT_OPTIONS = ["--context", "--context-budget"]


def _options(*command: str) -> list[str]:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return re.findall(r"│\s+(?:\*\s+)?(--[a-z-]+)", result.output)


@pytest.mark.parametrize(
    ("command", "parallel"),
    [(["draft"], True), (["batch"], True), (["eval"], True), (["chat"], False), (["refine"], False)],
)
def test_every_model_command_shows_the_shared_options_once(command: list[str], parallel: bool) -> None:
    shown = _options(*command)
    for option in [*MODEL_OPTIONS, *CONTEXT_OPTIONS]:
        assert shown.count(option) == 1, (option, shown)
    assert ("--parallel" in shown) is parallel  # chat and refine revise one section at a time


def test_the_commands_word_their_own_options() -> None:
    draft = CliRunner().invoke(app, ["draft", "--help"], env={"COLUMNS": "200"}).output
    batch = CliRunner().invoke(app, ["batch", "--help"], env={"COLUMNS": "200"}).output
    refine = CliRunner().invoke(app, ["refine", "--help"], env={"COLUMNS": "200"}).output
    assert "Sections drafted at once" in draft and "Sections of one spec drafted at once" in batch
    assert "chosen for the model's parameters" in draft and "chosen for the model's parameters" not in refine


@dataclass(frozen=True)
class _Extra(OptionGroup):
    level: Annotated[int, typer.Option(min=0)] = 1


def test_a_command_receives_each_group_as_one_value() -> None:
    got: dict[str, object] = {}
    demo = typer.Typer()

    @demo.command()
    @with_option_groups
    def run(
        name: Annotated[str, typer.Argument()],
        *,
        flags: DraftModelFlags,
        context: ContextFlags,
        extra: _Extra,
    ) -> None:
        got.update(name=name, flags=flags, context=context, extra=extra)

    args = ["n", "--model", "m", "--base-url", "http://a/v1", "--base-url", "http://b/v1", "--parallel", "2",
            "--context", "docs", "--context-budget", "90", "--level", "3"]  # fmt: skip
    result = CliRunner().invoke(demo, args)
    assert result.exit_code == 0, result.output
    assert got["name"] == "n"
    assert got["flags"] == DraftModelFlags(model="m", base_url=["http://a/v1", "http://b/v1"], parallel=2)
    assert got["context"] == ContextFlags(paths=["docs"], budget=90)
    assert got["extra"] == _Extra(level=3)
    assert CliRunner().invoke(demo, ["n"]).exit_code == 0
    assert got["flags"] == DraftModelFlags() and got["context"] == ContextFlags()


def test_an_option_declared_twice_is_refused() -> None:
    def clash(model: Annotated[str | None, typer.Option()] = None, *, flags: ModelFlags) -> None:
        return None

    with pytest.raises(TypeError, match="options declared twice: model"):
        with_option_groups(clash)
