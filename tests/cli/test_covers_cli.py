"""Drafted specs cite their requirements: the trace matrix of a draft, and the re-ask on an unknown ID."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from helpers.cli import invoke
from helpers.fault_server import UNKNOWN_ID, FaultServer

ROOT = Path(__file__).resolve().parents[2]
BRIEFS = ROOT / "examples" / "briefs"


def _draft(fault_server: FaultServer, out: Path, *extra: str | Path) -> None:
    code, _, err = invoke(
        "draft", BRIEFS / "team-invitations.md", "-o", out, "--base-url", fault_server.base_url,
        "--model", "fault-model", "--max-retries", "1", "--parallel", "1", *extra,
    )  # fmt: skip
    assert code == 0, err


def test_trace_of_a_drafted_spec_shows_tests_tasks_and_criteria(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    out = tmp_path / "spec.md"
    _draft(fault_server, out)
    text = out.read_text(encoding="utf-8")
    # the citations are rendered after the items' text
    assert re.search(
        r"^- \*\*Coverage Target\*\*: .+ \((?:FR|NFR|QR)-\d{3}(?:, [A-Z]+-\d{3})*\)$", text, re.M
    )
    assert re.search(r"^- \[ \] .+ \(FR-\d{3}(?:, [A-Z]+-\d{3})*\)$", text, re.M)
    # each covering section's prompt listed the requirement IDs it could cite
    prompts = [json.dumps(r.body) for r in fault_server.chat_requests()]
    assert sum("- FR-001: " in p for p in prompts) == 3
    code, stdout, err = invoke("trace", out, "--json")
    assert code == 0, err  # nothing uncovered
    matrix = json.loads(stdout)
    assert matrix["uncovered"] == [] and matrix["traced_share"] == 1.0
    functional = [r for r in matrix["requirements"] if r["id"].startswith("FR-")]
    assert len(functional) >= 3
    for requirement in functional:
        assert requirement["tests"] and requirement["tasks"] and requirement["criteria"], requirement
    _, stdout, _ = invoke("lint", out, "--json")
    findings = json.loads(stdout)["files"][0]["findings"]
    assert "fr-untraced" not in {f["rule"] for f in findings}


def test_an_unknown_requirement_id_is_re_asked_naming_it(tmp_path: Path, fault_server: FaultServer) -> None:
    out = tmp_path / "spec.md"
    fault_server.unknown_ids = 1  # the first section that cites requirements cites ZZ-999 once
    _draft(fault_server, out)
    requests = fault_server.chat_requests()
    assert [r.action for r in requests].count("unknown_ids") == 1
    first = next(i for i, r in enumerate(requests) if r.action == "unknown_ids")
    retry = requests[first + 1]
    repair = retry.body["messages"][-1]["content"]
    assert UNKNOWN_ID in repair and "does not define" in repair and "FR-001" in repair
    rejected = retry.body["messages"][-2]  # the rejected answer, quoted back
    assert rejected["role"] == "assistant" and UNKNOWN_ID in rejected["content"]
    text = out.read_text(encoding="utf-8")
    assert UNKNOWN_ID not in text and "[NEEDS ATTENTION" not in text


def test_refine_keeps_covers_checked_against_the_specs_requirements(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    from agent.drafting.refine import RefineOptions, Refiner
    from agent.llm.providers import ModelSettings, Provider, open_endpoint

    out = tmp_path / "spec.md"
    _draft(fault_server, out)
    fault_server.received.clear()
    fault_server.unknown_ids = 1
    settings = ModelSettings(
        provider=Provider.compatible, base_url=(fault_server.base_url,), model="fault-model"
    )
    with open_endpoint(settings) as endpoint:
        refiner = Refiner(out, endpoint, settings, RefineOptions(max_retries=1))
        proposal = refiner.propose("Measure invitation acceptance weekly.", sections=["Success Criteria"])
    assert [c.title for c in proposal.changes] == ["Success Criteria"], proposal.failures
    requests = fault_server.chat_requests()
    assert [r.action for r in requests] == ["unknown_ids", "valid"]
    asked = requests[0].body["messages"][-1]["content"]
    assert "- FR-001: " in asked and "## Success Criteria" in asked  # the IDs, and the section as it reads
    assert UNKNOWN_ID in requests[1].body["messages"][-1]["content"]
    after = proposal.changes[0].after
    assert re.search(r"^- \[ \] .+ \(FR-\d{3}(?:, [A-Z]+-\d{3})*\)$", after, re.M) and UNKNOWN_ID not in after


def test_without_drafted_requirements_nothing_may_be_cited(tmp_path: Path, fault_server: FaultServer) -> None:
    """Technical Requirements marked: the covering sections' schema allows no ID (a model given only the
    ID pattern invented API-123 for every item)."""
    fault_server.invalid_when = 'section "Technical Requirements"'
    out = tmp_path / "spec.md"
    code, _, err = invoke(
        "draft", BRIEFS / "team-invitations.md", "-o", out, "--base-url", fault_server.base_url,
        "--model", "fault-model", "--max-retries", "0", "--parallel", "1",
    )  # fmt: skip
    assert code == 3, err
    covering = [
        r.body["response_format"]["json_schema"]["schema"]
        for r in fault_server.chat_requests()
        if '"covers"' in json.dumps(r.body["response_format"])
    ]
    assert len(covering) == 3  # testing strategy, timeline, success criteria
    for schema in covering:
        limits = [node["properties"]["covers"].get("maxItems") for node in _with_covers(schema)]
        assert limits and set(limits) == {0}, limits
    assert not re.search(r"\((?:FR|NFR|QR)-\d{3}", out.read_text(encoding="utf-8"))


def _with_covers(node: object) -> list[dict[str, Any]]:
    """Every schema node of ``node`` that has a ``covers`` property."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict) and "covers" in node["properties"]:
            found.append(node)
        for value in node.values():
            found.extend(_with_covers(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_with_covers(value))
    return found
