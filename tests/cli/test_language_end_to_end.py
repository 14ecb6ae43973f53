"""A German brief drafted with the German template against the stand-in server, whose answers are the
German good answers of the labelled corpus: the spec is German, and lint, trace, eval and grounding judge
it as they judge an English one (and flag the same spec held to another feature's brief)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from helpers.cli import invoke
from helpers.fault_server import FaultServer

from agent.specdoc.document import load_spec
from agent.specdoc.schemas.base import json_schema
from agent.specdoc.template_resolver import load_template

DATA = Path(__file__).resolve().parents[1] / "data"
ANSWERS = DATA / "answers-de" / "team-invitations.yaml"
BRIEF = DATA / "languages" / "brief-de-invitations.md"
OTHER_BRIEF = DATA / "languages" / "brief-de-export.md"


def _german_replies() -> dict[str, str]:
    """Schema name (what the server sees) -> the corpus's good German answer for that section."""
    corpus = yaml.safe_load(ANSWERS.read_text(encoding="utf-8"))
    template = load_template(corpus["template"])
    names = {s.key: json_schema(s.model)["title"] for s in template.sections}
    return {names[a["section"]]: json.dumps(a["answer"], ensure_ascii=False) for a in corpus["answers"]}


def _draft(fault_server: FaultServer, tmp_path: Path) -> Path:
    fault_server.replies.update(_german_replies())
    brief = tmp_path / "brief.md"
    brief.write_text(BRIEF.read_text(encoding="utf-8"), encoding="utf-8")
    spec = tmp_path / "spec.md"
    code, _, err = invoke(
        "draft", brief, "-t", "tech-spec-de", "-o", spec,
        "--base-url", fault_server.base_url, "--model", "fault-model",
    )  # fmt: skip
    assert code == 0, err  # no section marked: every German answer passed every check
    return spec


def test_a_german_draft_is_german_and_lints_traces_and_evaluates(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    spec = _draft(fault_server, tmp_path)
    doc = load_spec(spec)
    assert doc.front_matter["language"] == "de"
    assert [s.title for s in doc.sections][:3] == [
        "Überblick",
        "Systemarchitektur",
        "Technische Anforderungen",
    ]
    text = spec.read_text(encoding="utf-8")
    assert "**FA-001**" in text and "**NFA-001**" in text and "NEEDS ATTENTION" not in text

    code, out, _ = invoke("lint", spec, "--json")
    findings = json.loads(out)["files"][0]["findings"]
    assert not [f for f in findings if f["severity"] == "error"], findings
    assert "off-topic" not in {f["rule"] for f in findings}

    code, out, _ = invoke("trace", spec, "--json")
    assert code in (0, 1)
    traced = json.loads(out)
    assert any(row["id"].startswith("FA-") for row in traced["requirements"])

    code, out, _ = invoke("eval", spec, "--json")
    own = json.loads(out)
    assert own["specs"][0]["brief_coverage"] >= 0.8 and own["overall"]["off_topic"] == 0
    code, out, _ = invoke("eval", spec, "--json", "--brief", OTHER_BRIEF)
    other = json.loads(out)
    assert other["specs"][0]["brief_coverage"] <= 0.5
