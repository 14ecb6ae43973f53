"""Live tests: the embedded model for real (kept few and small: a CPU drafts slowly)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.drafting.brief import load_brief
from agent.drafting.prompting import section_messages, shared_prefix
from agent.drafting.reask import max_tokens_for, validate_answer
from agent.llm.client import ChatClient
from agent.llm.embedded import EmbeddedServer, EmbeddedSettings
from agent.llm.providers import ModelSettings, open_endpoint
from agent.models.bundled import BUNDLED_MODEL_NAME, bundled_model_path
from agent.specdoc.template_resolver import load_template

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.live


def test_embedded_model_drafts_one_section() -> None:
    template = load_template("adr")
    section = template.sections[0]
    brief = load_brief(ROOT / "examples" / "briefs" / "csv-export.md")
    settings = ModelSettings(slots=1)
    with open_endpoint(settings) as endpoint:
        assert endpoint.base_url.startswith("http://127.0.0.1:")
        client = ChatClient(endpoint, settings)
        messages = section_messages(shared_prefix(brief, template), section, section.model, [])

        async def ask() -> object:
            try:
                return await client.complete_json(
                    messages,
                    section.model.model_json_schema(),
                    max_tokens=max_tokens_for(section.model),
                    temperature=0.2,
                )
            finally:
                await client.aclose()

        completion = asyncio.run(ask())
    # llama.cpp constrains decoding to the schema: the answer is always a JSON object with its keys
    answer = json.loads(completion.text)  # type: ignore[attr-defined]
    assert set(answer) == set(section.model.model_fields)
    assert completion.usage.completion_tokens > 0  # type: ignore[attr-defined]
    data, problems = validate_answer(completion.text, section.model, section)  # type: ignore[attr-defined]
    assert (data is None) == bool(problems)


def test_draft_through_base_url_of_a_separate_server(tmp_path: Path) -> None:
    """The OpenAI-compatible path: the CLI talks to a llama.cpp server it did not start."""
    from agent.cli.main import app

    out = tmp_path / "adr.md"
    settings = EmbeddedSettings(bundled_model_path(), BUNDLED_MODEL_NAME, slots=2)
    with EmbeddedServer(settings) as server:
        result = CliRunner().invoke(
            app,
            [
                "draft",
                str(ROOT / "examples" / "briefs" / "csv-export.md"),
                "-o",
                str(out),
                "--template",
                "adr",
                "--base-url",
                server.base_url,
                "--keep-going",
                "--max-retries",
                "0",
                "--json",
                "--parallel",
                "2",
            ],
            env={"COLUMNS": "120", "OPENAI_API_KEY": ""},
        )
    assert result.exit_code in (0, 3), result.output
    summary = json.loads(result.stdout)
    assert summary["provider"] == "compatible"
    assert summary["model"] == BUNDLED_MODEL_NAME  # discovered from the server's /v1/models
    assert summary["tokens"]["completion_tokens"] > 0
    text = out.read_text()
    for section in load_template("adr").sections:
        assert f"## {section.title}" in text
