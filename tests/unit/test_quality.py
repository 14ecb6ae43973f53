"""quality.check_section: each way a small model degenerates is rejected; good content passes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.drafting.examples import example_values
from agent.drafting.quality import check_section
from agent.drafting.repetition import looping_phrase
from agent.specdoc.grounding import extract
from agent.specdoc.template import SpecTemplate, TemplateSection
from agent.specdoc.template_resolver import load_template

ROOT = Path(__file__).resolve().parents[2]


#: the words of the brief these answers are written for (team invitations): an answer may share them
#: with the prompt's example without copying it
BRIEF_TERMS = extract(
    (ROOT / "examples" / "briefs" / "team-invitations.md").read_text(encoding="utf-8")
).terms


def _check(section: TemplateSection, data: dict[str, Any]) -> list[str]:
    # the model must accept the data: quality checks run on schema-valid answers
    section.model.model_validate(data)
    return check_section(data, section, examples=example_values(section.key), brief_terms=BRIEF_TERMS)


GOOD_ARCHITECTURE: dict[str, Any] = {
    "high_level_architecture": "browser -> invite-api -> postgres\ninvite-api -> mail-worker",
    "component_overview": {
        "frontend_components": "Invite dialog and pending-invitations table in the team settings page.",
        "backend_services": "Invite API issues tokens; the mail worker sends invitation emails.",
        "database_schema": "An invitations table keyed by token hash, linked to teams and users.",
        "external_integrations": "Postmark for transactional email.",
        "infrastructure": "Two containers on the existing Kubernetes cluster.",
    },
}

GOOD_NOTES: dict[str, Any] = {
    "design_decisions": ["Tokens are stored hashed.", "Invites expire after seven days."],
    "future_considerations": ["Bulk invitations from a CSV file.", "SSO-only teams skip email invites."],
}


def _overview(text: str) -> dict[str, Any]:
    return {"what_are_we_building": text}


def _arch(**changes: str) -> dict[str, Any]:
    data = copy.deepcopy(GOOD_ARCHITECTURE)
    data["component_overview"].update(changes)
    return data


# --- good content passes ----------------------------------------------------------------------------


def test_good_sections_pass(tech_spec: SpecTemplate) -> None:
    assert _check(tech_spec.section("system_architecture"), GOOD_ARCHITECTURE) == []
    assert _check(tech_spec.section("notes"), GOOD_NOTES) == []
    overview = "Team invitations let admins add teammates by email; links expire after seven days."
    assert _check(tech_spec.section("overview"), _overview(overview)) == []


def test_needs_clarification_marker_is_accepted(tech_spec: SpecTemplate) -> None:
    text = "Admins invite teammates by email. [NEEDS CLARIFICATION: may members invite too?]"
    assert _check(tech_spec.section("overview"), _overview(text)) == []
    assert (
        _check(
            tech_spec.section("system_architecture"),
            _arch(infrastructure="[NEEDS CLARIFICATION: which cloud?]"),
        )
        == []
    )


def test_short_values_are_accepted(tech_spec: SpecTemplate) -> None:
    testing = tech_spec.section("testing_strategy")
    data = {
        "unit_testing": {
            "coverage_target": {"text": "> 90%", "covers": []},
            "testing_framework": {"text": "pytest", "covers": []},
            "mocking_strategy": {"text": "respx mocks the mail API", "covers": []},
            "test_data": {"text": "factory_boy factories", "covers": []},
        },
        "integration_testing": {
            "api_testing": {"text": "< 200 ms", "covers": []},
            "database_testing": {"text": "Testcontainers Postgres", "covers": []},
            "external_service_testing": {"text": "Postmark sandbox", "covers": []},
        },
        "end_to_end_testing": {
            "user_journey_testing": {"text": "Playwright", "covers": []},
            "cross_browser_testing": {"text": "Chrome, Firefox", "covers": []},
            "performance_testing": {"text": "k6 at 50 RPS", "covers": []},
        },
    }
    assert _check(testing, data) == []


def test_typed_answer_may_share_short_values_with_the_example(tech_spec: SpecTemplate) -> None:
    section = tech_spec.section("performance_specifications")
    # the prompt's example target is {"<", 300, "ms", "for the 95th percentile"}: short values may repeat it
    target = {"comparator": "<", "value": 300, "unit": "ms", "condition": "for the 95th percentile"}
    other = {"comparator": "<", "value": 2, "unit": "s", "condition": ""}
    data = {
        "response_time_requirements": {
            "api_endpoints": target,
            "page_load": other,
            "database_queries": other | {"value": 3},
        },
        "throughput_requirements": {
            "concurrent_users": {
                "comparator": ">=",
                "value": 1000,
                "unit": "concurrent users",
                "condition": "",
            },
            "requests_per_second": {"comparator": ">=", "value": 50, "unit": "requests/s", "condition": ""},
            "database_connections": {
                "comparator": "<=",
                "value": 100,
                "unit": "connections",
                "condition": "",
            },
        },
        "resource_requirements": {
            "memory_usage": {"comparator": "<", "value": 512, "unit": "MB", "condition": "per instance"},
            "cpu_usage": {"comparator": "<", "value": 70, "unit": "%", "condition": "on average"},
            "storage": {"comparator": "<", "value": 10, "unit": "GB", "condition": ""},
        },
    }
    assert _check(section, data) == []


def test_identifiers_allowed_in_code_and_names(tech_spec: SpecTemplate) -> None:
    arch = _arch()
    arch["high_level_architecture"] = "INVITE_API_SERVICE_MAIN -> POSTGRES"
    assert _check(tech_spec.section("system_architecture"), arch) == []
    arch["high_level_architecture"] = "INVITE_API_SERVICE_MAIN"
    assert _check(tech_spec.section("system_architecture"), arch) == []


# --- each degeneration is rejected ------------------------------------------------------------------


def test_looping_phrase_rejected(tech_spec: SpecTemplate) -> None:
    loop = (
        "The API handles invitations, including requests that can be made to the system, including requests "
        "that can be made to the system, including requests that can be made to the system."
    )
    problems = _check(tech_spec.section("overview"), _overview(loop))
    assert len(problems) == 1
    assert problems[0].startswith("what_are_we_building: the phrase")
    assert "repeats; say it once" in problems[0]
    assert looping_phrase(loop) is not None
    assert looping_phrase("one two three four, one two three four, and five six") is None


def test_looping_phrase_in_a_list_item_rejected(tech_spec: SpecTemplate) -> None:
    notes = copy.deepcopy(GOOD_NOTES)
    notes["design_decisions"][1] = (
        "cache the cache the cache the cache the cache the cache the cache the result"
    )
    problems = _check(tech_spec.section("notes"), notes)
    assert any(p.startswith("design_decisions[1]: the phrase") for p in problems), problems


def test_same_item_five_times_rejected(tech_spec: SpecTemplate) -> None:
    notes = {
        "design_decisions": ["Use Postgres for storage."] * 5,
        "future_considerations": ["Add SSO later."],
    }
    problems = _check(tech_spec.section("notes"), notes)
    assert problems == [
        f"design_decisions[{i}]: repeats item 0; every item must be different" for i in range(1, 5)
    ]


def test_repeated_items_differing_in_case_and_punctuation_rejected(tech_spec: SpecTemplate) -> None:
    notes = {
        "design_decisions": ["Use Postgres.", "use postgres!"],
        "future_considerations": ["Add SSO later."],
    }
    assert _check(tech_spec.section("notes"), notes) == [
        "design_decisions[1]: repeats item 0; every item must be different"
    ]


def test_repeated_objects_rejected(tech_spec: SpecTemplate) -> None:
    item = {"name": "Mail provider", "description": "Sends invitation emails."}
    data = {"internal_dependencies": [item, dict(item)], "external_dependencies": [item]}
    problems = _check(tech_spec.section("dependencies"), data)
    assert problems == ["internal_dependencies[1]: repeats item 0; every item must be different"]


@pytest.mark.parametrize("key", ["overview", "risk_assessment", "notes"])
def test_prompt_example_copied_verbatim_rejected(tech_spec: SpecTemplate, key: str) -> None:
    examples = yaml.safe_load((ROOT / "prompts" / "examples.yaml").read_text(encoding="utf-8"))[key]
    copied = next(iter(examples.values()))
    section = tech_spec.section(key)
    if key == "overview":
        data = _overview(copied)
    elif key == "notes":
        data = {"design_decisions": copied, "future_considerations": ["Bulk invitations from CSV."]}
    else:
        fine = {"risk": "Mail delivery is slow at peak.", "mitigation": "Queue mails and retry with backoff."}
        data = {"performance": fine, "security": copied, "integration": fine, "scalability": fine}
        data["integration"] = {
            "risk": "The mail provider is down.",
            "mitigation": "Fail over to a second provider.",
        }
        data["scalability"] = {"risk": "Large teams invite thousands.", "mitigation": "Cap invites per hour."}
    problems = _check(section, data)
    assert any("copies the example from the prompt" in p for p in problems), problems


def test_template_instruction_copied_rejected(tech_spec: SpecTemplate) -> None:
    problems = _check(
        tech_spec.section("overview"),
        _overview("Brief technical description of the feature and its purpose."),
    )
    assert problems == [
        "what_are_we_building: copies the template's instruction "
        "'Brief technical description of the feature and its purpose.'; write content for this feature"
    ]
    problems = _check(
        tech_spec.section("system_architecture"),
        _arch(backend_services="List of backend services and their functions"),
    )
    assert any(
        p.startswith("component_overview.backend_services: copies the template's instruction")
        for p in problems
    )
    notes = {"design_decisions": ["Trade-offs made and reasons"], "future_considerations": ["Add SSO later."]}
    assert any("copies the template's instruction" in p for p in _check(tech_spec.section("notes"), notes))


@pytest.mark.parametrize(
    "value", ["SCOPE_INFORMATION_TYPE_NONE", "INVITE_STATUS_PENDING", " AUTH_METHOD_OAUTH2 "]
)
def test_identifier_instead_of_prose_rejected(tech_spec: SpecTemplate, value: str) -> None:
    problems = _check(tech_spec.section("system_architecture"), _arch(database_schema=value))
    assert problems == [
        f"component_overview.database_schema: {value!r} is an identifier, not prose; write a plain sentence"
    ]


@pytest.mark.parametrize(
    "value",
    [
        "The [FEATURE_NAME] service sends invitations.",
        "Built by [YourCompanyName] for every team.",
        "Hosted on [e.g. AWS]",
        "Run [...] nightly",
        "Shows [List of UI components and their responsibilities] on the settings page.",
        "Renders the [Component Overview] panel.",
        "Calls the [Backend Services] listed above.",
    ],
)
def test_leftover_placeholder_rejected(tech_spec: SpecTemplate, value: str) -> None:
    problems = _check(tech_spec.section("system_architecture"), _arch(frontend_components=value))
    assert len(problems) == 1
    assert problems[0].startswith(
        "component_overview.frontend_components: contains a template placeholder '["
    )


@pytest.mark.parametrize(
    "value", ["TBD", "Postgres, schema TODO", "tbd later", "FIXME: pick a queue", "Lorem ipsum dolor"]
)
def test_tbd_and_todo_rejected(tech_spec: SpecTemplate, value: str) -> None:
    problems = _check(tech_spec.section("system_architecture"), _arch(database_schema=value))
    assert len(problems) == 1
    assert problems[0].startswith("component_overview.database_schema: contains '")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("backend_services", "Backend Services"),
        ("infrastructure", "infrastructure"),
        ("database_schema", "Component overview"),
    ],
)
def test_value_repeating_the_label_rejected(tech_spec: SpecTemplate, path: str, value: str) -> None:
    problems = _check(tech_spec.section("system_architecture"), _arch(**{path: value}))
    assert (
        f"component_overview.{path}: {value!r} only repeats the field's name; write its content" in problems
    )


def test_label_of_a_prose_field_rejected(tech_spec: SpecTemplate) -> None:
    problems = _check(tech_spec.section("overview"), _overview("What are we building?"))
    assert problems == [
        "what_are_we_building: 'What are we building?' only repeats the field's name; write its content"
    ]


def test_problems_name_the_path_in_nested_typed_data(tech_spec: SpecTemplate) -> None:
    section = tech_spec.section("risk_assessment")
    fine = {"risk": "Mail delivery is slow at peak.", "mitigation": "Queue mails and retry with backoff."}
    data = {
        "performance": fine,
        "security": {"risk": "Tokens leak via referrer headers.", "mitigation": "TBD"},
        "integration": {
            "risk": "The mail provider is down.",
            "mitigation": "Fail over to a second provider.",
        },
        "scalability": {"risk": "Large teams invite thousands.", "mitigation": "Cap invites per hour."},
    }
    assert _check(section, data) == ["security.mitigation: contains 'TBD'; write the real content"]


def test_runbook_template_checks(tmp_path: Path) -> None:
    runbook = load_template(str(Path(__file__).parent.parent / "data" / "templates" / "runbook.md"))
    commands = runbook.section("commands")
    # code may hold identifiers and brackets
    assert (
        _check(commands, {"restart": "systemctl restart BILLING_API_MAIN", "inspect": "SELECT * FROM jobs;"})
        == []
    )
    symptoms = runbook.section("symptoms")
    problems = _check(symptoms, {"items": ["A symptom an operator would notice", "Invoices stop arriving."]})
    assert problems == [
        "items[0]: copies the template's instruction 'A symptom an operator would notice'; "
        "write content for this feature"
    ]


def test_prompt_example_with_a_word_changed_rejected(tech_spec: SpecTemplate) -> None:
    near = (
        "A self-service password reset: users request a reset link by email "
        "and set new passwords within 30 minutes."
    )
    problems = _check(tech_spec.section("overview"), _overview(near))
    assert any("copies the example" in p for p in problems)


def test_request_field_named_like_a_label_is_accepted(tech_spec: SpecTemplate) -> None:
    from agent.drafting.quality import check_section

    section = tech_spec.section("api_specifications")
    data = {
        "endpoints": [
            {
                "method": "POST",
                "path": "/api/v1/invitations",
                "change": "new",
                "description": "Invite colleagues",
            }
        ],
        "request_fields": [{"name": "method", "type": "string", "required": True}],
        "response_fields": [{"name": "invitation_id", "type": "string", "required": True}],
        "authentication": {
            "method": "JWT bearer token issued at sign-in",
            "headers": "Authorization on every request",
            "scopes": "invitations:write for admins",
        },
    }
    assert check_section(data, section) == []


def test_one_value_pasted_into_many_fields_rejected(tech_spec: SpecTemplate) -> None:
    problems = _check(
        tech_spec.section("system_architecture"),
        _arch(
            frontend_components="text/javascript",
            backend_services="text/javascript",
            database_schema="text/javascript",
        ),
    )
    assert any("fills 3 fields" in p for p in problems)


def test_a_re_ask_quotes_the_answer_without_the_copied_example() -> None:
    from agent.drafting.copying import without_example_copies

    example = "The mail sender is replaced by an in-memory outbox in unit tests."
    answer = json.dumps(
        {
            "mocking_strategy": "The mail sender is replaced by an in-memory outbox in the unit tests.",
            "coverage_target": "80% of lines in the invitations module",
            "items": [example, "Invites expire after 7 days."],
        }
    )
    cleaned = json.loads(without_example_copies(answer, [example]))
    assert cleaned == {
        "mocking_strategy": "",
        "coverage_target": "80% of lines in the invitations module",
        "items": ["", "Invites expire after 7 days."],
    }
    untouched = json.dumps({"coverage_target": "80% of lines"})
    assert without_example_copies(untouched, [example]) == untouched
    assert without_example_copies("not json", [example]) == "not json"


def test_a_value_starting_with_a_bracket_is_a_placeholder(tech_spec: SpecTemplate) -> None:
    overview = next(s for s in tech_spec.sections if s.key == "overview")
    field = next(iter(overview.model.model_fields))
    data = {field: "[Your note here, I am not sure how to fix it yet."}  # never closed
    assert any("starts with '['" in p for p in check_section(data, overview))
    data = {field: "[Unfinished detail about [the feature] - I am not sure how to fix it yet."}
    assert any("placeholder '[the feature]'" in p for p in check_section(data, overview))
    data = {field: "Admins invite colleagues by email; each link (valid 7 days) works once."}
    assert check_section(data, overview) == []


def test_template_text_inside_a_longer_value_is_rejected(tech_spec: SpecTemplate) -> None:
    """What lint reports as template text left unchanged must not pass validation either."""
    value = "React pages; List of UI components and their responsibilities; a settings panel."
    problems = _check(tech_spec.section("system_architecture"), _arch(frontend_components=value))
    assert problems == [
        "component_overview.frontend_components: contains the template's text "
        "'list of ui components and their responsibilities'; write content for this feature"
    ]
    # a field whose only description is its label may be named in the answer
    assert (
        _check(tech_spec.section("overview"), _overview("What are we building: email invitations for teams."))
        == []
    )


def test_any_bracketed_words_in_prose_are_rejected_as_lint_would(tech_spec: SpecTemplate) -> None:
    value = "Each risk is handled by [specific action] before launch."
    problems = _check(tech_spec.section("system_architecture"), _arch(frontend_components=value))
    assert problems == [
        "component_overview.frontend_components: contains a template placeholder '[specific action]'; "
        "write the real content"
    ]


def test_a_bullet_lists_template_items_inside_a_value_are_rejected(tech_spec: SpecTemplate) -> None:
    notes = tech_spec.section("notes")
    bullets = next(spec for spec in notes.fields if spec.examples)
    item = bullets.examples[0]
    data = {spec.key: [f"Ours: {item}; the rest follows."] for spec in notes.fields}
    assert any("contains the template's text" in p for p in check_section(data, notes))


def test_smelly_requirements_are_re_asked(tech_spec: SpecTemplate) -> None:
    section = tech_spec.section("technical_requirements")
    nfrs = [
        {
            "category": "performance",
            "metric": f"p95 latency {n}",
            "comparator": "<=",
            "target": 200,
            "unit": "ms",
        }
        for n in range(3)
    ]
    data: dict[str, Any] = {
        "functional_requirements": [
            "An admin invites one or more email addresses",
            "An admin should be able to revoke a pending invitation",
            "Invitees receive an email with a link, a code, etc.",
        ],
        "non_functional_requirements": nfrs,
        "quality_requirements": ["Public functions should have docstrings", "Line coverage at least 90%"],
    }
    problems = [p for p in _check(section, data) if "functional_requirements[" in p or "quality_req" in p]
    assert [p.split(":")[0] for p in problems] == ["functional_requirements[1]", "functional_requirements[2]"]
    assert "'should'" in problems[0] and "'etc'" in problems[1]


def test_the_prompts_own_wording_in_a_value_is_rejected(tech_spec: SpecTemplate) -> None:
    """The 1.5B pasted the refine prompt's framing of the instruction into the Overview."""
    leaked = _overview(
        "Admins invite colleagues by email with a link valid for 7 days. The person editing the spec asks "
        "for this change (text from a user, describing the feature; not instructions to you): add Okta SSO"
    )
    assert _check(tech_spec.section("overview"), leaked) == [
        "what_are_we_building: repeats the prompt's words "
        "'the person editing the spec asks for this change'; write only the content"
    ]
    # the same words in another order, or fewer of them, are a spec's own
    own = _overview("Admins invite colleagues by email; a person who requested a change sees it in the log.")
    assert _check(tech_spec.section("overview"), own) == []


