"""Hostile output: what servers and models send back (export answers, model answers, sign-off records
edited by hand) never reaches a spreadsheet as a formula, the terminal as escape sequences, a spec as
hidden structure, or a file or the terminal with a known secret in it. See docs/reliability.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from agent.cli.main import app

SPECS = Path(__file__).parent.parent / "data" / "specs"
CLEAN = (SPECS / "clean.md").read_text(encoding="utf-8")
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str | Path, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={**ENV, **(env or {})}, input=stdin)


def _spec(folder: Path, text: str = CLEAN, name: str = "spec.md") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- model answers: no structure once rendered ------------------------------------------------------

SMALL_TEMPLATE = (
    "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"
)
HTML_ANSWERS = {
    "comment": "<!-- ",
    "heading": "<h2>Injected</h2> ",
    "element": '<img src=x onerror="alert(1)"> <details><summary>x</summary> ',
}


def _draft_small(server: Any, tmp_path: Path, *extra: str) -> tuple[Result, str]:
    template = tmp_path / "small.md"
    template.write_text(SMALL_TEMPLATE)
    brief = tmp_path / "brief.md"
    brief.write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    out = tmp_path / "spec.md"
    result = run(
        "draft", brief, "-o", out, "--template", template, "--base-url", server.base_url,
        "--model", "fault-model", "--timeout", "5", "--max-retries", "1", *extra,
    )  # fmt: skip
    return result, out.read_text(encoding="utf-8") if out.exists() else ""


@pytest.mark.parametrize("name", sorted(HTML_ANSWERS))
def test_html_in_model_answers_adds_no_structure_when_rendered(
    fault_server: Any, tmp_path: Path, name: str
) -> None:
    from markdown_it import MarkdownIt

    fault_server.extra_text = HTML_ANSWERS[name]
    result, spec = _draft_small(fault_server, tmp_path)
    assert result.exit_code in (0, 3), result.output
    html = MarkdownIt("commonmark").render(spec.split("\n---\n", 1)[1])
    assert html.count("<h2>") == 2, html  # Summary and Risks, nothing hidden, nothing added
    assert "<!--" not in html and "<img" not in html and "<details>" not in html
    assert "&lt;" in html  # the model's text is shown as text
