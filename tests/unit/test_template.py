"""The template compiler on the built-in templates, on a template of our own, and on bad templates."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.errors import InputError, TemplateError
from agent.specdoc.schemas.techspec import TYPED_SECTIONS
from agent.specdoc.template import FieldKind, FieldSpec, SpecTemplate, TemplateSection
from agent.specdoc.template_resolver import load_template

DATA = Path(__file__).parent.parent / "data" / "templates"
ROOT = Path(__file__).resolve().parents[2]

SEED_SHA256 = "06061d652cc295ada6d36e44b4ca1042f6c501c85c71c86bb03df96fc216b74c"

TECH_SPEC_SECTIONS = [
    "Overview",
    "System Architecture",
    "Technical Requirements",
    "Technology Stack",
    "API Specifications",
    "Database Design",
    "Security Specifications",
    "Performance Specifications",
    "Scalability Design",
    "Integration Specifications",
    "Testing Strategy",
    "Deployment Specifications",
    "Monitoring and Observability",
    "Risk Assessment",
    "Implementation Timeline",
    "Dependencies",
    "Success Criteria",
    "Notes",
]


def _spec(section: TemplateSection, *path: str) -> FieldSpec:
    """The field at a top-level key, or inside a subsection group."""
    entry = dict(section.shape)[path[0]]
    if isinstance(entry, FieldSpec):
        assert len(path) == 1
        return entry
    assert len(path) == 2, f"{path[0]} is a group of {[s.key for s in entry]}"
    return {spec.key: spec for spec in entry}[path[1]]


def _compile_text(tmp_path: Path, text: str, name: str = "custom.md") -> SpecTemplate:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_template(str(path))


# --- tech-spec.md -----------------------------------------------------------------------------------


def test_tech_spec_is_the_seed_template_verbatim(tech_spec: SpecTemplate) -> None:
    assert tech_spec.name == "tech-spec"
    assert tech_spec.path.name == "tech-spec.md"
    # the sha256 of the seed template (../shared/seed/tech-spec-template.md) it must equal byte for byte
    assert tech_spec.sha256 == SEED_SHA256
    assert tech_spec.text == (ROOT / "templates" / "tech-spec.md").read_text(encoding="utf-8")


def test_tech_spec_has_18_sections_in_order(tech_spec: SpecTemplate) -> None:
    assert [s.title for s in tech_spec.sections] == TECH_SPEC_SECTIONS
    assert [s.key for s in tech_spec.sections][:3] == [
        "overview",
        "system_architecture",
        "technical_requirements",
    ]
    assert tech_spec.sections[-1].key == "notes"
    outline = tech_spec.outline().splitlines()
    assert [line[3:] for line in outline if line.startswith("## ")] == TECH_SPEC_SECTIONS
    assert "   ### Functional Requirements" in outline


def test_tech_spec_front_matter_title_and_footer(tech_spec: SpecTemplate) -> None:
    assert tech_spec.front_matter == {
        "description": "Technical Specifications - [FEATURE_NAME]",
        "type": "tech-specs",
        # YAML reads the placeholder as a one-item list; the renderer fills it from the brief
        "priority": ["low|medium|high"],
        "status": "planned",
    }
    assert tech_spec.title_line == "# Technical Specifications: [FEATURE_NAME]"
    footer = [line.strip() for line in tech_spec.footer if line.strip()]
    assert footer == [
        "---",
        "**Technical Specifications by**: @agent:rusty",
        "**Date**: [DATE]",
        "**Status**: [DRAFT|REVIEW|APPROVED]",
    ]
    # the footer is not part of the last section
    assert "[DATE]" not in tech_spec.section("notes").source
    assert len(tech_spec.sha256) == 64


def test_tech_spec_prose_field(tech_spec: SpecTemplate) -> None:
    overview = tech_spec.section("overview")
    spec = _spec(overview, "what_are_we_building")
    assert spec.kind is FieldKind.prose
    assert spec.label == "What are we building"
    assert spec.description == "Brief technical description of the feature and its purpose"


def test_tech_spec_code_fences_with_info_strings(tech_spec: SpecTemplate) -> None:
    arch = tech_spec.section("system_architecture")
    diagram = _spec(arch, "high_level_architecture")
    assert diagram.kind is FieldKind.code
    assert diagram.fence_info == ""
    assert diagram.description == "ASCII diagram showing system components and their relationships"
    api = tech_spec.section("api_specifications")
    endpoints = _spec(api, "endpoints")
    schemas = _spec(api, "request_response_schemas")
    assert (endpoints.kind, schemas.kind) == (FieldKind.code, FieldKind.code)
    assert schemas.fence_info == "json"
    assert '"request_schema"' in schemas.examples[0]
    assert "GET    /api/v1/[resource]" in endpoints.examples[0]


def test_tech_spec_key_value_fields(tech_spec: SpecTemplate) -> None:
    arch = tech_spec.section("system_architecture")
    group = dict(arch.shape)["component_overview"]
    assert isinstance(group, list)
    assert [s.key for s in group] == [
        "frontend_components",
        "backend_services",
        "database_schema",
        "external_integrations",
        "infrastructure",
    ]
    assert all(s.kind is FieldKind.text for s in group)
    assert group[0].label == "Frontend Components"
    assert group[0].description == "List of UI components and their responsibilities"
    stack = tech_spec.section("technology_stack")
    assert [k for k, _ in stack.shape] == ["frontend_technologies", "backend_technologies", "infrastructure"]
    assert _spec(stack, "infrastructure", "ci_cd").label == "CI/CD"


def test_tech_spec_numbered_checklists_with_prefixes(tech_spec: SpecTemplate) -> None:
    reqs = tech_spec.section("technical_requirements")
    prefixes = {
        key: (entry.kind, entry.id_prefix) for key, entry in reqs.shape if isinstance(entry, FieldSpec)
    }
    assert prefixes == {
        "functional_requirements": (FieldKind.numbered, "FR"),
        "non_functional_requirements": (FieldKind.numbered, "NFR"),
        "quality_requirements": (FieldKind.numbered, "QR"),
    }
    nfr = _spec(reqs, "non_functional_requirements")
    assert len(nfr.examples) == 5
    assert nfr.examples[0] == "Performance requirement - e.g., <2s response time"
    # identical placeholder texts are merged into one description
    assert _spec(reqs, "functional_requirements").description == "Specific functional requirement"


def test_tech_spec_labelled_and_task_checklists_and_bullets(tech_spec: SpecTemplate) -> None:
    deps = tech_spec.section("dependencies")
    internal = _spec(deps, "internal_dependencies")
    assert internal.kind is FieldKind.labelled
    assert internal.examples == ["Dependency 1", "Dependency 2", "Dependency 3"]
    timeline = tech_spec.section("implementation_timeline")
    assert [k for k, _ in timeline.shape] == [
        "phase_1_foundation_week_1_2",
        "phase_2_core_features_week_3_4",
        "phase_3_integration_week_5_6",
        "phase_4_deployment_week_7_8",
    ]
    phase1 = _spec(timeline, "phase_1_foundation_week_1_2")
    assert phase1.kind is FieldKind.tasks
    assert phase1.examples[0] == "Set up development environment"
    assert _spec(tech_spec.section("success_criteria"), "technical_success").kind is FieldKind.tasks
    notes = tech_spec.section("notes")
    decisions = _spec(notes, "design_decisions")
    assert decisions.kind is FieldKind.bullets
    assert decisions.examples == [
        "Key architectural decisions and rationale",
        "Technology choices and justification",
        "Trade-offs made and reasons",
    ]


def test_tech_spec_table_specifications_group(tech_spec: SpecTemplate) -> None:
    db = tech_spec.section("database_design")
    tables = _spec(db, "table_specifications")
    assert tables.kind is FieldKind.group
    assert [c.key for c in tables.children] == [
        "table_name",
        "purpose",
        "columns",
        "indexes",
        "relationships",
    ]
    assert [c.label for c in tables.children] == [
        "Table Name",
        "Purpose",
        "Columns",
        "Indexes",
        "Relationships",
    ]
    assert tables.children[1].description == "What this table stores"


def test_generated_model_uses_placeholder_as_description(tech_spec: SpecTemplate) -> None:
    security = tech_spec.section("security_specifications")
    assert not security.typed
    schema = security.model.model_json_schema()
    defs = schema["$defs"]
    data_protection = defs[schema["properties"]["data_protection"]["$ref"].rsplit("/", 1)[-1]]
    assert data_protection["properties"]["pii_handling"]["description"] == (
        "How personally identifiable information is handled"
    )
    overview = tech_spec.section("overview").model.model_json_schema()
    assert overview["properties"]["what_are_we_building"]["description"] == (
        "Brief technical description of the feature and its purpose"
    )
    # generated models forbid extra keys and empty values
    with pytest.raises(ValidationError):
        tech_spec.section("overview").model.model_validate({"what_are_we_building": "x", "other": "y"})
    with pytest.raises(ValidationError):
        tech_spec.section("overview").model.model_validate({"what_are_we_building": ""})


def test_typed_models_for_the_tech_spec_sections(tech_spec: SpecTemplate) -> None:
    typed = {s.key: s.model for s in tech_spec.sections if s.typed}
    assert typed == TYPED_SECTIONS
    assert set(typed) == {
        "technical_requirements",
        "api_specifications",
        "database_design",
        "performance_specifications",
        "risk_assessment",
        "testing_strategy",
        "implementation_timeline",
        "success_criteria",
    }
    # each typed model renders to exactly the generic layout of its section
    for key, model in typed.items():
        assert {k for k, _ in tech_spec.section(key).shape} == model.GENERIC_KEYS


ALTERED_REQUIREMENTS = """\
# Spec: [FEATURE_NAME]

