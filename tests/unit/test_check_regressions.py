"""Regression tests for the checks' false rejects on competent models' answers (issue 23, part 4), and
for the degenerate answers they must still catch. Answers come from the labelled corpus
(tests/data/answers/) or have its shapes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.drafting.brief import Brief, load_brief
from agent.drafting.examples import example_values
from agent.drafting.grounding_check import grounding_problems
from agent.drafting.quality import check_section
from agent.specdoc.grounding import extract
from agent.specdoc.template import SpecTemplate

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = ROOT / "tests" / "data" / "answers"
INVITATIONS = "examples/briefs/team-invitations.md"
PASSWORD_RESET = "tests/data/answers/briefs/password-reset.md"


def _good(corpus: str, section: str) -> dict[str, Any]:
    """The corpus's good answer of ``section`` (a copy, to change)."""
    doc = yaml.safe_load((ANSWERS / corpus).read_text(encoding="utf-8"))
    answer = next(a for a in doc["answers"] if a["section"] == section and a["label"] == "good")["answer"]
    return copy.deepcopy(answer)


def _brief(path: str) -> Brief:
    return load_brief(ROOT / path)


def _check(template: SpecTemplate, key: str, data: dict[str, Any], brief: str = INVITATIONS) -> list[str]:
    section = template.section(key)
    section.model.model_validate(data)  # the checks run on schema-valid answers
    terms = extract(_brief(brief).body, _brief(brief).title).terms
    return check_section(data, section, examples=example_values(key), brief_terms=terms)


# --- 1. a condition repeated across typed values is not a value pasted everywhere ---------------------


def test_a_p95_condition_on_every_target_is_not_the_same_value(tech_spec: SpecTemplate) -> None:
    data = _good("team-invitations.yaml", "performance_specifications")
    conditions = [target["condition"] for group in data.values() for target in group.values()]
    assert conditions == ["for the 95th percentile"] * 9  # the 1.5B model's shape
    assert _check(tech_spec, "performance_specifications", data) == []


def test_one_whole_target_in_three_fields_is_still_rejected(tech_spec: SpecTemplate) -> None:
    data = _good("team-invitations.yaml", "performance_specifications")
    target = {"comparator": "<", "value": 200, "unit": "ms", "condition": "for the 95th percentile"}
    data["response_time_requirements"] = {key: dict(target) for key in data["response_time_requirements"]}
    problems = _check(tech_spec, "performance_specifications", data)
    assert any("the same value '< 200 ms for the 95th percentile' fills 3 fields" in p for p in problems)


# --- 2. code repeats keywords; a loop repeats itself back to back ----------------------------------------


def test_several_create_table_statements_are_not_a_loop(tech_spec: SpecTemplate) -> None:
    data = _good("csv-export.yaml", "database_design")
    assert data["entity_relationship_diagram"].count("CREATE TABLE IF NOT EXISTS") == 3
    assert _check(tech_spec, "database_design", data, "examples/briefs/csv-export.md") == []
    # the same statements in a prose field (the migration approach) are code too
    data["data_migration_strategy"]["migration_scripts"] = data["entity_relationship_diagram"][:300]
    assert _check(tech_spec, "database_design", data, "examples/briefs/csv-export.md") == []


def test_a_column_repeated_back_to_back_is_a_loop(tech_spec: SpecTemplate) -> None:
    data = _good("csv-export.yaml", "database_design")
    data["data_migration_strategy"]["migration_scripts"] = "CREATE TABLE invoice_exports (" + "id UUID, " * 12
    problems = _check(tech_spec, "database_design", data, "examples/briefs/csv-export.md")
    assert problems == [
        "data_migration_strategy.migration_scripts: the phrase 'id uuid' repeats; say it once"
    ]


# --- 3. a template label used in a sentence is not a copied instruction ----------------------------------


@pytest.mark.parametrize(
    ("corpus", "key"),
    [
        ("team-invitations.yaml", "scalability_design"),  # "Maximum resources per instance: 1 vCPU ..."
        ("audit-log-search.yaml", "scalability_design"),  # "The maximum resources per instance are ..."
        ("team-invitations.yaml", "risk_assessment"),  # "Potential performance issues when ..."
        ("webhook-retries.yaml", "risk_assessment"),  # "Potential security vulnerabilities: ..."
        ("webhook-retries.yaml", "notes"),  # "Technical debt to address: ..."
    ],
)
def test_template_label_words_in_a_real_sentence_pass(tech_spec: SpecTemplate, corpus: str, key: str) -> None:
    brief = yaml.safe_load((ANSWERS / corpus).read_text(encoding="utf-8"))["brief"]
    assert _check(tech_spec, key, _good(corpus, key), brief) == []


def test_label_words_in_testing_items_pass(tech_spec: SpecTemplate) -> None:
    data = _good("team-invitations.yaml", "testing_strategy")
    data["end_to_end_testing"]["performance_testing"]["text"] = (
        "Load and stress testing with Locust at 300 invites/min"
    )
    data["end_to_end_testing"]["cross_browser_testing"]["text"] = (
        "Browser compatibility testing in Chromium and WebKit"
    )
    assert _check(tech_spec, "testing_strategy", data) == []


