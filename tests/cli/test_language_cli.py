"""Drafting in another language: the template's language recorded, the model asked for it, --language
and the ``language`` setting checked before any model work; English requests unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import invoke
from helpers.fault_server import FaultServer

from agent.drafting.prompting import render_prompt
from agent.specdoc.document import load_spec

BRIEF_DE = """# Team-Einladungen

Administratoren laden neue Mitglieder per E-Mail in ihren Arbeitsbereich ein. Eine Einladung läuft nach
7 Tagen ab. Der Dienst speichert Einladungen in PostgreSQL und versendet die E-Mails über SMTP.
"""
BRIEF_EN = (
    "# Team invitations\n\nAdmins invite new members to their workspace by email; invites expire in 7 days.\n"
)
CLEAN_DE = Path(__file__).resolve().parents[1] / "data" / "specs" / "clean-de.md"
SMALL = "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"


def _server(fault_server: FaultServer) -> list[str]:
    return ["--base-url", fault_server.base_url, "--model", "fault-model"]


def _system_messages(fault_server: FaultServer) -> set[str]:
    return {r.body["messages"][0]["content"] for r in fault_server.chat_requests()}


def test_a_german_template_drafts_a_german_spec(fault_server: FaultServer, tmp_path: Path) -> None:
    (tmp_path / "brief.md").write_text(BRIEF_DE, encoding="utf-8")
    spec = tmp_path / "spec.md"
    code, _, err = invoke(
        "draft", tmp_path / "brief.md", "-t", "tech-spec-de", "-o", spec, *_server(fault_server)
    )
    assert code in (0, 3), err
    doc = load_spec(spec)
    assert doc.front_matter["language"] == "de"
    assert doc.sections[0].title == "Überblick"
    # the revision's requests (the router's own prompt only picks a section)
    systems = {
        s for s in _system_messages(fault_server) if s.startswith("You are a senior software engineer")
    }
    assert systems and all("in German (Deutsch)" in s for s in systems)


def test_an_english_draft_sends_the_system_prompt_it_always_sent(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    (tmp_path / "brief.md").write_text(BRIEF_EN, encoding="utf-8")
    (tmp_path / "small.md").write_text(SMALL, encoding="utf-8")
    spec = tmp_path / "spec.md"
    code, _, err = invoke(
        "draft", tmp_path / "brief.md", "-t", tmp_path / "small.md", "-o", spec, *_server(fault_server)
    )
    assert code == 0, err
    assert _system_messages(fault_server) == {render_prompt("system.j2")}
    assert "language of this specification" not in render_prompt("system.j2")
    assert load_spec(spec).front_matter["language"] == "en"


def test_language_flag_and_setting_choose_the_language(fault_server: FaultServer, tmp_path: Path) -> None:
    (tmp_path / "brief.md").write_text(BRIEF_EN, encoding="utf-8")
    (tmp_path / "small.md").write_text(SMALL, encoding="utf-8")
    spec = tmp_path / "spec.md"
    common = ["-t", tmp_path / "small.md", *_server(fault_server)]
    code, _, err = invoke("draft", tmp_path / "brief.md", "--language", "Spanish", "-o", spec, *common)
    assert code in (0, 3), err
    assert load_spec(spec).front_matter["language"] == "es"
    assert all("in Spanish (español)" in s for s in _system_messages(fault_server))


def test_an_unknown_language_is_refused_before_any_model_work(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    (tmp_path / "brief.md").write_text(BRIEF_EN, encoding="utf-8")
    spec = tmp_path / "spec.md"
    code, out, err = invoke(
        "draft", tmp_path / "brief.md", "--language", "klingon", "-o", spec, *_server(fault_server)
    )
    assert code == 2
    assert "'klingon' is not a language specdraft knows" in err and "de (German)" in err
    assert "Traceback" not in err + out
    assert not spec.exists() and not fault_server.chat_requests()


def test_the_language_setting_of_specdraft_toml(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specdraft.toml").write_text('language = "de"\n', encoding="utf-8")
    (tmp_path / "brief.md").write_text(BRIEF_EN, encoding="utf-8")
    (tmp_path / "small.md").write_text(SMALL, encoding="utf-8")
    code, _, err = invoke("draft", "brief.md", "-t", "small.md", "-o", "spec.md", *_server(fault_server))
    assert code in (0, 3), err
    assert load_spec(tmp_path / "spec.md").front_matter["language"] == "de"
    (tmp_path / "specdraft.toml").write_text('language = "xx"\n', encoding="utf-8")
    code, _, err = invoke("draft", "brief.md", "-t", "small.md", "-o", "other.md", *_server(fault_server))
    assert code == 2 and "language: 'xx' is not a language" in err
    assert not (tmp_path / "other.md").exists()


def test_refine_asks_for_the_spec_language(fault_server: FaultServer, tmp_path: Path) -> None:
    spec = tmp_path / "spec.md"
    spec.write_text(CLEAN_DE.read_text(encoding="utf-8"), encoding="utf-8")
    fault_server.choices = {"kind": "edit", "title": "Überblick"}
    invoke("refine", spec, "-m", "Nenne die Rolle der eingeladenen Person", *_server(fault_server))
    # the revision's requests (the router's own prompt only picks a section)
    systems = {
        s for s in _system_messages(fault_server) if s.startswith("You are a senior software engineer")
    }
    assert systems and all("in German (Deutsch)" in s for s in systems)


def test_a_german_brief_with_an_english_template_is_drafted_in_german_and_said(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    (tmp_path / "brief.md").write_text(BRIEF_DE, encoding="utf-8")
    (tmp_path / "small.md").write_text(SMALL, encoding="utf-8")
    spec = tmp_path / "spec.md"
    code, _, err = invoke(
        "draft", tmp_path / "brief.md", "-t", tmp_path / "small.md", "-o", spec, *_server(fault_server)
    )
    assert code in (0, 3), err
    assert "The brief is in German and the template's headings are not: drafting in German" in err
    assert load_spec(spec).front_matter["language"] == "de"
