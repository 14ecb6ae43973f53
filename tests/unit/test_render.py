"""Rendering fixed, hand-built section data (never model output) into the spec's Markdown."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.specdoc.placeholders import PLACEHOLDER
from agent.specdoc.render import DocumentValues, Provenance, SectionContent, render_section, render_spec
from agent.specdoc.schemas.techspec import TYPED_SECTIONS
from agent.specdoc.template import SpecTemplate
from agent.specdoc.template_resolver import load_template

GOLDEN = Path(__file__).parent.parent / "data" / "golden"
TEMPLATES = Path(__file__).parent.parent / "data" / "templates"
UPDATE_GOLDEN = os.environ.get("SPECDRAFT_UPDATE_GOLDEN") == "1"


def _target(comparator: str, value: float, unit: str, condition: str = "") -> dict[str, Any]:
    return {"comparator": comparator, "value": value, "unit": unit, "condition": condition}


def _risk(risk: str, mitigation: str) -> dict[str, str]:
    return {"risk": risk, "mitigation": mitigation}


def _covered(text: str, covers: list[str]) -> dict[str, Any]:
    return {"text": text, "covers": covers}


#: What a validated answer holds for each tech-spec section (typed sections in their typed form).
TECH_SPEC_DATA: dict[str, dict[str, Any]] = {
    "overview": {
        "what_are_we_building": (
            "Team invitations: admins invite teammates by email; links expire after seven days."
        )
    },
    "system_architecture": {
        "high_level_architecture": (
            "browser -> invite-api -> postgres\n               invite-api -> mail-worker -> Postmark"
        ),
        "component_overview": {
            "frontend_components": "Invite dialog and pending-invitations table in team settings.",
            "backend_services": "Invite API issues tokens; the mail worker sends emails.",
            "database_schema": "invitations table linked to teams and users.",
            "external_integrations": "Postmark for transactional email.",
            "infrastructure": "Two containers on the existing Kubernetes cluster.",
        },
    },
    "technical_requirements": {
        "functional_requirements": [
            "Admins invite a teammate by email address.",
            "An invitation link works once and expires after seven days.",
            "Admins revoke a pending invitation.",
            "Invitees without an account sign up from the link.",
        ],
        "non_functional_requirements": [
            {
                "category": "performance",
                "metric": "p95 latency of POST /api/v1/invitations",
                "comparator": "<",
                "target": 300,
                "unit": "ms",
                "condition": "at 50 requests/s",
            },
            {
                "category": "availability",
                "metric": "monthly availability of the invite API",
                "comparator": ">=",
                "target": 99.9,
                "unit": "%",
                "condition": "",
            },
            {
                "category": "security",
                "metric": "entropy of invitation tokens",
                "comparator": ">=",
                "target": 128,
                "unit": "bits",
                "condition": "",
            },
        ],
        "quality_requirements": [
            "Invite flows covered by integration tests.",
            "Endpoints documented in OpenAPI.",
        ],
    },
    "technology_stack": {
        "frontend_technologies": {
            "framework": "React 18",
            "language": "TypeScript",
            "styling": "Tailwind",
            "state_management": "TanStack Query",
            "build_tools": "Vite",
            "testing": "Vitest and Playwright",
        },
        "backend_technologies": {
            "language": "Python 3.12",
            "framework": "FastAPI",
            "database": "PostgreSQL 16",
            "authentication": "Existing session cookies",
            "api": "REST",
            "testing": "pytest",
        },
        "infrastructure": {
            "hosting": "AWS eu-west-1",
            "containerization": "Docker on EKS",
            "ci_cd": "GitHub Actions",
            "monitoring": "Prometheus and Grafana",
            "logging": "Loki",
        },
    },
    "api_specifications": {
        "endpoints": [
            {
                "method": "POST",
                "path": "/api/v1/invitations",
                "change": "new",
                "description": "Create an invitation",
            },
            {
                "method": "GET",
                "path": "/api/v1/invitations",
                "change": "new",
                "description": "List pending invitations",
            },
            {
                "method": "DELETE",
                "path": "/api/v1/invitations/{id}",
                "change": "new",
                "description": "Revoke an invitation",
            },
        ],
        "request_fields": [
            {"name": "email", "type": "string", "required": True},
            {"name": "role", "type": "string", "required": False},
        ],
        "response_fields": [
            {"name": "id", "type": "string", "required": True},
            {"name": "expires_at", "type": "string", "required": True},
        ],
        "authentication": {
            "method": "Session cookie",
            "headers": "Cookie and X-CSRF-Token",
            "scopes": "team:admin",
        },
    },
    "database_design": {
        "entity_relationship_diagram": "teams 1--* invitations *--1 users (inviter)",
        "table_specifications": [
            {
                "name": "invitations",
                "purpose": "Pending and accepted invitations",
                "columns": [
                    {"name": "id", "type": "UUID", "constraints": "PRIMARY KEY"},
                    {"name": "token_hash", "type": "TEXT", "constraints": "NOT NULL UNIQUE"},
                    {"name": "expires_at", "type": "TIMESTAMPTZ", "constraints": "NOT NULL"},
                ],
                "indexes": ["token_hash unique", "team_id, created_at"],
                "relationships": "team_id references teams.id; inviter_id references users.id",
            }
        ],
        "data_migration_strategy": {
            "migration_scripts": "One Alembic revision creates the table.",
            "data_validation": "No existing data moves; the revision is checked in staging.",
            "rollback_plan": "The downgrade drops the table.",
        },
    },
    "security_specifications": {
        "authentication_authorization": {
            "authentication_method": "Existing session login.",
            "authorization_model": "Only team admins invite or revoke.",
            "session_management": "Unchanged.",
            "password_policy": "Unchanged; new users follow the signup policy.",
        },
        "data_protection": {
            "encryption_at_rest": "RDS encryption.",
            "encryption_in_transit": "TLS 1.2+ everywhere.",
            "pii_handling": "Invitee emails are deleted 30 days after expiry.",
            "data_retention": "Accepted invitations are kept for 1 year for audit.",
        },
        "security_measures": {
            "input_validation": "Pydantic models validate every body.",
            "sql_injection_prevention": "SQLAlchemy bound parameters only.",
            "xss_prevention": "React escaping; no raw HTML.",
            "csrf_protection": "Double-submit token on POST and DELETE.",
        },
    },
    "performance_specifications": {
        "response_time_requirements": {
            "api_endpoints": _target("<", 300, "ms", "for the 95th percentile"),
            "page_load": _target("<", 2, "s", "on a cold cache"),
            "database_queries": _target("<", 50, "ms"),
        },
        "throughput_requirements": {
            "concurrent_users": _target(">=", 500, "concurrent users"),
            "requests_per_second": _target(">=", 50, "requests/s"),
            "database_connections": _target("<=", 20, "connections", "per pod"),
        },
        "resource_requirements": {
            "memory_usage": _target("<", 256, "MB", "per pod"),
            "cpu_usage": _target("<", 60, "%", "on average"),
            "storage": _target("<", 1, "GB", "per year"),
        },
    },
    "scalability_design": {
        "horizontal_scaling": {
            "load_balancing": "The existing ALB.",
            "auto_scaling": "HPA on CPU between 2 and 6 pods.",
            "database_sharding": "None needed at this volume.",
            "caching_strategy": "No cache; lookups use the token index.",
        },
        "vertical_scaling": {
            "resource_limits": "500m CPU and 512 MB per pod.",
            "scaling_triggers": "CPU above 60% for 5 minutes.",
            "performance_monitoring": "Grafana dashboard per endpoint.",
        },
    },
    "integration_specifications": {
        "external_apis": {
            "third_party_services": "Postmark.",
            "api_contracts": "Postmark email API v1.",
            "rate_limiting": "Worker sends at most 50 emails per second.",
            "error_handling": "Retries with backoff, then marks the invitation failed.",
        },
        "internal_integrations": {
            "microservices": "Accounts service for signup.",
            "event_systems": "invitation.accepted event on the bus.",
            "message_queues": "SQS queue between API and mail worker.",
        },
    },
    "testing_strategy": {
        "unit_testing": {
            "coverage_target": _covered("> 90% of the invite module", ["QR-001"]),
            "testing_framework": _covered("pytest", []),
            "mocking_strategy": _covered("Postmark replaced by an in-memory outbox.", []),
            "test_data": _covered("factory_boy factories.", []),
        },
        "integration_testing": {
            "api_testing": _covered("httpx against the app with a test database.", ["FR-001", "NFR-001"]),
            "database_testing": _covered("Testcontainers PostgreSQL.", ["FR-002"]),
            "external_service_testing": _covered("Postmark sandbox in staging.", []),
        },
        "end_to_end_testing": {
            "user_journey_testing": _covered("Playwright: invite, accept, sign up.", ["FR-001", "FR-003"]),
            "cross_browser_testing": _covered("Chrome and Firefox latest.", ["NFR-005"]),
            "performance_testing": _covered("k6 at 50 requests per second.", ["NFR-001"]),
        },
    },
    "deployment_specifications": {
        "environment_configuration": {
            "development": "docker compose with Mailpit.",
            "staging": "EKS staging namespace with Postmark sandbox.",
            "production": "EKS production namespace.",
        },
        "deployment_process": {
            "build_process": "Docker image built in CI.",
            "deployment_pipeline": "Test, build, deploy to staging, manual promote.",
            "rollback_strategy": "Redeploy the previous image tag.",
            "health_checks": "/healthz and a synthetic invite in staging.",
        },
        "infrastructure_requirements": {
            "server_specifications": "Two pods of 500m CPU.",
            "network_requirements": "Egress to Postmark only.",
            "storage_requirements": "Under 1 GB in the existing database.",
            "backup_strategy": "Existing nightly RDS snapshots.",
        },
    },
    # "monitoring_and_observability" needs attention (see below)
    "risk_assessment": {
        "performance": _risk("Email sending slows the API.", "Emails go through the queue, never inline."),
        "security": _risk(
            "Forwarded links let others join.", "Links work once and bind to the invited email."
        ),
        "integration": _risk("Postmark is down.", "Queue retries for 24 hours and alerts."),
        "scalability": _risk(
            "Large teams invite thousands at once.", "Cap invitations at 100 per hour per team."
        ),
    },
    "implementation_timeline": {
        "phase_1_foundation_week_1_2": [
            _covered("Create the invitations table", ["FR-001"]),
            _covered("Add the create endpoint", ["FR-001", "NFR-003"]),
        ],
        "phase_2_core_features_week_3_4": [
            _covered("Build the invite dialog", ["FR-001"]),
            _covered("Send emails from the worker", ["FR-002"]),
        ],
        "phase_3_integration_week_5_6": [
            _covered("Hook signup into the accounts service", ["FR-003"]),
            _covered("Load test at 50 RPS", ["NFR-001", "NFR-002"]),
        ],
        "phase_4_deployment_week_7_8": [
            _covered("Ship to staging", []),
            _covered("Roll out to all teams", []),
        ],
    },
    "dependencies": {
        "internal_dependencies": [
            {"name": "Accounts service", "description": "Signup from an invitation link; ready in week 4."}
        ],
        "external_dependencies": [{"name": "Postmark", "description": "Sends emails; 99.9% SLA."}],
    },
    "success_criteria": {
        "technical_success": [
            _covered("All FRs pass in CI", ["FR-001", "FR-002", "FR-003"]),
            _covered("p95 latency under 300 ms", ["NFR-001"]),
        ],
        "business_success": [
            _covered("30% of new members join via invitation", ["FR-001"]),
            _covered("Support tickets about access drop", []),
        ],
    },
    "notes": {
        "design_decisions": ["Tokens are stored hashed.", "Invites bind to the invited email address."],
        "future_considerations": ["Bulk invitations from CSV.", "Invite links for SSO-only teams."],
    },
}


def _contents(template: SpecTemplate, data: dict[str, dict[str, Any]]) -> dict[str, SectionContent]:
    contents: dict[str, SectionContent] = {}
    for section in template.sections:
        if section.key not in data:
            continue
        validated = section.model.model_validate(data[section.key])
        contents[section.key] = SectionContent(data=validated.render_data())
    return contents


VALUES = DocumentValues(
    title="Team Invitations",
    priority="high",
    owner="Dana",
    status="DRAFT",
    author="specdraft 0.0.0 with test-model",
    day=date(2026, 1, 15),
)
PROVENANCE = Provenance(
    model="test-model",
    provider="fake",
    template="tech-spec",
    template_sha256="0" * 64,
    version="0.0.0",
    brief_sha256="1" * 64,
    usage={"prompt_tokens": 10, "completion_tokens": 20},
)


def _full_contents(template: SpecTemplate) -> dict[str, SectionContent]:
    contents = _contents(template, TECH_SPEC_DATA)
    contents["monitoring_and_observability"] = SectionContent(
        attention="metrics.alerting: contains 'TBD'; write the real content"
    )
    contents["overview"].open_questions = ["Can members invite, or only admins?", "How long may a link live"]
    contents["overview"].assumptions = ["Invitations are sent to work email addresses."]
    contents["security_specifications"].assumptions = ["Existing sessions are reused."]
    return contents


@pytest.fixture(scope="module")
def rendered(tech_spec: SpecTemplate) -> str:
    return render_spec(tech_spec, _full_contents(tech_spec), VALUES, PROVENANCE)


def test_golden_tech_spec(rendered: str) -> None:
    golden = GOLDEN / "tech-spec.md"
    if UPDATE_GOLDEN:
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def test_every_section_is_used(tech_spec: SpecTemplate) -> None:
    # the fixed data covers every section but the one needing attention, so the golden file covers every shape
    assert set(TECH_SPEC_DATA) | {"monitoring_and_observability"} == {s.key for s in tech_spec.sections}
    assert {key for key in TECH_SPEC_DATA if key in TYPED_SECTIONS} == set(TYPED_SECTIONS)


def test_no_template_placeholder_survives(tech_spec: SpecTemplate, rendered: str) -> None:
    left = [m.group(0) for m in PLACEHOLDER.finditer(rendered)]
    assert left == []
    # the only bracketed markers are the ones specdraft writes on purpose
    for marker in re.findall(r"\[[^\]\n]*\]", rendered):
        assert marker.startswith(("[NEEDS ", "[ ]")), marker


def test_every_heading_in_order(tech_spec: SpecTemplate, rendered: str) -> None:
    headings = [line for line in rendered.splitlines() if re.match(r"^#{1,3} ", line)]
    expected = ["# Technical Specifications: Team Invitations"]
    for section in tech_spec.sections:
        expected.append(f"## {section.title}")
        expected.extend(f"### {sub}" for sub in section.subsections)
    assert headings == expected  # assumptions go under Notes without a heading of their own


def test_needs_attention_section_keeps_its_headings(rendered: str) -> None:
    part = rendered.split("## Monitoring and Observability\n", 1)[1].split("\n## ", 1)[0]
    # the reason, then only the section's headings: no template lines, no placeholders
    assert [line for line in part.strip().splitlines() if line.strip()] == [
        "[NEEDS ATTENTION: metrics.alerting: contains 'TBD'; write the real content]",
        "### Application Monitoring",
        "### Business Metrics",
    ]


def test_missing_section_needs_attention(tech_spec: SpecTemplate) -> None:
    contents = _full_contents(tech_spec)
    del contents["dependencies"]
    text = render_spec(tech_spec, contents, VALUES, PROVENANCE)
    part = text.split("## Dependencies\n", 1)[1].split("\n## ", 1)[0]
    assert [line for line in part.splitlines() if line.strip()] == [
        "[NEEDS ATTENTION: not drafted]",
        "### Internal Dependencies",
        "### External Dependencies",
    ]


def test_open_questions_become_clarification_markers(rendered: str) -> None:
    overview = rendered.split("## Overview\n", 1)[1].split("\n## ", 1)[0]
    assert "- [NEEDS CLARIFICATION: Can members invite, or only admins?]" in overview
    assert "- [NEEDS CLARIFICATION: How long may a link live?]" in overview


def test_assumptions_under_notes(rendered: str) -> None:
    notes = rendered.split("\n## Notes\n", 1)[1]
    assumptions = notes.split("**Assumptions**:\n", 1)[1].split("\n\n---", 1)[0]
    assert assumptions.splitlines() == [
        "- Invitations are sent to work email addresses.",
        "- Existing sessions are reused.",
    ]


def test_front_matter_keys_and_priority(rendered: str) -> None:
    assert rendered.startswith("---\n")
    front = yaml.safe_load(rendered.split("---\n", 2)[1])
    assert list(front)[:4] == ["description", "type", "priority", "status"]
    assert front["description"] == "Technical Specifications - Team Invitations"
    assert front["type"] == "tech-specs"
    assert front["priority"] == "high"
    assert front["status"] == "DRAFT"
    assert front["specdraft"]["model"] == "test-model"
    assert front["specdraft"]["brief_sha256"] == "1" * 64


@pytest.mark.parametrize("priority", ["low", "medium", "high"])
def test_priority_comes_from_the_brief(tech_spec: SpecTemplate, priority: str) -> None:
    values = DocumentValues(
        title="X feature", priority=priority, owner=None, status="DRAFT", author="a", day=date(2026, 1, 1)
    )
    text = render_spec(tech_spec, _full_contents(tech_spec), values, PROVENANCE)
    assert yaml.safe_load(text.split("---\n", 2)[1])["priority"] == priority


def test_footer(rendered: str) -> None:
    assert rendered.endswith(
        "---\n\n"
        "**Technical Specifications by**: specdraft 0.0.0 with test-model  \n"
        "**Date**: 2026-01-15  \n"
        "**Status**: DRAFT\n"
    )


def test_checkboxes_and_fences(rendered: str) -> None:
    assert "- [ ] **FR-001**: Admins invite a teammate by email address." in rendered
    assert "- [ ] **FR-004**: Invitees without an account sign up from the link." in rendered
    assert "- [ ] **NFR-002**: Availability: monthly availability of the invite API >= 99.9 %" in rendered
    assert "- [ ] **QR-002**: Endpoints documented in OpenAPI." in rendered
    assert "- [ ] **Postmark**: Sends emails; 99.9% SLA." in rendered
    assert "- [ ] Create the invitations table" in rendered
    assert "```json\n{\n" in rendered
    assert "```\nPOST   /api/v1/invitations       # (new) Create an invitation\n" in rendered


# --- injection and structure ------------------------------------------------------------------------


def test_jinja_in_values_stays_literal(tech_spec: SpecTemplate) -> None:
    contents = _full_contents(tech_spec)
    contents["overview"] = SectionContent(
        data={"what_are_we_building": "Shows {{ 7*7 }} and {% for x in range(3) %}x{% endfor %} literally."}
    )
    values = DocumentValues(
        title="Calc {{ 7*7 }} {% for x in range(3) %}",
        priority="low",
        owner=None,
        status="DRAFT",
        author="a",
        day=date(2026, 1, 1),
    )
    text = render_spec(tech_spec, contents, values, PROVENANCE)
    assert "Shows {{ 7*7 }} and {% for x in range(3) %}x{% endfor %} literally." in text
    assert "# Technical Specifications: Calc {{ 7*7 }} {% for x in range(3) %}" in text
    assert "49" not in text
    assert "xxx" not in text


def test_prose_cannot_create_a_heading(tech_spec: SpecTemplate) -> None:
    section = tech_spec.section("overview")
    value = "## Injected heading\nSecond line\n# Another\n---\n```\nfenced"
    text = render_section(section, SectionContent(data={"what_are_we_building": value}))
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("#")] == ["## Overview"]
    assert "\\## Injected heading" in lines
    assert "\\# Another" in lines
    assert "\\---" in lines
    assert not any(line.startswith("```") for line in lines)


def test_one_line_values_cannot_break_lines(tech_spec: SpecTemplate) -> None:
    section = tech_spec.section("notes")
    data = {"design_decisions": ["First\n## Heading", "Second"], "future_considerations": ["Third", "Fourth"]}
    text = render_section(section, SectionContent(data=data))
    assert "- First ## Heading" in text.splitlines()


def test_code_containing_a_fence_gets_a_longer_fence(tech_spec: SpecTemplate) -> None:
    section = tech_spec.section("system_architecture")
    data = {**TECH_SPEC_DATA["system_architecture"], "high_level_architecture": "a\n```\nb\n````\nc"}
    text = render_section(section, SectionContent(data=data))
    assert "`````\na\n```\nb\n````\nc\n`````" in text
    # a plain diagram keeps a three-backtick fence
    plain = render_section(section, SectionContent(data=TECH_SPEC_DATA["system_architecture"]))
    assert "```\nbrowser -> invite-api" in plain


def test_missing_value_is_an_error_not_an_empty_string(tech_spec: SpecTemplate) -> None:
    from agent.errors import SpecdraftError

    data = {"component_overview": TECH_SPEC_DATA["system_architecture"]["component_overview"]}
    with pytest.raises(SpecdraftError, match="System Architecture"):
        render_section(tech_spec.section("system_architecture"), SectionContent(data=data))


# --- other templates ------------------------------------------------------------------------------


def test_runbook_renders_every_shape() -> None:
    runbook = load_template(str(TEMPLATES / "runbook.md"))
    data: dict[str, dict[str, Any]] = {
        "summary": {"description": "Billing API issues invoices for every paying team."},
        "contacts": {"primary": "Billing team", "escalation": "Platform on-call"},
        "services": {
            "service_name": [
                {"service_name": "billing-api", "port": "8080", "health_url": "/healthz"},
                {"service_name": "billing-worker", "port": "9090", "health_url": "/ready"},
            ]
        },
        "symptoms": {"items": ["Invoices stop arriving.", "Queue depth above 1000."]},
        "commands": {
            "restart": "kubectl rollout restart deploy/billing-api",
            "inspect": "SELECT * FROM jobs;",
        },
        "glossary": {},
        "checks": {"items": ["Queue depth back under 100.", "A test invoice arrives."]},
    }
    contents = _contents(runbook, data)
    text = render_spec(runbook, contents, VALUES, PROVENANCE)
    assert PLACEHOLDER.search(text) is None
    assert "- **Service Name**: billing-api\n  - **Port**: 8080\n  - **Health URL**: /healthz\n" in text
    assert "- **Service Name**: billing-worker\n  - **Port**: 9090\n  - **Health URL**: /ready" in text
    assert "```bash\nkubectl rollout restart deploy/billing-api\n```" in text
    assert "```sql\nSELECT * FROM jobs;\n```" in text
    assert "## Glossary\nThis section is fixed text that every runbook shares" in text
    assert "- [ ] **CHK-002**: A test invoice arrives." in text
    assert "**Written by**: specdraft 0.0.0 with test-model\n**Date**: 2026-01-15" in text
    front = yaml.safe_load(text.split("---\n", 2)[1])
    assert front["owner"] == "Dana"
    assert front["description"] == "Runbook - Team Invitations"


def test_brackets_in_a_marker_reason_do_not_break_the_marker(tech_spec: SpecTemplate) -> None:
    """A reason quoting a placeholder must not close the marker early (lint would see a placeholder)."""
    from agent.checks.lint import lint_text
    from agent.specdoc.template_resolver import read_template_outline

    template = tech_spec
    reason = (
        "failed validation after 3 attempts: description: contains a template placeholder '[Description]'"
    )
    contents = {s.key: SectionContent(attention=reason) for s in template.sections}
    contents[template.sections[0].key] = SectionContent(
        attention=reason, open_questions=["Which [role] invites?"]
    )
    markdown = render_spec(template, contents, VALUES, PROVENANCE)
    assert "placeholder '(Description)'" in markdown and "'[Description]'" not in markdown
    findings = lint_text(markdown, read_template_outline(template.path))
    assert not [f for f in findings if f.rule == "placeholder" and "Description" in f.message]


API_CHANGE = """# API change: [FEATURE_NAME]

