"""`specdraft lint`, `review`, `approve`, `verify` and `status` through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agent.cli.main import app

SPECS = Path(__file__).parent.parent / "data" / "specs"
CLEAN = (SPECS / "clean.md").read_text(encoding="utf-8")
ENV = {"COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}
ANA = "Ana Lima <ana@example.com>"
needs_ssh = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def approved_spec(spec: Path, *extra: str | Path) -> Path:
    assert run("review", spec).exit_code == 0
    result = run("approve", spec, "--by", ANA, "--role", "Tech Lead", *extra)
    assert result.exit_code == 0, result.output
    return spec


# -- lint -------------------------------------------------------------------------------------------


def test_lint_clean_spec(spec: Path) -> None:
    result = run("lint", spec)
    assert result.exit_code == 0
    assert result.stdout == f"{spec}: lint: clean (0 errors, 0 warnings)\n"


def test_lint_flawed_spec_prints_a_table_and_exits_1() -> None:
    result = run("lint", SPECS / "flawed.md")
    assert result.exit_code == 1
    for text in [
        "Line",
        "Severity",
        "Rule",
        "req-id-duplicate",
        "endpoint-invalid",
        "needs-attention",
        "FETCH",
    ]:
        assert text in result.stdout
    assert "lint: 9 errors, 5 warnings (1 NEEDS ATTENTION, 1 NEEDS CLARIFICATION)" in result.stdout
    assert all(len(line) <= 120 for line in result.stdout.splitlines())


def test_lint_strict_fails_on_warnings(spec: Path) -> None:
    spec.write_text(
        CLEAN.replace("(FR-002)", "").replace("FR-001 to FR-003", "FR-001 and FR-003"), encoding="utf-8"
    )
    assert run("lint", spec).exit_code == 0
    result = run("lint", spec, "--strict")
    assert result.exit_code == 1
    assert "fr-untraced" in result.stdout


def test_lint_json_schema(spec: Path) -> None:
    result = run("lint", spec, SPECS / "flawed.md", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["schema"] == "specdraft.lint/1"
    assert data["strict"] is False
    assert data["exit_code"] == 1
    assert data["totals"] == {"files": 2, "errors": 9, "warnings": 5, "bad_input": 0}
    clean, flawed = data["files"]
    assert clean == {
        "path": str(spec),
        "template": "tech-spec",
        "errors": 0,
        "warnings": 0,
        "needs_attention": 0,
        "needs_clarification": 0,
        "findings": [],
        "error": None,
    }
    first = flawed["findings"][0]
    assert set(first) == {"rule", "severity", "section", "line", "message"}
    assert first["severity"] in ("error", "warning")
    assert isinstance(first["line"], int)


def test_lint_a_directory(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "a.md").write_text(CLEAN, encoding="utf-8")
    shutil.copy(SPECS / "flawed.md", tmp_path / "nested" / "b.md")
    result = run("lint", tmp_path)
    assert result.exit_code == 1
    assert "2 files: 9 error(s), 5 warning(s)" in result.stdout
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "skipped.md").write_text("not a spec, but hidden\n", encoding="utf-8")
    assert run("lint", tmp_path).exit_code == 1
    (tmp_path / "notes.md").write_text("Just notes.\n", encoding="utf-8")
    result = run("lint", tmp_path, "--json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["totals"]["bad_input"] == 1
    assert "not a spec" in next(f["error"] for f in data["files"] if f["path"].endswith("notes.md"))


def test_lint_with_an_explicit_template(spec: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.md"
    mine.write_text("# [TITLE]\n\n## Overview\n[what]\n\n## Goals\n[goals]\n", encoding="utf-8")
    result = run("lint", spec, "--template", mine, "--json")
    rules = {f["rule"] for f in json.loads(result.stdout)["files"][0]["findings"]}
    assert {"section-missing", "section-extra"} <= rules


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lint", "missing.md"], "Spec 'missing.md' does not exist"),
        (["lint", "{spec}", "--template", "nope"], "Unknown template 'nope'"),
        (["review", "missing.md"], "does not exist"),
        (["approve", "missing.md", "--by", ANA], "does not exist"),
        (["verify", "missing.md"], "does not exist"),
        (["status", "missing.md"], "does not exist"),
        (["approve", "{spec}", "--by", "Ana"], "is not 'Name <email>'"),
    ],
)
def test_bad_input_exits_2(spec: Path, args: list[str], message: str) -> None:
    result = run(*[a.replace("{spec}", str(spec)) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.startswith("Error: ")
    assert spec.read_text(encoding="utf-8") == CLEAN


def test_not_a_spec_and_bad_front_matter(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nNo sections here.\n", encoding="utf-8")
    for command in ("lint", "review", "verify", "status"):
        result = run(command, notes)
        assert result.exit_code == 2
        assert "is not a spec: it has no '## ' sections" in result.stderr
    broken = tmp_path / "broken.md"
    text = CLEAN.replace("priority: high", "priority: [high")
    broken.write_text(text, encoding="utf-8")
    for command in ("lint", "review", "verify"):
        result = run(command, broken)
        assert result.exit_code == 2
        assert "malformed front matter" in result.stderr
    assert broken.read_text(encoding="utf-8") == text


# -- review / approve -------------------------------------------------------------------------------


def test_review_refused_with_lint_errors_lists_them(spec: Path) -> None:
    text = CLEAN.replace("- **Framework**: React", "- **Framework**: TBD")
    spec.write_text(text, encoding="utf-8")
    result = run("review", spec)
    assert result.exit_code == 1
    assert "'TBD' left in the text." in result.stdout
    assert "Review refused" in result.stderr
    assert spec.read_text(encoding="utf-8") == text


def test_review_then_approve(spec: Path) -> None:
    result = run("review", spec)
    assert result.exit_code == 0
    assert result.stdout == f"{spec}: DRAFT -> REVIEW (lint: clean (0 errors, 0 warnings))\n"
    assert run("review", spec).stdout == f"{spec} is already in REVIEW.\n"
    result = run("approve", spec, "--by", ANA, "--role", "Tech Lead", "--note", "ship it")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "Approved by Ana Lima <ana@example.com> (Tech Lead).",
        f"{spec}: REVIEW -> APPROVED (1 of 1 required approval(s) hold)",
    ]
    text = spec.read_text(encoding="utf-8")
    assert "status: APPROVED" in text and "**Status**: APPROVED" in text
    assert "note: ship it" in text


def test_approve_a_draft_is_refused(spec: Path) -> None:
    result = run("approve", spec, "--by", ANA)
    assert result.exit_code == 1
    assert "goes to REVIEW before approval" in result.stderr
    assert spec.read_text(encoding="utf-8") == CLEAN


def test_approve_with_lint_errors_needs_force(spec: Path) -> None:
    assert run("review", spec).exit_code == 0
    spec.write_text(spec.read_text(encoding="utf-8").replace("Tailwind", "TBD"), encoding="utf-8")
    result = run("approve", spec, "--by", ANA)
    assert result.exit_code == 1 and "Approval refused" in result.stderr
    result = run("approve", spec, "--by", ANA, "--force")
    assert result.exit_code == 0
    assert "recorded as forced" in result.stderr
    assert "forced: true" in spec.read_text(encoding="utf-8")
    assert "(forced)" in run("status", spec).stdout


def test_two_required_approvals(spec: Path) -> None:
    spec.write_text(
        CLEAN.replace("status: DRAFT\n", "status: DRAFT\napprovals_required: 2\n"), encoding="utf-8"
    )
    run("review", spec)
    first = run("approve", spec, "--by", ANA)
    assert "REVIEW -> REVIEW (1 of 2 required approval(s) hold)" in first.stdout
    again = run("approve", spec, "--by", ANA)
    assert again.exit_code == 1 and "already approved this version" in again.stderr
    second = run("approve", spec, "--by", "Ben Okafor <ben@example.com>")
    assert "REVIEW -> APPROVED (2 of 2 required approval(s) hold)" in second.stdout
    assert run("verify", spec).exit_code == 0


def test_approve_defaults_to_git_identity(
    spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Cleo Git\n\temail = cleo@example.com\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    run("review", spec)
    result = run("approve", spec)
    assert result.exit_code == 0
    assert "Approved by Cleo Git <cleo@example.com>." in result.stdout


# -- verify / status --------------------------------------------------------------------------------


def test_verify_passes_then_names_the_edited_section(spec: Path) -> None:
    approved_spec(spec)
    result = run("verify", spec)
    assert result.exit_code == 0
    assert "Ana Lima <ana@example.com>" in result.stdout
    assert f"OK: {spec}: 1 of 1 required approval(s) hold; status APPROVED" in result.stdout
    spec.write_text(spec.read_text(encoding="utf-8").replace("Tailwind", "Tailwinds"), encoding="utf-8")
    result = run("verify", spec)
    assert result.exit_code == 1
    assert "body changed since signing (changed: Technology Stack)" in result.stdout
    assert f"FAILED: {spec}: 0 of 1" in result.stdout
    data = json.loads(run("verify", spec, "--json").stdout)
    assert data["schema"] == "specdraft.verify/1"
    assert data["ok"] is False
    assert data["approvals"][0]["changed_sections"] == ["Technology Stack"]
    assert data["approvals"][0]["holds"] is False


def test_verify_json_when_all_hold(spec: Path) -> None:
    approved_spec(spec)
    result = run("verify", spec, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["ok"], data["status"], data["approvals_required"], data["approvals_holding"]) == (
        True,
        "APPROVED",
        1,
        1,
    )
    assert data["approvals"][0]["role"] == "Tech Lead"


def test_nonsense_record_is_bad_input_and_the_file_is_untouched(spec: Path) -> None:
    approved_spec(spec)
    text = spec.read_text(encoding="utf-8").replace("email: ana@example.com", "email: {not: an email}")
    spec.write_text(text, encoding="utf-8")
    for args in (["verify", spec], ["status", spec], ["approve", spec, "--by", "Ben <ben@example.com>"]):
        result = run(*args)
        assert result.exit_code == 2
        assert "bad sign-off record: approvals[0].email: Input should be a valid string" in result.stderr
        assert "{'not': 'an email'}" in result.stderr
    assert spec.read_text(encoding="utf-8") == text


def test_status(spec: Path) -> None:
    result = run("status", spec)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{spec}: DRAFT",
        "Approvals: 0 of 1 required hold",
        "lint: clean (0 errors, 0 warnings)",
    ]
    approved_spec(spec)
    data = json.loads(run("status", spec, "--json").stdout)
    assert data["status"] == "APPROVED" and data["approved"] is True
    assert data["footer_status"] == "APPROVED"
    assert data["lint"] == {"errors": 0, "warnings": 0}


# -- SSH signatures ---------------------------------------------------------------------------------


@pytest.fixture
def ssh(tmp_path: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for name in ("ana", "eve"):
        key = tmp_path / f"{name}_key"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=60
        )
        out[name] = key
    ana_pub = out["ana"].with_suffix(".pub").read_text(encoding="utf-8")
    eve_pub = out["eve"].with_suffix(".pub").read_text(encoding="utf-8")
    out["allowed"] = tmp_path / "allowed_signers"
    out["allowed"].write_text(f"ana@example.com {ana_pub}", encoding="utf-8")
    out["others"] = tmp_path / "allowed_others"
    out["others"].write_text(f"eve@example.com {eve_pub}", encoding="utf-8")
    return out


@needs_ssh
def test_ssh_signed_approval_round_trip(spec: Path, ssh: dict[str, Path]) -> None:
    assert run("review", spec).exit_code == 0
    result = run("approve", spec, "--by", ANA, "--ssh-key", ssh["ana"])
    assert result.exit_code == 0
    assert "signed with SSH key SHA256:" in result.stdout
    result = run("verify", spec, "--allowed-signers", ssh["allowed"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout
    # an unknown signer key is bad input (exit 2); the file stays as it is
    before = spec.read_text(encoding="utf-8")
    result = run("verify", spec, "--allowed-signers", ssh["others"])
    assert result.exit_code == 2
    assert "does not list" in result.stdout
    # a tampered signature is rejected
    value = before.split("value: ", 1)[1].split("\n", 1)[0]
    middle = len(value) // 2
    tampered = value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]
    spec.write_text(before.replace(value, tampered), encoding="utf-8")
    result = run("verify", spec, "--allowed-signers", ssh["allowed"])
    assert result.exit_code == 1
    assert "SSH signature does not match the record" in result.stdout
    missing = run("verify", spec, "--allowed-signers", spec.parent / "nope")
    assert missing.exit_code == 2 and "Allowed signers file" in missing.stderr


def test_help_lists_the_review_commands() -> None:
    result = run("--help")
    for command in ("lint", "review", "approve", "verify", "status"):
        assert command in result.stdout


def test_installed_entry_point_runs_lint(tmp_path: Path) -> None:
    """The console script, as a real subprocess: lint a clean spec, then a non-spec."""
    exe = Path(sys.executable).parent / "specdraft"
    if not exe.exists():
        pytest.skip("the specdraft console script is not installed in this environment")
    clean = subprocess.run([exe, "lint", SPECS / "clean.md"], capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stderr
    assert "lint: clean" in clean.stdout
    notes = tmp_path / "notes.md"
    notes.write_text("nothing\n", encoding="utf-8")
    bad = subprocess.run([exe, "lint", notes], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "not a spec" in bad.stderr
