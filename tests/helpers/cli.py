"""Running a specdraft command in-process with typer's runner, as the CLI tests do."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from agent.cli.main import app

#: wide lines (no message is wrapped in the middle of what a test looks for), no OpenAI key from the shell
ENV = {"COLUMNS": "200", "OPENAI_API_KEY": ""}


def invoke(*args: str | Path) -> tuple[int, str, str]:
    """Run ``specdraft ARGS...``; return its exit code, stdout and stderr."""
    result = CliRunner().invoke(app, [str(a) for a in args], env=ENV)
    return result.exit_code, result.stdout, result.stderr
