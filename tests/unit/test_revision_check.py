"""refine's revision check: a revision must make the requested change, in the spec's own words."""

from __future__ import annotations

from agent.drafting.refine import CHANGE_MISSING, QUOTED_REQUEST, UNCHANGED, request_names, revision_check
from agent.specdoc.render import SectionContent, render_section
from agent.specdoc.template import SpecTemplate

BEFORE = "Workspace admins invite colleagues by email with a link valid for 7 days."


def _problems(tech_spec: SpecTemplate, instruction: str, revised: str) -> list[str]:
    section = tech_spec.section("overview")
    before = render_section(section, SectionContent(data={"what_are_we_building": BEFORE}))
    data = section.model.model_validate({"what_are_we_building": revised})
    return revision_check(section, before, instruction)("{}", data)


def test_a_revision_with_the_change_passes(tech_spec: SpecTemplate) -> None:
    revised = "Workspace admins invite colleagues by email; invitees sign in with Okta single sign-on."
    assert _problems(tech_spec, "Mention that invitees sign in with Okta", revised) == []


def test_the_section_as_it_was_is_re_asked(tech_spec: SpecTemplate) -> None:
    assert _problems(tech_spec, "make the link valid for 3 days", BEFORE) == [UNCHANGED]


def test_the_request_pasted_in_is_re_asked(tech_spec: SpecTemplate) -> None:
    assert _problems(tech_spec, "Add Okta single sign-on", "Add Okta single sign-on.") == [QUOTED_REQUEST]


def test_a_revision_without_the_requests_names_is_re_asked(tech_spec: SpecTemplate) -> None:
    revised = "Workspace admins invite colleagues by email; the link stays valid for 7 days."
    assert _problems(tech_spec, "Mention that invitees sign in with Okta", revised) == [
        CHANGE_MISSING.format(words="Okta")
    ]


def test_a_removal_need_not_name_what_it_removes(tech_spec: SpecTemplate) -> None:
    assert _problems(tech_spec, "remove the Slack notification", "Admins invite colleagues by email.") == []


def test_request_names_are_names_and_numbers_past_the_first_word() -> None:
    assert request_names("Use PostgreSQL 16 instead of MySQL") == ["PostgreSQL", "16", "MySQL"]
    assert request_names("drop the admin role") == []
