"""Hostile and broken input (the corpus in tests/data/hostile/): refused clearly, or drafted safely."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.spec.document import parse_spec

CORPUS = Path(__file__).parent.parent / "data" / "hostile"
SMALL_TEMPLATE = (
    "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"
)

# corpus file -> words the refusal must contain (exit 2, nothing written)
REFUSED_BRIEFS = {
    "empty.md": "is empty",
    "whitespace.md": "is empty",
    "binary.bin": "looks binary",
    "nul-bytes.md": "NUL bytes",
    "invalid-utf8.md": "not valid UTF-8",
    "front-matter-unclosed.md": "never closed",
    "front-matter-bad-yaml.md": "on line 3",
    "front-matter-not-mapping.md": "must be a mapping",
    "front-matter-bad-priority.md": "priority",
}
REFUSED_TEMPLATES = {
    "evil-template.md": "line 4 contains template-engine syntax",
    "evil-template-statement.md": "line 4 contains template-engine syntax",
}


def _draft(args: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["draft", *args], env={"COLUMNS": "120"}, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _small_template(tmp_path: Path) -> Path:
    path = tmp_path / "small.md"
    path.write_text(SMALL_TEMPLATE)
    return path


def test_corpus_is_complete() -> None:
    expected = (
        set(REFUSED_BRIEFS)
        | set(REFUSED_TEMPLATES)
        | {"long-lines.md", "prompt-injection.md", "jinja-brief.md"}
    )
    assert {p.name for p in CORPUS.iterdir()} == expected


@pytest.mark.parametrize("name", sorted(REFUSED_BRIEFS))
def test_broken_brief_is_refused(tmp_path: Path, name: str) -> None:
    out = tmp_path / "spec.md"
    code, stdout, stderr = _draft([str(CORPUS / name), "-o", str(out)])
    assert code == 2, stderr
    assert stderr.startswith("Error: ") and REFUSED_BRIEFS[name] in stderr, stderr
    assert name in stderr, "the message names the file"
    assert "Traceback" not in stderr and stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", sorted(REFUSED_BRIEFS))
def test_broken_brief_on_stdin_is_refused(name: str) -> None:
    code, stdout, stderr = _draft(["-"], stdin=(CORPUS / name).read_bytes())
    assert code == 2, stderr
    assert REFUSED_BRIEFS[name] in stderr and "<stdin>" in stderr
    assert stdout == ""


def test_a_one_megabyte_brief_is_refused_with_the_limit(tmp_path: Path) -> None:
    brief = tmp_path / "big.md"
    brief.write_text("# Big\n\n" + ("Users export invoices as CSV files. " * 30_000)[:1_000_000])
    assert brief.stat().st_size >= 1_000_000
    code, _, stderr = _draft([str(brief), "-o", str(tmp_path / "spec.md")])
    assert code == 2
    assert "the limit is 20,000" in stderr
    assert not (tmp_path / "spec.md").exists()


@pytest.mark.parametrize("name", sorted(REFUSED_TEMPLATES))
def test_sandbox_escape_in_a_user_template_is_refused(tmp_path: Path, name: str) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    code, _, stderr = _draft([str(brief), "-o", str(tmp_path / "spec.md"), "--template", str(CORPUS / name)])
    assert code == 2, stderr
    assert REFUSED_TEMPLATES[name] in stderr
    assert "__mro__" in stderr or "{%" in stderr, "the message shows what was refused"
    assert "<class" not in stderr, "nothing was evaluated"
    assert not (tmp_path / "spec.md").exists()


def test_brief_path_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "brief.fifo"
    os.mkfifo(fifo)
    code, _, stderr = _draft([str(fifo), "-o", str(tmp_path / "spec.md")])  # must not block reading it
    assert code == 2
    assert "not a regular file" in stderr


def test_brief_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    code, _, stderr = _draft([str(tmp_path)])
    assert code == 2
    assert "is a directory" in stderr


def test_template_path_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    fifo = tmp_path / "template.md"
    os.mkfifo(fifo)
    code, _, stderr = _draft([str(brief), "--template", str(fifo)])
    assert code == 2
    assert "not a regular file" in stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_brief_is_refused(tmp_path: Path) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    brief.chmod(0)
    code, _, stderr = _draft([str(brief)])
    assert code == 2
    assert "cannot be read" in stderr


def _draft_against(server: FaultServer, tmp_path: Path, brief: Path, *extra: str) -> tuple[int, str, str]:
    out = tmp_path / "spec.md"
    args = [
        str(brief),
        "-o",
        str(out),
        "--template",
        str(_small_template(tmp_path)),
        "--base-url",
        server.base_url,
        "--model",
        "fault-model",
        "--timeout",
        "5",
        "--max-retries",
        "1",
        *extra,
    ]
    code, _, stderr = _draft(args)
    return code, out.read_text() if out.exists() else "", stderr


def test_very_long_lines_are_drafted(fault_server: FaultServer, tmp_path: Path) -> None:
    code, spec, stderr = _draft_against(fault_server, tmp_path, CORPUS / "long-lines.md")
    assert code == 0, stderr
    assert [s.title for s in parse_spec(spec).sections] == ["Summary", "Risks"]
    brief_message = fault_server.chat_requests()[0].body["messages"][1]["content"]
    assert (CORPUS / "long-lines.md").read_text().splitlines()[2] in brief_message, "the brief is sent whole"


def test_prompt_injection_stays_data(fault_server: FaultServer, tmp_path: Path) -> None:
    code, spec, stderr = _draft_against(fault_server, tmp_path, CORPUS / "prompt-injection.md")
    assert code == 0, stderr
    assert [s.title for s in parse_spec(spec).sections] == ["Summary", "Risks"]
    first = fault_server.chat_requests()[0].body["messages"]
    system = first[0]
    assert system["role"] == "system"
    assert "Ignore previous instructions" not in system["content"], "the brief never enters the system prompt"
    injected = [m for m in first if "Ignore previous instructions" in m["content"]]
    assert injected and all(m["role"] == "user" for m in injected)
    assert system["content"][:80] not in spec


def test_an_answer_that_obeys_the_injection_is_rejected(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.plan(default="leak")
    code, spec, stderr = _draft_against(fault_server, tmp_path, CORPUS / "prompt-injection.md", "--strict")
    assert code == 1, stderr
    assert "repeats the instructions given to you" in stderr
    assert spec == ""
    # and when the model recovers on the re-ask, the spec holds no trace of the system prompt
    # (--no-cache: the response cache would replay the first run's leaking answers)
    fault_server.plan("leak", default="valid")
    code, spec, stderr = _draft_against(
        fault_server, tmp_path, CORPUS / "prompt-injection.md", "--force", "--no-cache"
    )
    assert code == 0, stderr
    system = fault_server.chat_requests()[-1].body["messages"][0]["content"]
    assert system[:60] not in spec


def test_template_syntax_in_a_brief_is_kept_literally(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.extra_text = "{{ 7*7 }} {% for x in range(10) %}x{% endfor %}"
    code, spec, stderr = _draft_against(fault_server, tmp_path, CORPUS / "jinja-brief.md")
    assert code == 0, stderr
    # from the brief (the title) and from the model's answers: literal, never evaluated
    assert "# Invoice export {{ 7*7 }}" in spec or "Invoice export {{ 7*7 }}" in spec
    assert spec.count("{% for x in range(10) %}x{% endfor %}") >= 2
    assert not re.search(r"(?<![0-9a-f])49(?![0-9a-f])", spec), "7*7 was evaluated"
    assert "xxxxxxxxxx" not in spec
    sent = json.dumps(fault_server.chat_requests()[0].body["messages"])
    assert "{% for x in range(10) %}loop{% endfor %}" in sent, "the brief reaches the model unrendered"
    assert "looplooploop" not in sent
