"""Lint rules: each one triggered by a small edit of a clean spec, and silent on the clean spec itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.checks.lint import RULES, Finding, failed, lint_text, summary_line
from agent.errors import InputError
from agent.specdoc.template_resolver import read_template_outline, resolve_template_path

SPECS = Path(__file__).parent.parent / "data" / "specs"
CLEAN = (SPECS / "clean.md").read_text(encoding="utf-8")
OUTLINE = read_template_outline(resolve_template_path("tech-spec"))


def lint(text: str) -> list[Finding]:
    return lint_text(text, OUTLINE, source="spec.md")


def edited(*pairs: tuple[str, str]) -> str:
    text = CLEAN
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_clean_spec_has_no_findings() -> None:
    assert lint(CLEAN) == []
    assert summary_line([]) == "lint: clean (0 errors, 0 warnings)"


def test_lint_text_defaults_to_the_template_the_spec_names() -> None:
    assert lint_text(CLEAN) == []


UNTRACED = [("(FR-002)", ""), ("(FR-002)", ""), ("FR-001 to FR-003", "FR-001 and FR-003")]

# (rule, edits to the clean spec, expected line, a fragment of the message)
CASES: list[tuple[str, list[tuple[str, str]], int, str]] = [
    (
        "section-missing",
        [("## Dependencies\n", "## Depends\n")],
        281,
        "'## Dependencies' is missing",
    ),
    (
        "section-missing",
        [("### Quality Requirements\n", "")],
        53,
        "'### Quality Requirements' is missing",
    ),
    (
        "section-order",
        [("## Overview\n", "## Overview2\n"), ("## Notes\n", "## Overview\n")],
        299,
        "'## Overview' should come before '## System Architecture'",
    ),
    ("section-duplicate", [("## Notes\n", "## Overview\n")], 299, "'## Overview' appears twice"),
    ("section-extra", [("## Notes\n", "## Appendix\n\nx\n\n## Notes\n")], 299, "not a section of template"),
    (
        "section-empty",
        [
            (
                "### Design Decisions\n- Tokens are random",
                "### Design Decisions\n\n### Unused\n- Tokens are random",
            )
        ],
        301,
        "'Design Decisions' has no content",
    ),
    (
        "placeholder",
        [("- **Framework**: React", "- **Framework**: [e.g., React, Vue, Angular]")],
        58,
        "'[e.g.",
    ),
    (
        "placeholder",
        [("- **Framework**: React", "- **Framework**: e.g., React, Vue, Angular")],
        58,
        "choose one",
    ),
    ("placeholder", [("- **Framework**: React", "- **Framework**: TBD")], 58, "'TBD' left"),
    ("placeholder", [("- **Framework**: React", "- **Framework**: TODO pick one")], 58, "'TODO' left"),
    (
        "placeholder",
        [("- **Framework**: React", "- **Framework**: Specific functional requirement")],
        58,
        "Template text left unchanged",
    ),
    ("placeholder", [("/api/v1/invitations/accept", "/api/v1/[resource]")], 88, "'[resource]'"),
    ("placeholder", [("**Date**: 2026-11-25", "**Date**: [DATE]")], 310, "'[DATE]'"),
    (
        "placeholder",
        [("priority: high", "priority: [low|medium|high]")],
        4,
        "'priority' is still a placeholder",
    ),
    (
        "placeholder",
        [("Specifications - Team invitations by email", "Specifications - [FEATURE_NAME]")],
        2,
        "'description' is still",
    ),
    (
        "example-left",
        [("- **Framework**: React", "- **Framework**: React (e.g. for the dialog)")],
        58,
        "e.g.",
    ),
    (
        "needs-attention",
        [("- **Framework**: React", "[NEEDS ATTENTION: failed 3 times]")],
        58,
        "failed 3 times",
    ),
    (
        "needs-clarification",
        [("- **Framework**: React", "- **Framework**: [NEEDS CLARIFICATION: which UI stack?]")],
        58,
        "which UI stack?",
    ),
    ("req-id-duplicate", [("**FR-003**", "**FR-002**")], 42, "FR-002 is defined twice (first on line 41)"),
    ("req-id-sequence", [("**FR-003**", "**FR-004**")], 42, "expected FR-003"),
    (
        "req-id-sequence",
        [("**QR-001**", "**QR-002**"), ("**QR-002**: Every", "**QR-001**: Every")],
        51,
        "expected QR-001",
    ),
    (
        "nfr-not-measurable",
        [
            (
                "**NFR-003**: Security: invitation tokens carry at least 128 bits of randomness",
                "**NFR-003**: Security",
            )
        ],
        47,
        "NFR-003 has no measurable target",
    ),
    (
        "smell-vague",
        [("An admin lists, resends", "A fast and robust way to list, resend")],
        42,
        "'fast', 'robust'",
    ),
    (
        "smell-vague",
        [("- **Page Load**: Invitations page interactive within 2 s", "- **Page Load**: Fast")],
        160,
        "'fast'",
    ),
    (
        "smell-subjective",
        [
            (
                "An admin lists, resends and revokes pending invitations",
                "An admin has an intuitive page to list pending invitations",
            )
        ],
        42,
        "'intuitive'",
    ),
    (
        "smell-loophole",
        [
            (
                "An admin lists, resends and revokes pending invitations",
                "An admin lists pending invitations where feasible",
            )
        ],
        42,
        "'where feasible'",
    ),
    (
        "smell-open-ended",
        [
            (
                "An admin lists, resends and revokes pending invitations",
                "An admin lists pending invitations, expired invitations, etc.",
            )
        ],
        42,
        "'etc'",
    ),
    (
        "smell-superlative",
        [
            (
                "An admin lists, resends and revokes pending invitations",
                "An admin sees pending invitations in the best order",
            )
        ],
        42,
        "'best'",
    ),
    (
        "smell-comparative",
        [
            (
                "An admin lists, resends and revokes pending invitations",
                "An admin finds pending invitations faster",
            )
        ],
        42,
        "'faster'",
    ),
    (
        "smell-universal",
        [("An admin lists, resends and revokes pending invitations", "An admin can always see everything")],
        42,
        "'always'",
    ),
    (
        "smell-weak-modal",
        [
            (
                "An admin lists, resends and revokes pending invitations",
                "An admin should be able to list pending invitations",
            )
        ],
        42,
        "'should'",
    ),
    (
        "smell-pronoun",
        [
            (
                "An admin lists, resends and revokes pending invitations",
                "It lists pending invitations for an admin",
            )
        ],
        42,
        "'it'",
    ),
    (
        "smell-compound",
        [
            (
                "An admin lists, resends and revokes pending invitations",
                "An admin shall list pending invitations and/or revoke them",
            )
        ],
        42,
        "'and/or'",
    ),
    (
        "smell-vague-quantity",
        [
            (
                "An admin lists, resends and revokes pending invitations",
                "An admin lists several pending invitations at once",
            )
        ],
        42,
        "'several'",
    ),
    (
        "endpoint-invalid",
        [("DELETE /api/v1/invitations/:id ", "REMOVE /api/v1/invitations/:id ")],
        87,
        "REMOVE",
    ),
    (
        "endpoint-invalid",
        [("DELETE /api/v1/invitations/:id ", "DELETE api/v1/invitations/:id ")],
        87,
        "not a path",
    ),
    (
        "endpoint-duplicate",
        [("POST   /api/v1/invitations/accept ", "POST   /api/v1/invitations/{id}/resend ")],
        88,
        "listed twice (first on line 86)",
    ),
    ("fr-untraced", UNTRACED, 41, "FR-002 is not referenced"),
    ("status-missing", [("status: DRAFT\n", "")], 1, "no 'status'"),
    ("status-missing", [("**Status**: DRAFT", "**State**: DRAFT")], 307, "no '**Status**:' line"),
    ("status-invalid", [("status: DRAFT", "status: planned")], 1, "'planned' is not one of"),
    ("status-mismatch", [("**Status**: DRAFT", "**Status**: APPROVED")], 311, "Footer says 'APPROVED'"),
    ("title-missing", [("# Technical Specifications: Team invitations by email\n", "")], 1, "no '# ' title"),
    # structure model text can smuggle in (the renderer escapes it; lint finds it in a hand-edited spec)
    (
        "structure-unexpected",
        [("role the admin chose.\n", "role the admin chose.\n=====\n")],
        20,
        "makes it a heading",
    ),
    (
        "structure-unexpected",
        [("role the admin chose.\n", "role the admin chose.\n---\n")],
        20,
        "makes it a heading",
    ),
    ("structure-unexpected", [("role the admin chose.\n", "role the admin chose.\n\n##\n")], 21, "empty"),
    ("structure-unexpected", [("role the admin chose.\n", "role the admin chose.\n\n- - -\n")], 21, "break"),
    (
        "structure-unexpected",
        [("role the admin chose.\n", "role the admin chose.\n\n# Injected\n")],
        21,
        "second '# ' title",
    ),
    ("control-character", [("Workspace admins", "Workspace \x1b[2Jadmins")], 18, "U+001B"),
    ("control-character", [("Workspace admins", "Workspace \u202eadmins")], 18, "U+202E"),
    ("secret-like", [("Workspace admins", "Workspace sk-live0123456789abcdefghij admins")], 18, "API key"),
    ("secret-like", [("Workspace admins", "Workspace AKIAIOSFODNN7EXAMPLE admins")], 18, "AWS"),
]


@pytest.mark.parametrize(
    ("rule", "edits", "line", "fragment"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rule_triggers(rule: str, edits: list[tuple[str, str]], line: int, fragment: str) -> None:
    findings = lint(edited(*edits))
    hits = [f for f in findings if f.rule == rule]
    assert hits, f"{rule} not reported; got {findings}"
    assert any(fragment in f.message for f in hits), hits
    assert any(f.line == line for f in hits), [(f.line, f.message) for f in hits]
    assert all(f.severity == RULES[rule][0] for f in hits)


#: rules that need the spec's brief: triggered in tests/unit/test_grounding.py
BRIEF_RULES = {"off-topic", "brief-uncovered"}


def test_every_rule_has_a_triggering_case() -> None:
    # the two rules that read a spec's --context files are triggered in tests/unit/test_context.py,
    # smell-passive (German and Spanish specs) in tests/unit/test_smells_languages.py
    others = {"endpoint-conflict", "table-unknown", "smell-passive"}
    assert {c[0] for c in CASES} | others == set(RULES) - BRIEF_RULES


def test_findings_name_the_section_and_are_sorted() -> None:
    findings = lint(edited(("**FR-003**", "**FR-002**"), ("- **Framework**: React", "- **Framework**: TBD")))
    assert [f.line for f in findings] == sorted(f.line for f in findings)
    duplicate = next(f for f in findings if f.rule == "req-id-duplicate")
    assert duplicate.section == "Technical Requirements / Functional Requirements"


def test_measurable_targets_accepted() -> None:
    for target in [
        "p99 below 1 s",
        "99.95% monthly availability",
        "error ratio 1:10000",
        "at most 1 in 1000 emails bounced",
        "500 concurrent users",
        "20 ms median lookup",
        "10 GB of storage",
    ]:
        text = edited(("Security: invitation tokens carry at least 128 bits of randomness", target))
        assert not [f for f in lint(text) if f.rule == "nfr-not-measurable"], target


def test_json_arrays_and_links_are_not_placeholders() -> None:
    text = edited(
        ('"enum": ["member", "admin"]', '"enum": ["member", "admin"], "ids": [1, 2], "x": [ok]'),
        ("One Alembic migration", "One [Alembic](https://alembic.sqlalchemy.org) migration, see [1]"),
    )
    placeholders = [f for f in lint(text) if f.rule == "placeholder"]
    assert [f.message for f in placeholders] == ["Unfilled template placeholder '[ok]'."]


def test_traceability_accepts_ranges() -> None:
    text = edited(
        ("(FR-001, FR-003)", "(FR-001..FR-003)"), ("(FR-002)", ""), ("(FR-001)", ""), ("(FR-003)", "")
    )
    text = text.replace("FR-001 to FR-003", "all of them")
    assert not [f for f in lint(text) if f.rule == "fr-untraced"]


def test_summary_and_strict() -> None:
    flawed = (SPECS / "flawed.md").read_text(encoding="utf-8")
    findings = lint(flawed)
    assert summary_line(findings) == "lint: 9 errors, 5 warnings (1 NEEDS ATTENTION, 1 NEEDS CLARIFICATION)"
    warnings_only = lint(edited(*UNTRACED))
    assert summary_line(warnings_only) == "lint: 0 errors, 1 warning"
    assert not failed(warnings_only)
    assert failed(warnings_only, strict=True)


def test_the_template_itself_fails() -> None:
    template = resolve_template_path("tech-spec").read_text(encoding="utf-8")
    findings = lint(template)
    rules = {f.rule for f in findings}
    assert {"placeholder", "status-invalid"} <= rules
    assert failed(findings)


def test_not_a_spec() -> None:
    with pytest.raises(InputError, match="not a spec"):
        lint("Just a note.\n")


def test_a_section_needing_attention_is_one_finding_not_one_per_empty_subsection() -> None:
    section = CLEAN.split("## Technology Stack\n", 1)[1].split("## API Specifications", 1)[0]
    subsections = "### Frontend Technologies\n### Backend Technologies\n### Infrastructure\n\n"
    hollow = "[NEEDS ATTENTION: not drafted]\n" + subsections
    findings = lint(CLEAN.replace(section, hollow))
    assert [(f.rule, f.line) for f in findings] == [("needs-attention", 56)]
