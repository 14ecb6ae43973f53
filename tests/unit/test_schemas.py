"""Typed tech-spec section models and generated models: good data passes, each kind of bad data fails."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError

from agent.specdoc.schemas.base import SectionData
from agent.specdoc.schemas.generic import with_open_points
from agent.specdoc.schemas.techspec import (
    ApiSpecifications,
    DatabaseDesign,
    PerformanceSpecifications,
    RiskAssessment,
    TechnicalRequirements,
)
from agent.specdoc.template import FieldSpec, SpecTemplate


def _nfr(metric: str, target: Any = 200, unit: str = "ms", **extra: Any) -> dict[str, Any]:
    return {
        "category": "performance",
        "metric": metric,
        "comparator": "<",
        "target": target,
        "unit": unit,
        "condition": "",
    } | extra


REQUIREMENTS: dict[str, Any] = {
    "functional_requirements": [
        "Users can invite a teammate by email address.",
        "An invitation link expires after seven days.",
        "Admins can revoke a pending invitation.",
    ],
    "non_functional_requirements": [
        _nfr("p95 latency of the invite API", 300, "ms", condition="at 50 requests/s"),
        _nfr("Availability of the invite service", 99.9, "%", category="availability", comparator=">="),
        _nfr(
            "Invitation emails sent per minute", 600, "requests/min", category="scalability", comparator=">="
        ),
    ],
    "quality_requirements": ["Invite flows covered by integration tests.", "API documented in OpenAPI."],
}


def _with(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def _error(model: Any, data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return str(info.value)


# --- Technical Requirements -------------------------------------------------------------------------


def test_requirements_accept_good_data() -> None:
    section = TechnicalRequirements.model_validate(REQUIREMENTS)
    rendered = section.render_data()
    assert rendered["functional_requirements"] == REQUIREMENTS["functional_requirements"]
    assert rendered["non_functional_requirements"] == [
        "Performance: p95 latency of the invite API < 300 ms at 50 requests/s",
        "Availability: Availability of the invite service >= 99.9 %",
        "Scalability: Invitation emails sent per minute >= 600 requests/min",
    ]


def test_requirements_are_not_fixed_at_three() -> None:
    more = [f"Users can do distinct thing number {n}." for n in range(1, 8)]
    section = TechnicalRequirements.model_validate(_with(REQUIREMENTS, ("functional_requirements",), more))
    assert len(section.render_data()["functional_requirements"]) == 7


def test_duplicate_functional_requirements_rejected() -> None:
    items = ["Users can invite a teammate.", "Admins can revoke invites.", "users can invite a TEAMMATE!"]
    message = _error(TechnicalRequirements, _with(REQUIREMENTS, ("functional_requirements",), items))
    assert "item 3 repeats item 1" in message


def test_fewer_than_three_functional_requirements_rejected() -> None:
    items = REQUIREMENTS["functional_requirements"][:2]
    message = _error(TechnicalRequirements, _with(REQUIREMENTS, ("functional_requirements",), items))
    assert "functional_requirements" in message and "at least 3" in message


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("target", "fast", "target"),
        ("target", "200ms", "target"),
        ("target", -5, "greater than or equal to 0"),
        ("unit", "parsecs", "unit"),
        ("unit", "milliseconds", "unit"),
        ("comparator", "about", "comparator"),
        ("category", "vibes", "category"),
        ("metric", "", "metric"),
    ],
)
def test_bad_nfr_rejected(field: str, value: Any, expected: str) -> None:
    message = _error(
        TechnicalRequirements, _with(REQUIREMENTS, ("non_functional_requirements", 0, field), value)
    )
    assert expected in message


def test_duplicate_nfr_metric_rejected() -> None:
    nfrs = copy.deepcopy(REQUIREMENTS["non_functional_requirements"])
    nfrs[2]["metric"] = "P95 latency of the invite API"
    message = _error(TechnicalRequirements, _with(REQUIREMENTS, ("non_functional_requirements",), nfrs))
    assert "NFR metric 3 repeats NFR metric 1" in message


def test_nfr_schema_makes_target_a_number() -> None:
    schema = TechnicalRequirements.model_json_schema()
    nfr = schema["$defs"]["NonFunctionalRequirement"]
    assert nfr["properties"]["target"]["type"] == "number"
    assert set(nfr["required"]) >= {"metric", "target", "unit", "comparator", "category"}


# --- API Specifications -----------------------------------------------------------------------------

API: dict[str, Any] = {
    "endpoints": [
        {
            "method": "POST",
            "path": "/api/v1/invitations",
            "change": "new",
            "description": "Create an invitation",
        },
        {
            "method": "DELETE",
            "path": "/api/v1/invitations/{id}",
            "change": "new",
            "description": "Revoke an invitation",
        },
    ],
    "request_fields": [{"name": "email", "type": "string", "required": True}],
    "response_fields": [
        {"name": "id", "type": "string", "required": True},
        {"name": "expires_at", "type": "string", "required": True},
    ],
    "authentication": {
        "method": "JWT Bearer Token",
        "headers": "Authorization",
        "scopes": "invitations:write",
    },
}


def test_api_accepts_good_data() -> None:
    rendered = ApiSpecifications.model_validate(API).render_data()
    assert rendered["endpoints"].splitlines() == [
        "POST   /api/v1/invitations       # (new) Create an invitation",
        "DELETE /api/v1/invitations/{id}  # (new) Revoke an invitation",
    ]
    schemas = json.loads(rendered["request_response_schemas"])
    assert schemas["request_schema"]["properties"] == {"email": {"type": "string", "required": True}}
    assert list(schemas["response_schema"]["properties"]) == ["id", "expires_at"]
    assert rendered["authentication"] == API["authentication"]


@pytest.mark.parametrize("method", ["FETCH", "get", "", "CONNECT"])
def test_bad_http_method_rejected(method: str) -> None:
    message = _error(ApiSpecifications, _with(API, ("endpoints", 0, "method"), method))
    assert "endpoints.0.method" in message


@pytest.mark.parametrize("path", ["api/v1/invitations", "https://example.com/x", "/api v1", ""])
def test_path_must_start_with_slash(path: str) -> None:
    message = _error(ApiSpecifications, _with(API, ("endpoints", 0, "path"), path))
    assert "endpoints.0.path" in message


def test_duplicate_endpoint_rejected() -> None:
    endpoints = [
        *API["endpoints"],
        {"method": "POST", "path": "/api/v1/invitations/", "change": "new", "description": "Again"},
    ]
    message = _error(ApiSpecifications, _with(API, ("endpoints",), endpoints))
    assert "endpoint POST /api/v1/invitations/ is listed twice" in message
    # the same path with another method is fine
    other = [
        *API["endpoints"],
        {"method": "GET", "path": "/api/v1/invitations", "change": "new", "description": "List them"},
    ]
    ApiSpecifications.model_validate(_with(API, ("endpoints",), other))


def test_duplicate_schema_field_rejected() -> None:
    fields = [{"name": "email", "type": "string", "required": True}] * 2
    assert "field 2 repeats field 1" in _error(ApiSpecifications, _with(API, ("request_fields",), fields))


# --- Database Design --------------------------------------------------------------------------------

DATABASE: dict[str, Any] = {
    "entity_relationship_diagram": "users 1--* invitations",
    "table_specifications": [
        {
            "name": "invitations",
            "purpose": "Pending and accepted invitations",
            "columns": [
                {"name": "id", "type": "UUID", "constraints": "PRIMARY KEY"},
                {"name": "email", "type": "TEXT", "constraints": "NOT NULL"},
                {"name": "expires_at", "type": "TIMESTAMPTZ", "constraints": ""},
            ],
            "indexes": ["email"],
            "relationships": "inviter_id references users.id",
        }
    ],
    "data_migration_strategy": {
        "migration_scripts": "Alembic revision adds the table",
        "data_validation": "Row counts compared after migration",
        "rollback_plan": "Downgrade drops the new table",
    },
}


def test_database_accepts_good_data() -> None:
    rendered = DatabaseDesign.model_validate(DATABASE).render_data()
    assert rendered["table_specifications"] == [
        {
            "table_name": "invitations",
            "purpose": "Pending and accepted invitations",
            "columns": "id UUID PRIMARY KEY; email TEXT NOT NULL; expires_at TIMESTAMPTZ",
            "indexes": "email",
            "relationships": "inviter_id references users.id",
        }
    ]


def test_duplicate_columns_rejected() -> None:
    columns = [{"name": "id", "type": "UUID"}, {"name": "id", "type": "TEXT"}]
    message = _error(DatabaseDesign, _with(DATABASE, ("table_specifications", 0, "columns"), columns))
    assert "column 2 repeats column 1" in message


@pytest.mark.parametrize("sql_type", ["STRING", "varchar", "INT", ""])
def test_bad_column_type_rejected(sql_type: str) -> None:
    message = _error(
        DatabaseDesign, _with(DATABASE, ("table_specifications", 0, "columns", 1, "type"), sql_type)
    )
    assert "columns.1.type" in message


def test_fewer_than_two_columns_rejected() -> None:
    columns = [{"name": "id", "type": "UUID"}]
    message = _error(DatabaseDesign, _with(DATABASE, ("table_specifications", 0, "columns"), columns))
    assert "at least 2" in message


def test_bad_table_and_column_names_rejected() -> None:
    assert "name" in _error(
        DatabaseDesign, _with(DATABASE, ("table_specifications", 0, "name"), "Invitations Table")
    )
    bad_column = ("table_specifications", 0, "columns", 0, "name")
    assert "name" in _error(DatabaseDesign, _with(DATABASE, bad_column, "ID"))


def test_duplicate_tables_rejected() -> None:
    tables = DATABASE["table_specifications"] * 2
    message = _error(DatabaseDesign, _with(DATABASE, ("table_specifications",), tables))
    assert "table 2 repeats table 1" in message


# --- Performance Specifications ---------------------------------------------------------------------


def _target(value: Any, unit: str, comparator: str = "<", condition: str = "") -> dict[str, Any]:
    return {"comparator": comparator, "value": value, "unit": unit, "condition": condition}


PERFORMANCE: dict[str, Any] = {
    "response_time_requirements": {
        "api_endpoints": _target(200, "ms", condition="for the 95th percentile"),
        "page_load": _target(2, "s"),
        "database_queries": _target(100, "ms"),
    },
    "throughput_requirements": {
        "concurrent_users": _target(1000, "concurrent users", ">="),
        "requests_per_second": _target(500, "requests/s", ">="),
        "database_connections": _target(100, "connections", "<="),
    },
    "resource_requirements": {
        "memory_usage": _target(512, "MB"),
        "cpu_usage": _target(70, "%"),
        "storage": _target(10, "GB"),
    },
}


def test_performance_accepts_good_data() -> None:
    rendered = PerformanceSpecifications.model_validate(PERFORMANCE).render_data()
    assert rendered["response_time_requirements"]["api_endpoints"] == "< 200 ms for the 95th percentile"
    assert rendered["throughput_requirements"]["concurrent_users"] == ">= 1000 concurrent users"
    assert rendered["resource_requirements"]["cpu_usage"] == "< 70 %"


@pytest.mark.parametrize(
    ("field", "value"), [("value", "fast"), ("value", -1), ("unit", "furlongs"), ("comparator", "~")]
)
def test_bad_performance_target_rejected(field: str, value: Any) -> None:
    path = ("response_time_requirements", "page_load", field)
    message = _error(PerformanceSpecifications, _with(PERFORMANCE, path, value))
    assert f"response_time_requirements.page_load.{field}" in message


def test_missing_performance_figure_rejected() -> None:
    data = copy.deepcopy(PERFORMANCE)
    del data["resource_requirements"]["storage"]
    assert "resource_requirements.storage" in _error(PerformanceSpecifications, data)


# --- Risk Assessment --------------------------------------------------------------------------------

RISKS: dict[str, Any] = {
    area: {
        "risk": f"The {area} of the invite flow degrades.",
        "mitigation": f"Monitor {area} and alert early.",
    }
    for area in ("performance", "security", "integration", "scalability")
}


def test_risks_accept_good_data() -> None:
    rendered = RiskAssessment.model_validate(RISKS).render_data()
    assert rendered["technical_risks"]["security_risks"] == "The security of the invite flow degrades."
    assert rendered["mitigation_strategies"]["integration"] == "Monitor integration and alert early."


def test_mitigation_repeating_the_risk_rejected() -> None:
    risk = RISKS["security"]["risk"]
    message = _error(RiskAssessment, _with(RISKS, ("security", "mitigation"), f"  {risk.upper()} "))
    assert "the mitigation repeats the risk" in message


def test_risk_without_mitigation_rejected() -> None:
    data = copy.deepcopy(RISKS)
    del data["integration"]["mitigation"]
    assert "integration.mitigation" in _error(RiskAssessment, data)
    assert "security.mitigation" in _error(RiskAssessment, _with(RISKS, ("security", "mitigation"), ""))


# --- shapes and generated models --------------------------------------------------------------------

TYPED_DATA: dict[str, tuple[type[SectionData], dict[str, Any]]] = {
    "technical_requirements": (TechnicalRequirements, REQUIREMENTS),
    "api_specifications": (ApiSpecifications, API),
    "database_design": (DatabaseDesign, DATABASE),
    "performance_specifications": (PerformanceSpecifications, PERFORMANCE),
    "risk_assessment": (RiskAssessment, RISKS),
}


def _generic_shape(entry: FieldSpec | list[FieldSpec]) -> Any:
    if isinstance(entry, list):
        return {spec.key: _generic_shape(spec) for spec in entry}
    if entry.kind.value == "group":
        return [{child.key: None for child in entry.children}]
    return entry.kind.value


def _data_shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _data_shape(inner) for key, inner in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [{key: None for key in value[0]}]
    return "list" if isinstance(value, list) else "str"


@pytest.mark.parametrize("key", sorted(TYPED_DATA))
def test_render_data_matches_the_generic_shape(tech_spec: SpecTemplate, key: str) -> None:
    model, data = TYPED_DATA[key]
    section = tech_spec.section(key)
    rendered = model.model_validate(data).render_data()
    assert set(rendered) == model.GENERIC_KEYS == {k for k, _ in section.shape}
    list_kinds = {"numbered", "labelled", "tasks", "bullets"}
    for name, entry in section.shape:
        expected = _generic_shape(entry)
        actual = _data_shape(rendered[name])
        if isinstance(expected, dict):
            assert isinstance(actual, dict) and set(actual) == set(expected), name
            assert all(v in {"text", "code", "prose"} for v in expected.values()), name
            assert all(v == "str" for v in actual.values()), name
        elif isinstance(expected, list):
            assert actual == expected, name
        else:
            assert actual == ("list" if expected in list_kinds else "str"), name
    # and the renderer's own check: rendering the section with this data succeeds
    from agent.specdoc.render import SectionContent, render_section

    assert f"## {section.title}" in render_section(section, SectionContent(data=rendered))


def test_task_lists_need_two_tasks(tech_spec: SpecTemplate) -> None:
    timeline = tech_spec.section("implementation_timeline").model
    phases = [k for k, _ in tech_spec.section("implementation_timeline").shape]
    tasks = [
        {"text": "Create the invitations table", "covers": ["FR-001"]},
        {"text": "Add the invite endpoint", "covers": []},
    ]
    good = {key: tasks for key in phases}
    timeline.model_validate(good)
    bad = {**good, phases[1]: [{"text": "Only one task here", "covers": []}]}
    with pytest.raises(ValidationError) as info:
        timeline.model_validate(bad)
    assert phases[1] in str(info.value) and "at least 2" in str(info.value)
    success = tech_spec.section("success_criteria").model
    with pytest.raises(ValidationError):
        success.model_validate(
            {
                "technical_success": [{"text": "All tests pass", "covers": []}],
                "business_success": [{"text": "a b c", "covers": []}, {"text": "d e f", "covers": []}],
            }
        )


def test_generated_list_items_need_content(tech_spec: SpecTemplate) -> None:
    deps = tech_spec.section("dependencies").model
    item = {"name": "Mail provider", "description": "Sends invitation emails."}
    deps.model_validate({"internal_dependencies": [item], "external_dependencies": [item]})
    with pytest.raises(ValidationError):
        deps.model_validate({"internal_dependencies": [], "external_dependencies": [item]})
    with pytest.raises(ValidationError):
        deps.model_validate(
            {"internal_dependencies": [{"name": "x", "description": ""}], "external_dependencies": [item]}
        )


def test_open_points_extension() -> None:
    extended = with_open_points(RiskAssessment)
    data = extended.model_validate({**RISKS, "assumptions": ["Invites go to work addresses."]})
    assert "assumptions" not in data.render_data()
    assert data.render_data() == RiskAssessment.model_validate(RISKS).render_data()
    strict = with_open_points(RiskAssessment, require_questions=True)
    with pytest.raises(ValidationError, match="open_questions"):
        strict.model_validate({**RISKS, "open_questions": []})
    strict.model_validate({**RISKS, "open_questions": ["Who may send invitations?"]})
    with pytest.raises(ValidationError, match="assumptions"):
        extended.model_validate({**RISKS, "assumptions": ["a one", "b two", "c three", "d four"]})


def test_performance_units_must_fit_the_figure() -> None:
    from pydantic import ValidationError

    from agent.specdoc.schemas.techspec import PerformanceSpecifications

    def target(unit: str) -> dict[str, object]:
        return {"comparator": "<", "value": 10, "unit": unit}

    good = {
        "response_time_requirements": {
            k: target("ms") for k in ("api_endpoints", "page_load", "database_queries")
        },
        "throughput_requirements": {
            "concurrent_users": target("concurrent users"),
            "requests_per_second": target("requests/s"),
            "database_connections": target("connections"),
        },
        "resource_requirements": {
            "memory_usage": target("MB"),
            "cpu_usage": target("%"),
            "storage": target("GB"),
        },
    }
    assert (
        PerformanceSpecifications.model_validate(good).render_data()["resource_requirements"]["cpu_usage"]
        == "< 10 %"
    )
    bad = {
        **good,
        "throughput_requirements": {**good["throughput_requirements"], "concurrent_users": target("ms")},
    }
    with pytest.raises(ValidationError, match="concurrent users"):
        PerformanceSpecifications.model_validate(bad)


def test_required_questions_cannot_be_left_out(tech_spec: SpecTemplate) -> None:
    """A vague brief's root section must ask: leaving the field out fails, in the schema and in validation."""
    import pydantic

    from agent.specdoc.schemas.generic import with_open_points

    overview = tech_spec.sections[0]
    strict = with_open_points(overview.model, require_questions=True)
    lenient = with_open_points(overview.model)
    assert "open_questions" in strict.model_json_schema()["required"]
    assert "open_questions" not in lenient.model_json_schema().get("required", [])
    answer = {
        name: "Admins invite colleagues by email and links expire in 7 days."
        for name in overview.model.model_fields
    }
    lenient.model_validate(answer)
    with pytest.raises(pydantic.ValidationError, match="open_questions"):
        strict.model_validate(answer)
    assert with_open_points(overview.model, require_questions=True) is strict  # built once


def test_a_class_renamed_in_the_code_keeps_the_name_the_model_is_sent() -> None:
    """techspec.ApiEndpoint (not the model server's Endpoint) is still ``Endpoint`` in the schema the
    server constrains answers to, so recorded requests and cached answers stay valid."""
    from agent.specdoc.schemas.base import json_schema

    text = json.dumps(json_schema(ApiSpecifications))
    assert "ApiEndpoint" not in text
    assert json_schema(ApiSpecifications)["properties"]["endpoints"]["items"] == {"$ref": "#/$defs/Endpoint"}
    assert json_schema(ApiSpecifications)["$defs"]["Endpoint"]["title"] == "Endpoint"
    # keys pydantic made unique with the module path are left alone (titles alike would collide)
    assert any("__" in key for key in json_schema(PerformanceSpecifications)["$defs"])
