"""`specdraft draft` with bad input: a clear message, exit 2, no file written (unreachable server: exit 1)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.main import app

GOOD_BRIEF = "# CSV export\n\nUsers export their invoices as CSV files from the billing page.\n"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["draft", *args], env={"COLUMNS": "120", **(env or {})})
    return result.exit_code, result.stdout + result.stderr


def _files(directory: Path) -> set[Path]:
    return {p for p in directory.rglob("*")}


def _brief(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "brief.md"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# (case id, brief content, extra args, words the message must contain)
BAD_BRIEFS = [
    ("empty", "", [], ["is empty"]),
    ("whitespace", "  \n\t\n   \n", [], ["is empty"]),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", [], ["binary", "NUL"]),
    ("non-utf8", "Caf\xe9 export".encode("latin-1"), [], ["not valid UTF-8", "offset 3"]),
    ("too-long", "word " * 4001 + "\n", [], ["20,000", "limit"]),
    ("front-matter-unclosed", "---\ntitle: Export\n\nNo closing line.\n", [], ["never closed"]),
    ("front-matter-bad-yaml", "---\ntitle: Export\nowner: ann: bob\n---\nBody text.\n", [], ["on line 3"]),
    ("front-matter-bad-priority", "---\npriority: urgent\n---\nBody text.\n", [], ["priority", "urgent"]),
]


@pytest.mark.parametrize(
    ("content", "extra", "words"), [c[1:] for c in BAD_BRIEFS], ids=[c[0] for c in BAD_BRIEFS]
)
def test_bad_brief_is_refused(
    tmp_path: Path, content: str | bytes, extra: list[str], words: list[str]
) -> None:
    brief = _brief(tmp_path, content)
    before = _files(tmp_path)
    code, output = _run([str(brief), "-o", str(tmp_path / "spec.md"), *extra])
    assert code == 2, output
    assert output.startswith("Error: "), output
    for word in words:
        assert word in output, output
    assert "Traceback" not in output
    assert _files(tmp_path) == before, "nothing may be written"


def test_missing_brief(tmp_path: Path) -> None:
    code, output = _run([str(tmp_path / "nope.md"), "-o", str(tmp_path / "spec.md")])
    assert code == 2
    assert "nope.md' does not exist" in output
    assert not (tmp_path / "spec.md").exists()


def test_brief_that_is_a_directory(tmp_path: Path) -> None:
    code, output = _run([str(tmp_path), "-o", str(tmp_path / "spec.md")])
    assert code == 2
    assert "is a directory" in output


def test_unknown_template_name(tmp_path: Path) -> None:
    brief = _brief(tmp_path, GOOD_BRIEF)
    code, output = _run([str(brief), "-o", str(tmp_path / "spec.md"), "--template", "no-such-template"])
    assert code == 2, output
    assert "Unknown template 'no-such-template'" in output and "tech-spec" in output
    assert not (tmp_path / "spec.md").exists()


def test_template_without_sections(tmp_path: Path) -> None:
    brief = _brief(tmp_path, GOOD_BRIEF)
    template = tmp_path / "flat.md"
    template.write_text("# [FEATURE_NAME]\n\nJust prose, [no headings] at all.\n")
    code, output = _run([str(brief), "-o", str(tmp_path / "spec.md"), "--template", str(template)])
    assert code == 2, output
    assert "has no sections" in output
    assert not (tmp_path / "spec.md").exists()


def test_openai_without_key_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    brief = _brief(tmp_path, GOOD_BRIEF)
    code, output = _run([str(brief), "-o", str(tmp_path / "spec.md"), "--provider", "openai"])
    assert code == 2, output
    assert "OPENAI_API_KEY" in output
    assert not (tmp_path / "spec.md").exists()


def test_output_directory_missing(tmp_path: Path) -> None:
    brief = _brief(tmp_path, GOOD_BRIEF)
    code, output = _run([str(brief), "-o", str(tmp_path / "missing" / "spec.md")])
    assert code == 2, output
    assert "does not exist" in output and "missing" in output
    assert not (tmp_path / "missing").exists()


def test_existing_output_is_not_overwritten(tmp_path: Path) -> None:
    brief = _brief(tmp_path, GOOD_BRIEF)
    out = tmp_path / "spec.md"
    out.write_text("precious\n")
    code, output = _run([str(brief), "-o", str(out)])
    assert code == 2, output
    assert "already exists" in output and "--force" in output
    assert out.read_text() == "precious\n"


def test_unknown_provider(tmp_path: Path) -> None:
    brief = _brief(tmp_path, GOOD_BRIEF)
    code, output = _run([str(brief), "--provider", "skynet"])
    assert code == 2, output
    assert "Unknown provider 'skynet'" in output


def test_unreachable_base_url_exits_1_without_traceback(tmp_path: Path) -> None:
    brief = _brief(tmp_path, GOOD_BRIEF)
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    code, output = _run([str(brief), "-o", str(tmp_path / "spec.md"), "--base-url", url, "--timeout", "2"])
    assert code == 1, output
    assert f"Cannot reach the model server at {url}" in output
    assert "Traceback" not in output
    assert not (tmp_path / "spec.md").exists()


def test_unreachable_base_url_with_a_model_name(tmp_path: Path) -> None:
    """With --model the server is not listed first: the failure comes from the chat call itself."""
    brief = _brief(tmp_path, GOOD_BRIEF)
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    args = [str(brief), "-o", str(tmp_path / "spec.md"), "--base-url", url, "--model", "m", "--timeout", "2"]
    code, output = _run(args)
    assert code == 1, output
    assert "Cannot reach the model server" in output
    assert "Traceback" not in output
    assert not (tmp_path / "spec.md").exists()
