"""Every lint rule says how to fix what it reports (the review page shows it beside the finding)."""

from __future__ import annotations


def test_every_lint_rule_says_how_to_fix_it() -> None:
    from agent.checks.lint import FIXES, RULES

    assert set(FIXES) == set(RULES) and all(FIXES.values())
