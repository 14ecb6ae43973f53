"""Requirement smells: each rule fires on typical wording and stays silent on hard negatives."""

from __future__ import annotations

import pytest

from agent.specdoc.smells import DRAFTING_SMELLS, SMELLS, detect, drafting_problems

FIRES: dict[str, list[str]] = {
    "smell-subjective": [
        "The booking form shall be user-friendly.",
        "The report builder shall be easy to use for clerks.",
        "The navigation shall be intuitive.",
    ],
    "smell-vague": [
        "The service shall respond quickly to status requests.",
        "The archive shall provide adequate capacity.",
        "The parser shall be robust against malformed input.",
    ],
    "smell-loophole": [
        "The system shall encrypt backups if possible.",
        "The app shall cache map tiles where feasible.",
        "The gateway shall alert the operator as appropriate.",
    ],
    "smell-open-ended": [
        "The importer shall read CSV, XLSX, etc.",
        "The profile shall store the name, email and so on.",
        "The log shall include, including but not limited to, logins and logouts.",
    ],
    "smell-superlative": [
        "The planner shall compute the best route.",
        "The engine shall use the fastest index.",
        "The keystore shall be the most secure store.",
    ],
    "smell-comparative": [
        "The new release shall start faster.",
        "The cache shall make reads more reliable.",
        "The viewer shall provide better image quality.",
    ],
    "smell-universal": [
        "The service shall always be reachable.",
        "The tool shall never crash.",
        "All errors shall be logged.",
    ],
    "smell-weak-modal": [
        "The system should email a receipt after each payment.",
        "The clerk may export the list as CSV.",
        "The kiosk might print a ticket.",
    ],
    "smell-pronoun": [
        "It shall reject expired cards.",
        "This shall be recorded in the audit log.",
        "The client sends the file to the server and it shall store the checksum.",
    ],
    "smell-compound": [
        "The system shall validate the form and send a confirmation to the user.",
        "The viewer shall show the map and/or the table.",
        "The pump shall stop. The operator shall be notified.",
    ],
    "smell-vague-quantity": [
        "The app shall support several currencies.",
        "The list shall show some recent orders.",
        "The queue shall hold many messages.",
    ],
}

HARD_NEGATIVES = [
    "The system shall store all transaction records for at least 7 years.",
    "All API requests shall be authenticated with an OAuth 2.0 bearer token.",
    "The firmware shall be updatable over the air. Rationale: site visits should be avoided.",
    "The new parser shall be faster than 200 ms per document.",
    "Response time shall be better than 2 seconds for 90% of transactions.",
    "The scanner shall beep when it reads a valid badge.",
    "The system shall grant read and write access to project members.",
    "The system shall provide search and replace for templates.",
    "The controller shall never open both valves at the same time.",
    "The report shall show the most recent 10 invoices.",
    "The system shall accept one or more attachments per message.",
    "The app shall show the distance to the nearest charging station in kilometres.",
    "This report shall list the open incidents of the current shift.",
    "The library shall run on Python 3.11 or higher.",
    "The system shall keep at most 5 versions of each file.",
]


@pytest.mark.parametrize(("rule", "text"), [(r, t) for r, texts in FIRES.items() for t in texts])
def test_rule_fires(rule: str, text: str) -> None:
    rules = {smell.rule for smell in detect(text)}
    assert rule in rules, (text, rules)


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negative_is_clean(text: str) -> None:
    assert detect(text) == []


def test_every_rule_is_covered_and_says_how_to_fix() -> None:
    assert set(FIRES) == set(SMELLS) - {"smell-passive"}, "every English rule (passive: German, Spanish)"
    smell = detect("The system shall support several languages if possible.")
    assert [s.rule for s in smell] == ["smell-loophole", "smell-vague-quantity"]
    assert "'if possible'" in smell[0].message and "drop the escape clause" in smell[0].message


def test_drafting_rejects_only_the_precise_smells() -> None:
    assert set(SMELLS) > DRAFTING_SMELLS
    assert drafting_problems("The page shall be user-friendly and fast.", "fr[0]") == []
    problems = drafting_problems("The page shall list orders, invoices, etc.", "fr[0]")
    assert len(problems) == 1 and problems[0].startswith("fr[0]: an open-ended list ('etc')")
