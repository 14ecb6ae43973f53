"""``specdraft comments`` and the review comments ``chat`` shows and ``refine --comment N`` addresses."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import invoke
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.specdoc.comments import CommentStore
from agent.specdoc.document import load_spec

ANA = "Ana Lima <ana@example.com>"


def test_comments_add_list_resolve(spec: Path) -> None:
    code, out, err = invoke("comments", spec)
    assert code == 0 and "no open comments" in out
    code, _, err = invoke("comments", spec, "--add", "Name the IdP", "--section", "Overview", "--by", ANA)
    assert code == 0 and "Added comment 1 on Overview" in err
    code, out, _ = invoke("comments", spec)
    assert code == 0 and "#1 [Overview] Ana Lima <ana@example.com>" in out and "Name the IdP" in out
    code, out, _ = invoke("comments", spec, "--json")
    assert json.loads(out)["comments"][0]["section"] == "Overview"
    code, out, err = invoke("comments", spec, "--resolve", "1", "--by", ANA)
    assert code == 0 and "no open comments" in out
    code, out, _ = invoke("comments", spec, "--all")
    assert "(resolved by Ana Lima" in out


def test_comments_bad_input_exits_2_without_traceback(spec: Path, tmp_path: Path) -> None:
    code, _, err = invoke("comments", spec, "--add", "x", "--section", "Nowhere", "--by", ANA)
    assert code == 2 and "has no section 'Nowhere'" in err and "Traceback" not in err
    code, _, err = invoke("comments", spec, "--section", "Overview")
    assert code == 2 and "--section and --line go with --add" in err
    code, _, err = invoke("comments", tmp_path / "missing.md")
    assert code == 2 and "Traceback" not in err


def test_refine_comment_revises_its_section_and_resolves_it(spec: Path, fault_server: FaultServer) -> None:
    overview = "Workspace admins invite colleagues by email; sign-in goes through Okta single sign-on."
    fault_server.replies["Overview"] = json.dumps({"what_are_we_building": overview})
    CommentStore(spec).add(load_spec(spec), "Mention Okta sign-in", by="Ana", section="Overview")
    args = ["refine", str(spec), "--comment", "1", "--yes", "--by", ANA, "--base-url", fault_server.base_url]
    result = CliRunner().invoke(app, [*args, "--timeout", "20"])
    assert result.exit_code == 0, result.output
    # the comment's section is revised directly: no routing request
    assert "route" not in fault_server.schema_names()
    assert overview in load_spec(spec).sections[0].text
    assert CommentStore(spec).open_comments() == []
    result = CliRunner().invoke(app, [*args, "--timeout", "20"])
    assert result.exit_code == 2 and "no open comment 1" in result.output


def test_refine_needs_message_or_comment(spec: Path) -> None:
    code, _, err = invoke("refine", spec)
    assert code == 2 and "Give either -m TEXT or --comment N" in err


def test_chat_lists_open_comments_when_it_starts(spec: Path, fault_server: FaultServer) -> None:
    CommentStore(spec).add(load_spec(spec), "Why 7 days?", by="Bo", section="Overview")
    result = CliRunner().invoke(
        app, ["chat", str(spec), "--base-url", fault_server.base_url, "--timeout", "20"], input="/quit\n"
    )
    assert result.exit_code == 0, result.output
    assert "1 open review comment(s); /comment N addresses one" in result.output
    assert "#1 [Overview] Bo" in result.output


def test_chat_addresses_a_comment_and_resolves_it(spec: Path, fault_server: FaultServer) -> None:
    overview = "Workspace admins invite colleagues by email; sign-in goes through Okta single sign-on."
    fault_server.replies["Overview"] = json.dumps({"what_are_we_building": overview})
    store = CommentStore(spec)
    store.add(load_spec(spec), "Mention Okta sign-in", by="Ana", section="Overview")
    result = CliRunner().invoke(
        app,
        ["chat", str(spec), "--base-url", fault_server.base_url, "--timeout", "20"],
        input="/comment\n/comment 1\ny\n/comment 1\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    assert "#1 [Overview] Ana: Mention Okta sign-in" in result.output and "Usage: /comment N" in result.output
    assert "route" not in fault_server.schema_names()  # the comment's section, not a routing guess
    assert "Resolved review comment 1." in result.output
    assert overview in load_spec(spec).sections[0].text and store.open_comments() == []
    assert "has no open comment 1 (open: none)" in result.output