## Technical Requirements

### Functional Requirements
- [ ] **FR-001**: [Specific functional requirement]
- [ ] **FR-002**: [Specific functional requirement]

### Constraints
- [ ] **CON-001**: [A constraint on the design]

## Risk Assessment

### Technical Risks
- **Performance Risks**: [Potential performance issues]

### Mitigation Strategies
- **Performance**: [How to mitigate performance risks]
"""


def test_altered_copy_of_a_typed_section_keeps_its_generated_model(tmp_path: Path) -> None:
    template = _compile_text(tmp_path, ALTERED_REQUIREMENTS)
    reqs = template.section("technical_requirements")
    assert not reqs.typed
    assert reqs.model is not TYPED_SECTIONS["technical_requirements"]
    assert [k for k, _ in reqs.shape] == ["functional_requirements", "constraints"]
    assert _spec(reqs, "constraints").id_prefix == "CON"
    # the generated model accepts the altered shape, which the typed one would reject
    reqs.model.model_validate(
        {"functional_requirements": ["Users can export"], "constraints": ["Runs offline"]}
    )
    risks = template.section("risk_assessment")
    assert not risks.typed
    assert risks.model is not TYPED_SECTIONS["risk_assessment"]


def test_unchanged_copy_of_a_typed_section_gets_the_typed_model(
    tmp_path: Path, tech_spec: SpecTemplate
) -> None:
    source = tech_spec.section("risk_assessment").source
    template = _compile_text(tmp_path, f"# Risks: [FEATURE_NAME]\n\n## Intro\n[Why]\n\n{source}\n")
    assert template.section("risk_assessment").typed
    assert not template.section("intro").typed


# --- adr.md -----------------------------------------------------------------------------------------


def test_adr_template() -> None:
    adr = load_template("adr")
    assert [s.title for s in adr.sections] == [
        "Context",
        "Decision",
        "Options Considered",
        "Consequences",
        "Rollout",
        "Ownership",
    ]
    assert not any(s.typed for s in adr.sections)
    assert adr.front_matter["type"] == "adr"
    kinds = {s.key: {k: e.kind for k, e in s.shape if isinstance(e, FieldSpec)} for s in adr.sections}
    assert kinds == {
        "context": {"description": FieldKind.prose},
        "decision": {"we_will": FieldKind.prose},
        "options_considered": {"items": FieldKind.labelled},
        "consequences": {"items": FieldKind.bullets},
        "rollout": {"tasks": FieldKind.tasks},
        "ownership": {"decision_owner": FieldKind.text, "review_date": FieldKind.text},
    }
    assert [line.strip() for line in adr.footer if line.strip()][1:] == [
        "**Decided by**: [AUTHOR]",
        "**Date**: [DATE]",
        "**Status**: [DRAFT|REVIEW|APPROVED]",
    ]


# --- a template of our own (tests/data/templates/runbook.md) ------------------------------------------


@pytest.fixture(scope="module")
def runbook() -> SpecTemplate:
    return load_template(str(DATA / "runbook.md"))


def test_runbook_sections_and_shapes(runbook: SpecTemplate) -> None:
    assert [s.title for s in runbook.sections] == [
        "Summary",
        "Contacts",
        "Services",
        "Symptoms",
        "Commands",
        "Glossary",
        "Checks",
    ]
    assert runbook.front_matter == {
        "description": "Runbook - [FEATURE_NAME]",
        "type": "runbook",
        "owner": ["OWNER"],
    }
    assert not any(s.typed for s in runbook.sections)
    shapes = {
        s.key: [(k, e.kind.value) if isinstance(e, FieldSpec) else (k, "object") for k, e in s.shape]
        for s in runbook.sections
    }
    assert shapes == {
        "summary": [("description", "prose")],
        "contacts": [("primary", "text"), ("escalation", "text")],
        "services": [("service_name", "group")],
        "symptoms": [("items", "bullets")],
        "commands": [("restart", "code"), ("inspect", "code")],
        "glossary": [],
        "checks": [("items", "numbered")],
    }


def test_runbook_nested_group_and_fences(runbook: SpecTemplate) -> None:
    services = _spec(runbook.section("services"), "service_name")
    assert [(c.key, c.label, c.description) for c in services.children] == [
        ("service_name", "Service Name", "service_name"),
        ("port", "Port", "The port it listens on"),
        ("health_url", "Health URL", "The path of its health check"),
    ]
    commands = runbook.section("commands")
    assert commands.subsections == ["Restart", "Inspect"]
    assert [
        (_spec(commands, k).fence_info, _spec(commands, k).description) for k in ("restart", "inspect")
    ] == [
        ("bash", "Command that restarts the service"),
        ("sql", "Query that shows stuck jobs"),
    ]
    assert _spec(runbook.section("checks"), "items").id_prefix == "CHK"
    assert runbook.section("symptoms").shape[0][1].examples == [  # type: ignore[union-attr]
        "A symptom an operator would notice",
        "Another symptom",
    ]


def test_runbook_section_without_placeholders_is_literal(runbook: SpecTemplate) -> None:
    glossary = runbook.section("glossary")
    assert glossary.fields == []
    assert all(block.literal is not None for block in glossary.blocks)
    assert any("fixed text that every runbook shares" in (b.literal or "") for b in glossary.blocks)
    assert glossary.model.model_fields == {}


def test_runbook_generated_models_validate(runbook: SpecTemplate) -> None:
    services = runbook.section("services").model
    good = {"service_name": [{"service_name": "billing-api", "port": "8080", "health_url": "/healthz"}]}
    assert services.model_validate(good).render_data() == good
    with pytest.raises(ValidationError):
        services.model_validate({"service_name": [{"service_name": "billing-api", "port": "8080"}]})
    with pytest.raises(ValidationError):
        services.model_validate({"service_name": []})
    schema = services.model_json_schema()
    entry = next(iter(schema["$defs"].values()))
    assert entry["properties"]["port"]["description"] == "The port it listens on"


def test_runbook_footer(runbook: SpecTemplate) -> None:
    assert [line for line in runbook.footer if line.strip()] == [
        "---",
        "**Written by**: [AUTHOR]",
        "**Date**: [DATE]",
    ]


# --- bad templates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Just a title\n\nSome text with [a placeholder].\n", "has no sections"),
        (
            "# Title\n\n## Overview\nFixed text.\n\n## Notes\nMore fixed text.\n",
            "no section has anything to fill in",
        ),
        ("## Overview\n[Describe it]\n\n## Overview\n[Describe it again]\n", "'## Overview' appears twice"),
        ("## Design\n```\n[ASCII diagram]\n\n## Notes\n[Anything]\n", "never closed"),
        (
            "## Overview\n[Describe {{ ''.__class__.__mro__ }}]\n",
            "line 2 contains template-engine syntax '{{'",
        ),
        ("## Overview\n{% for x in range(3) %}[Describe]{% endfor %}\n", "template-engine syntax '{%'"),
        ("---\ntitle: ok\nowner: a: b\n---\n## Overview\n[Describe]\n", "malformed front matter on line 3"),
        ("---\ndescription: x\n## Overview\n[Describe]\n", "never closed"),
        ("---\n- a\n- b\n---\n## Overview\n[Describe]\n", "front matter must be a mapping"),
    ],
    ids=[
        "no-sections",
        "nothing-to-fill",
        "duplicate-titles",
        "unclosed-fence",
        "jinja-expression",
        "jinja-statement",
        "malformed-front-matter",
        "unclosed-front-matter",
        "front-matter-not-mapping",
    ],
)
def test_bad_templates_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        _compile_text(tmp_path, text, name="bad.md")
    assert expected in info.value.message
    assert "bad.md" in info.value.message  # names the file


def test_duplicate_titles_differing_only_in_punctuation(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="appears twice"):
        _compile_text(tmp_path, "## Auth & Tokens\n[A]\n\n## Auth Tokens\n[B]\n")


def test_jinja_error_is_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as info:
        _compile_text(tmp_path, "## Overview\n[x]\n\n{# comment #}\n")
    assert "line 4" in info.value.message
    assert info.value.hint and "Jinja" in info.value.hint


def test_unknown_template_name_lists_builtins() -> None:
    with pytest.raises(TemplateError) as info:
        load_template("no-such-template")
    assert "Unknown template 'no-such-template'" in info.value.message
    assert info.value.hint and "tech-spec" in info.value.hint and "adr" in info.value.hint


def test_missing_template_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_template(str(tmp_path / "missing.md"))


def test_altered_risk_section_renders_its_own_layout(tmp_path: Path) -> None:
    from agent.specdoc.render import SectionContent, render_section

    template = _compile_text(tmp_path, ALTERED_REQUIREMENTS)
    risks = template.section("risk_assessment")
    data = {"technical_risks": "Mail delivery slows at peak.", "mitigation_strategies": "Queue and retry."}
    text = render_section(risks, SectionContent(data=risks.model.model_validate(data).render_data()))
    assert "- **Performance Risks**: Mail delivery slows at peak." in text
    assert "- **Performance**: Queue and retry." in text
