"""Hostile and broken input (the corpus in tests/data/hostile/): refused clearly, or drafted safely."""

from __future__ import annotations

import json
import os
import re
import resource
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers.fault_server import FaultServer
from typer.testing import CliRunner

from agent.cli.main import app
from agent.specdoc.document import parse_spec

ROOT = Path(__file__).resolve().parents[2]
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
    "utf16.md": "UTF-16 text; specdraft reads UTF-8",
}
# refused in a subprocess with a time and memory limit (a regression must fail, not hang the suite)
BOMBS = {"front-matter-alias-bomb.md", "spec-alias-bomb.md"}
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
        | BOMBS
        | {"long-lines.md", "prompt-injection.md", "jinja-brief.md", "title-newline.md"}
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
    # the system prompt's first sentence in a prose value: the prompt-copy check names it
    assert "repeats the prompt's words 'you are a senior software engineer" in stderr
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


# -- round 2: hostile input found by trying it ------------------------------------------------------

MEMORY_LIMIT = 1_500_000_000  # bytes of address space a refused input may cost at most


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _specdraft(
    args: list[str], cwd: Path, *, stdin: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """This checkout's specdraft in a subprocess, limited in time and memory."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120", "HOME": str(cwd)}
    env.pop("SPECDRAFT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        preexec_fn=_limited,
        check=False,
    )


def test_an_alias_bomb_in_a_brief_is_refused_quickly(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = _specdraft(["draft", str(CORPUS / "front-matter-alias-bomb.md"), "-o", "spec.md"], tmp_path)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "front matter refused" in stderr and "aliases" in stderr, stderr
    assert "front-matter-alias-bomb.md" in stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "spec.md").exists()


@pytest.mark.parametrize("command", [["verify"], ["approve", "--by", "Ana Lima <ana@example.com>"], ["lint"]])
def test_an_alias_bomb_in_a_spec_is_refused_quickly(tmp_path: Path, command: list[str]) -> None:
    spec = tmp_path / "spec.md"
    spec.write_bytes((CORPUS / "spec-alias-bomb.md").read_bytes())
    before = spec.read_bytes()
    proc = _specdraft([command[0], str(spec), *command[1:]], tmp_path)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "front matter refused" in stderr, stderr
    assert spec.read_bytes() == before


def test_yaml_limits_keep_ordinary_front_matter() -> None:
    from agent.specdoc.frontmatter import load_yaml

    shared = "defaults: &d {team: billing}\nservice: {<<: *d, name: export}\n"
    assert load_yaml(shared)["service"] == {"team": "billing", "name": "export"}
    assert (
        load_yaml("approvals:\n" + "  - {name: a, sections: {x: y}}\n" * 200)["approvals"][199]["name"] == "a"
    )


def test_a_title_with_a_newline_adds_no_heading(fault_server: FaultServer, tmp_path: Path) -> None:
    code, spec, stderr = _draft_against(fault_server, tmp_path, CORPUS / "title-newline.md")
    assert code == 0, stderr
    assert not re.search(r"^#+ Injected", spec, re.MULTILINE), spec
    assert [s.title for s in parse_spec(spec).sections] == ["Summary", "Risks"]
    assert "# Invoice export ## Injected Section Injected text" in spec  # kept, on one line


def test_a_batch_csv_title_with_a_newline_adds_no_heading(fault_server: FaultServer, tmp_path: Path) -> None:
    table = tmp_path / "briefs.csv"
    table.write_text(
        'id,title,brief\nexport,"Invoice export\n\n## Injected Section\n",Users export invoices as CSV.\n'
    )
    args = ["batch", str(table), "-o", str(tmp_path / "specs"), "--template", str(_small_template(tmp_path)),
            "--base-url", fault_server.base_url, "--model", "fault-model", "--timeout", "5"]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.stderr
    spec = (tmp_path / "specs" / "export.md").read_text()
    assert not re.search(r"^#+ Injected", spec, re.MULTILINE), spec
    assert [s.title for s in parse_spec(spec).sections] == ["Summary", "Risks"]


def test_endless_stdin_is_refused_after_the_limit(tmp_path: Path) -> None:
    """`yes "a brief line" | specdraft draft -`: refused after reading a little over the limit."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    errors = tmp_path / "stderr.txt"
    with open(errors, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "draft", "-"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=_limited,
        )
        stream = proc.stdin
        assert stream is not None

        def feed() -> None:
            line = b"a brief line\n" * 4096
            try:
                while proc.poll() is None:
                    stream.write(line)
            except (BrokenPipeError, ValueError, OSError):
                pass

        threading.Thread(target=feed, daemon=True).start()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("specdraft kept reading an endless stdin") from None
    stderr = errors.read_bytes()
    assert proc.returncode == 2, stderr
    assert b"<stdin>" in stderr and b"larger than" in stderr and b"the limit is 20,000" in stderr


def test_a_brief_linked_to_a_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "huge.md"
    with open(huge, "wb") as handle:  # sparse: a gigabyte that takes no disk
        handle.truncate(1_000_000_000)
    (tmp_path / "brief.md").symlink_to(huge)
    proc = _specdraft(["draft", "brief.md", "-o", "spec.md"], tmp_path, timeout=60)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "larger than" in stderr and "brief.md" in stderr
    assert not (tmp_path / "spec.md").exists()


def test_read_user_text_reads_at_most_the_limit(tmp_path: Path) -> None:
    from agent.errors import InputError
    from agent.io import textinput

    big = tmp_path / "big.md"
    big.write_bytes(b"x" * 500_000)
    seen: list[int] = []
    original = textinput._read_at_most

    def spy(stream, limit):  # type: ignore[no-untyped-def]
        data = original(stream, limit)
        seen.append(len(data))
        return data

    textinput._read_at_most = spy  # type: ignore[assignment]
    try:
        with pytest.raises(InputError, match="larger than 80,000 bytes"):
            textinput.read_user_text(big, what="Brief", max_chars=20_000)
    finally:
        textinput._read_at_most = original  # type: ignore[assignment]
    assert seen == [80_001]


def test_crs_of_crlf_line_ends_do_not_count_toward_the_limit(tmp_path: Path) -> None:
    from agent.drafting.brief import MAX_BRIEF_CHARS, load_brief

    line = "Users export invoices as CSV files.\r\n"
    body = "# Export\r\n\r\n" + line * ((MAX_BRIEF_CHARS - 100) // (len(line) - 1))
    assert len(body.replace("\r\n", "\n")) <= MAX_BRIEF_CHARS < len(body)
    brief = tmp_path / "crlf.md"
    brief.write_bytes(body.encode())
    loaded = load_brief(brief)
    assert "\r" not in loaded.body and loaded.title == "Export"


def test_a_huge_title_is_not_echoed_whole(tmp_path: Path) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("---\ntitle: " + "T" * 10_000 + "\n---\nUsers export invoices as CSV files.\n")
    code, _, stderr = _draft([str(brief)])
    assert code == 2
    assert "title" in stderr and "10,002 characters" in stderr
    assert len(stderr) < 1_000, f"{len(stderr)} characters of error"


def test_output_that_is_a_fifo_or_device_is_never_replaced(fault_server: FaultServer, tmp_path: Path) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    null_link = tmp_path / "null.md"
    null_link.symlink_to("/dev/null")
    for target in (fifo, null_link):
        code, _, stderr = _draft([str(brief), "-o", str(target), "--force", "--template",
                                  str(_small_template(tmp_path)), "--base-url", fault_server.base_url,
                                  "--model", "fault-model"])  # fmt: skip
        assert code == 2, stderr
        assert "special file" in stderr and "never replaces" in stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert null_link.is_symlink() and stat.S_ISCHR(Path("/dev/null").stat().st_mode)
    assert fault_server.chat_requests() == [], "refused before any model work"


def test_output_equal_to_the_brief_is_refused_even_with_force(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    brief = tmp_path / "brief.md"
    text = "# Invoice export\n\nUsers export invoices as CSV files.\n"
    brief.write_text(text)
    for target in (brief, tmp_path / "." / "brief.md"):
        code, _, stderr = _draft([str(brief), "-o", str(target), "--force", "--template",
                                  str(_small_template(tmp_path)), "--base-url", fault_server.base_url,
                                  "--model", "fault-model"])  # fmt: skip
        assert code == 2, stderr
        assert "is the input" in stderr
    assert brief.read_text() == text
    assert fault_server.chat_requests() == []


def test_an_unwritable_output_is_found_before_the_model_runs(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: make the check see what a user would meet
        real_access = os.access
        monkeypatch.setattr(
            os, "access", lambda p, mode, **kw: False if Path(p) == locked else real_access(p, mode, **kw)
        )
    else:
        locked.chmod(0o555)
    code, _, stderr = _draft([str(brief), "-o", str(locked / "spec.md"), "--template",
                              str(_small_template(tmp_path)), "--base-url", fault_server.base_url,
                              "--model", "fault-model"])  # fmt: skip
    assert code == 2, stderr
    assert "is not writable" in stderr
    assert fault_server.chat_requests() == [], "no model work for a spec that cannot be written"


def test_a_new_spec_respects_the_umask(fault_server: FaultServer, tmp_path: Path) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    previous = os.umask(0o022)
    try:
        code, _, stderr = _draft([str(brief), "-o", str(tmp_path / "spec.md"), "--template",
                                  str(_small_template(tmp_path)), "--base-url", fault_server.base_url,
                                  "--model", "fault-model"])  # fmt: skip
    finally:
        os.umask(previous)
    assert code == 0, stderr
    assert stat.S_IMODE((tmp_path / "spec.md").stat().st_mode) == 0o644


# Model answers that try to add structure or reach the terminal: escaped by the renderer.
HOSTILE_ANSWERS = {
    "setext-equals": "Injected Title\n=====\nmore",
    "setext-dashes": "Injected Title\n-----\nmore",
    "bare-hashes": "#\n##\nmore",
    "spaced-rule": "intro\n\n- - -\n\n* * *\n\n___\nmore",
    "controls": "red \x1b[31mtext\x1b[0m bell \x07 \u202eReversed\u202c zero\u200bwidth",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_ANSWERS))
def test_model_answers_never_add_structure_or_control_characters(
    fault_server: FaultServer, tmp_path: Path, name: str
) -> None:
    from agent.checks.lint import lint_text
    from agent.specdoc.template_resolver import read_template_outline

    fault_server.extra_text = HOSTILE_ANSWERS[name]
    brief = tmp_path / "brief.md"
    brief.write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    code, spec, stderr = _draft_against(fault_server, tmp_path, brief, "--keep-going")
    assert code in (0, 3), stderr
    assert [s.title for s in parse_spec(spec).sections] == ["Summary", "Risks"]
    lines = spec.splitlines()
    body = lines[lines.index("# Invoice export") :]
    assert not [
        line for line in body if re.fullmatch(r" {0,3}(=+|-+|#{1,6}|(- ){2,}-|(\* ){2,}\*|_+)\s*", line)
    ]
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u200b]", spec + stderr)
    findings = lint_text(spec, read_template_outline(tmp_path / "small.md"), source="spec.md")
    assert not [f for f in findings if f.rule in ("structure-unexpected", "control-character")]


def test_a_secret_in_a_model_answer_is_flagged(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.extra_text = "use key sk-live0123456789abcdefghijkl and AKIAIOSFODNN7EXAMPLE"
    brief = tmp_path / "brief.md"
    brief.write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    code, spec, stderr = _draft_against(fault_server, tmp_path, brief)
    assert code == 0, stderr
    assert "sk-live0123456789abcdefghijkl" in spec, "the spec says what the model wrote; lint flags it"
    assert "warning" in stderr.split("lint:")[1]
    result = CliRunner().invoke(app, ["lint", str(tmp_path / "spec.md"), "--template",
                                      str(_small_template(tmp_path))], env={"COLUMNS": "200"})  # fmt: skip
    assert "secret-like" in result.stdout, result.stdout