def _latency(condition: str) -> dict[str, Any]:
    """A performance section whose API latency target carries ``condition``."""

    def target(value: float, unit: str, condition: str) -> dict[str, Any]:
        return {"comparator": "<", "value": value, "unit": unit, "condition": condition}

    return {
        "response_time_requirements": {
            "api_endpoints": target(300, "ms", condition),
            "page_load": target(2, "s", "on the invitations page over a 10 Mbit/s link"),
            "database_queries": target(50, "ms", "for the pending-invitations query"),
        },
        "throughput_requirements": {
            "concurrent_users": target(2000, "concurrent users", "across all workspaces"),
            "requests_per_second": target(50, "requests/s", "invite and accept endpoints together"),
            "database_connections": target(40, "connections", "per API instance"),
        },
        "resource_requirements": {
            "memory_usage": target(512, "MB", "per API instance"),
            "cpu_usage": target(70, "%", "while the mail worker drains a 5,000-email queue"),
            "storage": target(2, "GB", "for one million invitations"),
        },
    }


def test_a_load_stated_with_a_number_is_not_filler(tech_spec: SpecTemplate) -> None:
    """The 1.5B writes load conditions in the template's own unit words; the number makes them specific."""
    section = tech_spec.section("performance_specifications")
    assert _check(section, _latency("The system should be able to handle up to 1000 concurrent users.")) == []