@pytest.mark.parametrize(
    "value",
    [
        "Maximum resources per instance",
        "Maximum resources per instance; scaling triggers: What triggers scaling decisions",
        "2 vCPU, Maximum resources per instance.",
    ],
)
def test_a_pasted_instruction_is_still_a_copy(tech_spec: SpecTemplate, value: str) -> None:
    data = _good("team-invitations.yaml", "scalability_design")
    data["vertical_scaling"]["resource_limits"] = value
    problems = _check(tech_spec, "scalability_design", data)
    assert any(p.startswith("vertical_scaling.resource_limits: co") and "template" in p for p in problems)


# --- 4. the worked example copied, whatever the model; not the same words for the example's own feature ---


def test_a_requirement_mixing_the_example_requirements_is_a_copy(tech_spec: SpecTemplate) -> None:
    data = _good("team-invitations.yaml", "technical_requirements")
    data["functional_requirements"][0] = "Users can request a reset link once and expires after 30 minutes"
    problems = _check(tech_spec, "technical_requirements", data)
    assert problems == [
        "functional_requirements[0]: copies the example from the prompt; write content for this feature"
    ]


def test_a_password_reset_requirement_in_an_invitations_spec_is_a_copy(tech_spec: SpecTemplate) -> None:
    data = _good("team-invitations.yaml", "technical_requirements")
    data["functional_requirements"][1] = (
        "Users can request a password reset link by email and set a new password."
    )
    assert any("copies the example" in p for p in _check(tech_spec, "technical_requirements", data))


@pytest.mark.parametrize(
    "key",
    [
        "technical_requirements",
        "api_specifications",
        "deployment_specifications",
        "notes",
        "success_criteria",
    ],
)
def test_a_password_reset_brief_may_use_the_examples_words(tech_spec: SpecTemplate, key: str) -> None:
    assert _check(tech_spec, key, _good("password-reset.yaml", key), PASSWORD_RESET) == []


def test_standard_metric_words_shared_with_the_example_are_no_copy(tech_spec: SpecTemplate) -> None:
    data = _good("csv-export.yaml", "technical_requirements")
    assert data["non_functional_requirements"][1]["metric"].startswith("p95 latency of POST")
    assert _check(tech_spec, "technical_requirements", data, "examples/briefs/csv-export.md") == []


# --- 5. requirement-level content about another feature --------------------------------------------------


def _grounding(template: SpecTemplate, key: str, data: dict[str, Any], brief: str = INVITATIONS) -> list[str]:
    section = template.section(key)
    rendered = section.model.model_validate(data).render_data()
    return grounding_problems(rendered, section, _brief(brief), [], root=key == template.sections[0].key)


def test_generic_crud_on_users_is_off_topic_for_invitations(tech_spec: SpecTemplate) -> None:
    crud = [
        {"method": method, "path": path, "change": "new", "description": text}
        for method, path, text in [
            ("GET", "/api/v1/users", "List users"),
            ("POST", "/api/v1/users", "Create user"),
            ("PUT", "/api/v1/users/{id}", "Update user"),
            ("DELETE", "/api/v1/users/{id}", "Delete user"),
        ]
    ]
    data = _good("team-invitations.yaml", "api_specifications") | {"endpoints": crud}
    problems = _grounding(tech_spec, "api_specifications", data)
    assert problems == [
        "endpoints is off-topic: the endpoints are about user, which the brief does not mention; "
        "write the endpoints of the brief's feature"
    ]
    # one more endpoint on users beside the feature's own is fine
    good = _good("team-invitations.yaml", "api_specifications")
    good["endpoints"].append(crud[0])
    assert _grounding(tech_spec, "api_specifications", good) == []


def test_axum_under_a_python_backend_contradicts_the_brief(tech_spec: SpecTemplate) -> None:
    data = _good("team-invitations.yaml", "technology_stack")
    assert _grounding(tech_spec, "technology_stack", data) == []
    data["backend_technologies"]["framework"] = "Axum"
    assert _grounding(tech_spec, "technology_stack", data) == [
        "backend_technologies.framework contradicts the brief: it names the language Rust, but the "
        "brief's is Python; keep to the brief's stack"
    ]
    # a testing tool scripted in another language decides nothing
    data["backend_technologies"] |= {"framework": "FastAPI", "testing": "pytest; k6 scripts in JavaScript"}
    assert _grounding(tech_spec, "technology_stack", data) == []


def test_requirements_of_a_vague_brief_ground_each_other(tech_spec: SpecTemplate) -> None:
    data = _good("dark-mode.yaml", "technical_requirements")
    assert _grounding(tech_spec, "technical_requirements", data, "examples/briefs/dark-mode.md") == []
    data["functional_requirements"][4] = (
        "Shoppers can add products to a cart and check out with a credit card."
    )
    problems = _grounding(tech_spec, "technical_requirements", data, "examples/briefs/dark-mode.md")
    assert [p.split(" is ")[0] for p in problems] == ["functional_requirements[4]"]
