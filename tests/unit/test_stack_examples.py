"""The template's backend examples that contradict the brief's stack are not shown to the model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from helpers.fault_server import FaultServer

from agent.drafting.brief import load_brief, parse_brief
from agent.drafting.drafter import DraftOptions
from agent.drafting.prompting import section_messages, shared_prefix
from agent.drafting.service import draft_with_endpoint
from agent.llm.providers import ModelSettings, Provider, open_endpoint
from agent.specdoc.stacks import fit_examples_to_brief
from agent.specdoc.template_resolver import load_template

FIELDS = (
    "- frontend_technologies: object {framework: text: e.g., React, Vue; "
    "language: text: e.g., TypeScript, Go}\n"
    "- backend_technologies: object {language: text: e.g., Rust, Node.js, Python, Go; "
    "framework: text: e.g., Axum, Express, FastAPI, Gin; database: text: e.g., PostgreSQL, MongoDB, Redis}\n"
    "- infrastructure: object {hosting: text: e.g., AWS, GCP}\n"
)


def test_backend_examples_keep_only_the_brief_stack() -> None:
    fitted = fit_examples_to_brief(FIELDS, "A Go service on PostgreSQL.")
    backend = fitted.splitlines()[1]
    assert "language: text: e.g., Go;" in backend
    assert "framework: text: e.g., Gin;" in backend
    assert "database: text: e.g., PostgreSQL, Redis}" in backend  # Redis is not a database this knows


def test_frontend_and_other_blocks_are_untouched() -> None:
    fitted = fit_examples_to_brief(FIELDS, "A Python backend on MySQL.")
    assert fitted.splitlines()[0] == FIELDS.splitlines()[0]  # TypeScript, Go stay for the frontend
    assert fitted.splitlines()[2] == FIELDS.splitlines()[2]


@pytest.mark.parametrize("brief", ["Invite teammates by email.", "A Kotlin service on MySQL."])
def test_nothing_changes_without_a_fitting_choice(brief: str) -> None:
    # no stack named; or every known name conflicts (then the list stays rather than going empty)
    fitted = fit_examples_to_brief(FIELDS, brief)
    assert "e.g., Axum, Express, FastAPI, Gin" in fitted
    if "Kotlin" in brief:
        assert "e.g., PostgreSQL, MongoDB, Redis" in fitted


def test_markdown_template_headings_bound_the_backend_block() -> None:
    source = load_template("tech-spec").section("technology_stack").source
    fitted = fit_examples_to_brief(source, "Python/FastAPI backend with PostgreSQL")
    assert "- **Framework**: [e.g., FastAPI]" in fitted
    assert "- **Language**: [e.g., Python]" in fitted
    assert "[e.g., React, Vue, Angular]" in fitted  # the frontend's examples stay
    assert "Axum" not in fitted


def test_translated_template_is_fitted_too() -> None:
    source = load_template("tech-spec-de").section("technologie_stack").source
    fitted = fit_examples_to_brief(source, "Ein Go-Dienst mit PostgreSQL")
    assert "[z. B. Gin]" in fitted


def test_section_request_for_a_go_brief_offers_no_rust_framework() -> None:
    brief = parse_brief("---\ntitle: API rate limits\n---\nOur Go API on PostgreSQL needs rate limits.\n")
    template = load_template("tech-spec")
    section = template.section("technology_stack")
    prefix = shared_prefix(brief, template)
    asked = section_messages(prefix, section, section.model, [], brief=brief.body)[-1]["content"]
    plain = section_messages(prefix, section, section.model, [])[-1]["content"]
    assert "Axum" in plain
    assert "Axum" not in asked
    assert "Gin" in asked


def test_the_drafter_asks_with_the_brief_stack(fault_server: FaultServer, tmp_path: Path) -> None:
    """The drafter passes its brief: the Technology Stack request of a Go brief names no Rust framework."""
    settings = ModelSettings(
        provider=Provider.compatible, base_url=(fault_server.base_url,), model="fault-model"
    )
    template = load_template("tech-spec")
    template = dataclasses.replace(template, sections=[template.section("technology_stack")])
    brief_file = tmp_path / "brief.md"
    brief_file.write_text(
        "---\ntitle: API rate limits\n---\nOur Go API on PostgreSQL needs per-key limits.\n"
    )
    with open_endpoint(settings) as endpoint:
        draft_with_endpoint(endpoint, load_brief(brief_file), template, settings, DraftOptions(max_retries=0))
    (request,) = fault_server.chat_requests()
    body = request.body if isinstance(request.body, dict) else json.loads(request.body)
    task = body["messages"][-1]["content"]
    assert "Gin" in task
    assert "Axum" not in task
