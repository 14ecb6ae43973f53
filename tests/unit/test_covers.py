"""Requirement citations (``covers``) of testing, timeline and success criteria: schema, render, read-back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agent.drafting.prompting import section_messages
from agent.drafting.reask import validate_answer
from agent.specdoc.document import parse_spec
from agent.specdoc.render import SectionContent, render_section
from agent.specdoc.requirements import defined_requirements, split_covers
from agent.specdoc.schemas.techspec import (
    CoveredItem,
    ImplementationTimeline,
    SuccessCriteria,
    TestingStrategy,
    covering_context,
)
from agent.specdoc.template import SpecTemplate
from agent.specdoc.trace import trace_document

IDS = {"FR-001": "Admins invite by email", "FR-002": "Links expire", "NFR-001": "p95 < 300 ms"}


def _item(text: str, *covers: str) -> dict[str, Any]:
    return {"text": text, "covers": list(covers)}


def _criteria(*covers: str) -> dict[str, Any]:
    return {
        "technical_success": [_item("Invitations arrive within a minute", *covers), _item("No lost invites")],
        "business_success": [_item("Teams invite more members"), _item("Fewer access tickets")],
    }


def _timeline(*covers: str) -> dict[str, Any]:
    phases = ImplementationTimeline.GENERIC_KEYS_ORDER
    return {key: [_item(f"Task one of {key}", *covers), _item(f"Task two of {key}")] for key in phases}


def test_known_ids_validate_and_unknown_ones_are_named(tech_spec: SpecTemplate) -> None:
    context = covering_context(IDS)
    SuccessCriteria.model_validate(_criteria("FR-001", "NFR-001"), context=context)
    with pytest.raises(ValidationError) as info:
        SuccessCriteria.model_validate(_criteria("FR-001", "FR-009"), context=context)
    message = str(info.value)
    assert "FR-009" in message and "does not define" in message
    assert "FR-001, FR-002, NFR-001" in message  # the valid ones are listed for the re-ask
    assert "technical_success.0.covers" in message


def test_a_section_citing_nothing_is_rejected_when_ids_exist() -> None:
    with pytest.raises(ValidationError) as info:
        ImplementationTimeline.model_validate(_timeline(), context=covering_context(IDS))
    assert "no item cites a requirement" in str(info.value)
    # without requirement IDs to cite (another spec, or a check without context) an empty covers is fine
    ImplementationTimeline.model_validate(_timeline())
    ImplementationTimeline.model_validate(_timeline("FR-002"), context=covering_context(IDS))


@pytest.mark.parametrize("bad", ["fr-001", "FR001", "FR-001) ## Heading", "FR-1234567", "**FR-001**", ""])
def test_ids_must_match_the_requirement_pattern(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        SuccessCriteria.model_validate(_criteria(bad))
    assert "covers" in str(info.value)


def test_covers_is_bounded_and_deduplicated() -> None:
    assert CoveredItem(text="Load test", covers=["FR-001", "FR-001"]).covers == ["FR-001"]
    with pytest.raises(ValidationError):
        CoveredItem(text="Load test", covers=[f"FR-{n:03d}" for n in range(1, 9)])


def test_validate_answer_reports_the_unknown_id(tech_spec: SpecTemplate) -> None:
    import json

    section = tech_spec.section("success_criteria")
    answer = json.dumps(_criteria("QR-007"))
    data, problems = validate_answer(answer, section.model, section, context=covering_context(IDS))
    assert data is None and any("QR-007" in p and "FR-001" in p for p in problems)
    data, problems = validate_answer(answer, section.model, section)
    assert data is not None and problems == []


def _testing() -> dict[str, Any]:
    return {
        "unit_testing": {
            "coverage_target": _item("Over 90% of the invite module", "FR-001"),
            "testing_framework": _item("pytest"),
            "mocking_strategy": _item("An in-memory outbox replaces the mailer", "FR-001", "FR-002"),
            "test_data": _item("Factories per test"),
        },
        "integration_testing": {
            "api_testing": _item("# Not a heading\n--- nor a rule", "NFR-001"),
            "database_testing": _item("A disposable PostgreSQL"),
            "external_service_testing": _item("The mail sandbox"),
        },
        "end_to_end_testing": {
            "user_journey_testing": _item("Invite, accept, sign up", "FR-002"),
            "cross_browser_testing": _item("Chrome and Firefox"),
            "performance_testing": _item("k6 at 50 requests per second", "NFR-001"),
        },
    }


def test_render_then_read_back_round_trips_covers(tech_spec: SpecTemplate) -> None:
    section = tech_spec.section("testing_strategy")
    data = TestingStrategy.model_validate(_testing(), context=covering_context(IDS))
    rendered = render_section(section, SectionContent(data=data.render_data()))
    assert "- **Mocking Strategy**: An in-memory outbox replaces the mailer (FR-001, FR-002)" in rendered
    assert "- **Testing Framework**: pytest\n" in rendered  # no covers, nothing added
    # model text adds no structure: the heading and rule stay inside the item's line
    assert "\n#" not in rendered.replace("\n### ", "") and "\n---" not in rendered
    doc = parse_spec(f"# Spec\n\n{rendered}\n")
    read: dict[str, list[str]] = {}
    for line in doc.sections[0].text.splitlines():
        if line.startswith("- **"):
            label, _, value = line[4:].partition("**: ")
            read[label] = split_covers(value)[1]
    cited = {item.text: item.covers for _, item in data.covered_items()}
    assert len(read) == len(cited) == 10
    assert sorted(map(tuple, read.values())) == sorted(map(tuple, cited.values()))
    assert CoveredItem.parse(CoveredItem(text="Ship it", covers=["FR-002"]).render()) == CoveredItem(
        text="Ship it", covers=["FR-002"]
    )
    assert CoveredItem.parse("Upgrade (see notes)") == CoveredItem(text="Upgrade (see notes)", covers=[])


def test_trace_reads_the_rendered_citations(tech_spec: SpecTemplate) -> None:
    requirements = (
        "## Technical Requirements\n\n### Functional Requirements\n"
        "- [ ] **FR-001**: Admins invite by email\n- [ ] **FR-002**: Links expire\n\n"
        "### Non-Functional Requirements\n- [ ] **NFR-001**: p95 < 300 ms\n"
    )
    parts = [requirements]
    for key, data in (
        ("testing_strategy", _testing()),
        ("implementation_timeline", _timeline("FR-002")),
        ("success_criteria", _criteria("FR-001")),
    ):
        section = tech_spec.section(key)
        model = section.model.model_validate(data, context=covering_context(IDS))
        parts.append(render_section(section, SectionContent(data=model.render_data())))
    text = "# Spec\n\n" + "\n\n".join(parts) + "\n"
    assert defined_requirements(text) == IDS
    matrix = {r.id: r.covered_by for r in trace_document(parse_spec(text)).requirements}
    assert len(matrix["FR-001"]["tests"]) == 2 and len(matrix["FR-001"]["criteria"]) == 1
    assert matrix["FR-001"]["tasks"] == []
    assert len(matrix["FR-002"]["tasks"]) == 4 and len(matrix["FR-002"]["tests"]) == 2
    assert len(matrix["NFR-001"]["tests"]) == 2


def test_the_prompt_lists_the_ids_to_cite(tech_spec: SpecTemplate) -> None:
    section = tech_spec.section("success_criteria")
    prefix = [{"role": "system", "content": "system"}]
    task = section_messages(prefix, section, section.model, [], requirements=IDS)[-1]["content"]
    assert "- FR-001: Admins invite by email\n- FR-002: Links expire\n- NFR-001: p95 < 300 ms" in task
    assert '"covers"' in task
    plain = section_messages(prefix, section, section.model, [])[-1]["content"]
    assert "- FR-001:" not in plain and "Requirements of this spec" not in plain


def test_export_reads_a_tasks_covers(tech_spec: SpecTemplate) -> None:
    from agent.integrations.export.tasks import tasks_of

    section = tech_spec.section("implementation_timeline")
    data = ImplementationTimeline.model_validate(
        _timeline("FR-002", "NFR-001"), context=covering_context(IDS)
    )
    requirements = (
        "## Technical Requirements\n\n- [ ] **FR-002**: Links expire\n- [ ] **NFR-001**: p95 < 300 ms\n"
    )
    text = f"# Spec\n\n{requirements}\n{render_section(section, SectionContent(data=data.render_data()))}\n"
    tasks = tasks_of(parse_spec(text))
    assert len(tasks) == 8
    assert tasks[0].title == "Task one of phase_1_foundation_week_1_2"
    assert tasks[0].requirements == ("FR-002", "NFR-001") and tasks[1].requirements == ()
    assert tasks[0].requirement_texts == {"FR-002": "Links expire", "NFR-001": "p95 < 300 ms"}


# -- the same citing sections in every template language -------------------------------------------


def _citing(name_or_path: str) -> list[str]:
    from agent.specdoc.schemas.techspec import CoveringSection
    from agent.specdoc.template_resolver import load_template

    template = load_template(name_or_path)
    return [s.title for s in template.sections if issubclass(s.model, CoveringSection)]


def test_translated_templates_cite_requirements_in_the_same_sections_as_the_english_one() -> None:
    assert _citing("tech-spec") == ["Testing Strategy", "Implementation Timeline", "Success Criteria"]
    assert _citing("tech-spec-de") == ["Teststrategie", "Zeitplan", "Erfolgskriterien"]
    assert _citing("tech-spec-es") == [
        "Estrategia de pruebas",
        "Calendario de implementación",
        "Criterios de éxito",
    ]
    # a Chinese template's test strategy is told by its heading too
    assert _citing(str(Path(__file__).parents[1] / "data" / "languages" / "template-zh.md")) == ["测试策略"]
    # no requirement IDs, nothing to cite: the ADR's Rollout (a task list) stays as it was
    assert _citing("adr") == []


def test_a_generated_citing_section_validates_renders_and_waits_for_the_requirements() -> None:
    from agent.drafting.plan import dependencies
    from agent.specdoc.template_resolver import load_template

    template = load_template("tech-spec-de")
    section = template.section("zeitplan")
    ids = {"FA-001": "Einladen per E-Mail", "NFA-001": "300 ms"}
    phases = [key for key, _ in section.shape]
    data = {key: [_item("Tabelle anlegen", "FA-001"), _item("Endpunkt bauen")] for key in phases}
    content = section.model.model_validate(data, context=covering_context(ids))
    rendered = render_section(section, SectionContent(data=content.render_data()))
    assert "- [ ] Tabelle anlegen (FA-001)" in rendered and "- [ ] Endpunkt bauen\n" in rendered
    with pytest.raises(ValidationError, match="ZZ-009"):
        section.model.model_validate(
            {key: [_item("Tabelle anlegen", "ZZ-009"), _item("Endpunkt bauen")] for key in phases},
            context=covering_context(ids),
        )
    # a one-line value cites too, and the sections that cite wait for the one that defines the IDs
    tests = template.section("teststrategie").model.model_json_schema()
    assert "covers" in str(tests)
    graph = dependencies(template)
    for key in ("teststrategie", "zeitplan", "erfolgskriterien"):
        assert "technische_anforderungen" in graph[key]


def test_a_template_of_ones_own_cites_by_its_section_titles(tmp_path: Any) -> None:
    template = tmp_path / "plan.md"
    template.write_text(
        "# Plan: [FEATURE_NAME]\n\n## Anforderungen\n- [ ] **AN-001**: [Anforderung]\n\n"
        "## Abnahmetests\n- **Ablauf**: [Wie getestet wird]\n\n## Betrieb\n- **Hosting**: [Wo es läuft]\n",
        encoding="utf-8",
    )
    assert _citing(str(template)) == ["Abnahmetests"]