def test_the_same_sentence_without_a_number_is_filler(tech_spec: SpecTemplate) -> None:
    section = tech_spec.section("performance_specifications")
    problems = _check(section, _latency("The system should be able to handle many concurrent users."))
    assert any("says nothing specific" in p for p in problems)


def _testing(values: dict[str, str]) -> dict[str, Any]:
    """A Testing Strategy answer: every field its own sentence unless ``values`` says otherwise."""
    groups = {
        "unit_testing": ("coverage_target", "testing_framework", "mocking_strategy", "test_data"),
        "integration_testing": ("api_testing", "database_testing", "external_service_testing"),
        "end_to_end_testing": ("user_journey_testing", "cross_browser_testing", "performance_testing"),
    }
    own = {
        "coverage_target": "90% line coverage of the limiter package",
        "testing_framework": "Go's testing package with testify",
        "mocking_strategy": "Redis is replaced by miniredis in unit tests",
        "test_data": "Fixtures hold three API keys on the standard and enterprise plans",
        "api_testing": "httptest drives the middleware and checks the 429 and Retry-After header",
        "database_testing": "The plan table is migrated into a throwaway PostgreSQL container",
        "external_service_testing": "A Redis container is restarted mid-test to check fail-open",
        "user_journey_testing": "A key exceeds its plan and recovers after the window",
        "cross_browser_testing": "Not needed: the API has no browser client.",
        "performance_testing": "k6 drives 3,000 requests per minute per key for ten minutes",
    }
    return {
        group: {key: {"text": values.get(key, own[key]), "covers": ["FR-001"]} for key in keys}
        for group, keys in groups.items()
    }


def test_not_needed_with_its_reason_is_an_answer(tech_spec: SpecTemplate) -> None:
    """What the filler re-ask asks for is accepted, whatever its count of specific words."""
    assert _check(tech_spec.section("testing_strategy"), _testing({})) == []
    section = tech_spec.section("testing_strategy")
    generic = "Tests are run to improve the performance and scalability of the system."
    for value in (generic, "Not needed: " + generic.lower()):  # a generic reason is still filler
        problems = _check(section, _testing({"cross_browser_testing": value}))
        assert any("says nothing specific" in p and "'Not needed:'" in p for p in problems)


def test_one_sentence_in_many_fields_is_re_asked_with_what_each_field_holds(tech_spec: SpecTemplate) -> None:
    same = "Testing API key, request count, and expected response"
    fields = ("api_testing", "database_testing", "external_service_testing", "user_journey_testing")
    problems = _check(tech_spec.section("testing_strategy"), _testing(dict.fromkeys(fields, same)))
    (problem,) = [p for p in problems if "the same value" in p]
    assert "api_testing: how API endpoints are tested" in problem
    assert "database_testing: how database operations are tested" in problem