## Motivation
[Why the API has to change]

## Proposed Change
[The new or changed endpoints]

### Compatibility
[What breaks for existing clients]

## Rollout
- [A rollout step]
"""


def _custom_spec(text: str, tmp_path: Path) -> tuple[SpecTemplate, str]:
    path = tmp_path / "api-change.md"
    path.write_text(text, encoding="utf-8")
    template = load_template(str(path))
    contents = {
        s.key: SectionContent(data=None, attention="not drafted", assumptions=["Clients pin API versions."])
        for s in template.sections
    }
    return template, render_spec(template, contents, VALUES, PROVENANCE)


def _headings(text: str) -> list[str]:
    body = text.split("---\n", 2)[2]
    return [line for line in body.splitlines() if re.match(r"^#{1,6} ", line)]


def test_assumptions_without_a_home_go_to_the_front_matter(tmp_path: Path) -> None:
    _template, text = _custom_spec(API_CHANGE, tmp_path)
    template_headings = [line for line in API_CHANGE.splitlines() if line.startswith("#")]
    assert [h.split(":")[0] for h in _headings(text)] == [h.split(":")[0] for h in template_headings]
    front = yaml.safe_load(text.split("---\n", 2)[1])
    assert front["specdraft"]["assumptions"] == ["Clients pin API versions."]
    assert "Clients pin API versions." not in text.split("---\n", 2)[2]


def test_assumptions_go_under_the_templates_own_heading(tmp_path: Path) -> None:
    with_home = API_CHANGE.replace(
        "## Rollout", "## Open Questions\n### Assumptions\n[What we assume]\n\n## Rollout"
    )
    _template, text = _custom_spec(with_home, tmp_path)
    assert _headings(text).count("### Assumptions") == 1
    part = text.split("### Assumptions\n", 1)[1].split("\n## ", 1)[0]
    assert "- Clients pin API versions." in part
    front = yaml.safe_load(text.split("---\n", 2)[1])
    assert "assumptions" not in front["specdraft"]
