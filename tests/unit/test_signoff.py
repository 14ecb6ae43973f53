"""The review lifecycle, sign-off records, verification and SSH signatures (importable core, no CLI)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from agent.checks.lint import lint_document
from agent.errors import ConfigError, InputError, LifecycleError
from agent.signoff import identity, sshsig
from agent.signoff import records as so
from agent.signoff import transitions as tr
from agent.signoff import verification as vf
from agent.specdoc import lifecycle as lc
from agent.specdoc.document import SpecDocument, parse_spec
from agent.specdoc.template_resolver import read_template_outline, resolve_template_path

SPECS = Path(__file__).parent.parent / "data" / "specs"
CLEAN = (SPECS / "clean.md").read_text(encoding="utf-8")
OUTLINE = read_template_outline(resolve_template_path("tech-spec"))
ANA = so.Person(name="Ana Lima", email="ana@example.com")
BEN = so.Person(name="Ben Okafor", email="ben@example.com")
WHEN = datetime(2026, 11, 25, 19, 30, tzinfo=UTC)
needs_ssh = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")


def doc_of(text: str = CLEAN) -> SpecDocument:
    return parse_spec(text, source="spec.md")


def reviewed(text: str = CLEAN) -> SpecDocument:
    doc = doc_of(text)
    return tr.review(doc, lint_document(doc, OUTLINE))


def approved(doc: SpecDocument, who: so.Person = ANA, **kwargs: object) -> tr.Approval:
    return tr.approve(doc, lint_document(doc, OUTLINE), by=who, now=WHEN, **kwargs)  # type: ignore[arg-type]


def reparse(doc: SpecDocument) -> SpecDocument:
    """What a later run sees: the serialised file read back."""
    return parse_spec(doc.serialise(), source="spec.md")


# -- lifecycle --------------------------------------------------------------------------------------


def test_review_moves_draft_to_review_in_front_matter_and_footer() -> None:
    doc = reviewed()
    text = doc.serialise()
    assert doc.front_matter["status"] == "REVIEW"
    assert "**Status**: REVIEW\n" in text
    assert text.split("---\n", 2)[2] == CLEAN.split("---\n", 2)[2].replace(
        "**Status**: DRAFT", "**Status**: REVIEW"
    )


def test_review_refused_while_lint_has_errors() -> None:
    doc = doc_of(CLEAN.replace("- **Framework**: React", "- **Framework**: TBD"))
    with pytest.raises(LifecycleError, match=r"Review refused: spec.md has 1 lint error\(s\)"):
        tr.review(doc, lint_document(doc, OUTLINE))


def test_review_refused_when_already_approved() -> None:
    doc = reparse(approved(reviewed()).doc)
    with pytest.raises(LifecycleError, match="already APPROVED"):
        tr.review(doc, [])


def test_approve_refuses_a_draft() -> None:
    with pytest.raises(LifecycleError, match="DRAFT; it goes to REVIEW"):
        approved(doc_of())


def test_approve_to_approved_with_a_complete_record() -> None:
    doc = reviewed()
    result = approved(doc, role="Tech Lead", note="Looks right")
    assert (result.previous_status, result.status, result.holding, result.required) == (
        "REVIEW",
        "APPROVED",
        1,
        1,
    )
    after = reparse(result.doc)
    assert after.front_matter["status"] == "APPROVED"
    assert after.footer is not None and after.footer.status == "APPROVED"
    [record] = after.front_matter["approvals"]
    assert record["name"] == "Ana Lima"
    assert record["email"] == "ana@example.com"
    assert record["role"] == "Tech Lead"
    assert record["note"] == "Looks right"
    assert record["signed_at"] == "2026-11-25T19:30:00Z"
    assert record["forced"] is False
    assert record["body_sha256"] == doc.body_sha256() == after.body_sha256()
    assert list(record["sections"])[:3] == ["(preamble)", "Overview", "System Architecture"]
    assert "signature" not in record
    assert vf.verify(after).exit_code == 0


def test_approve_refused_with_lint_errors_unless_forced() -> None:
    doc = reviewed()
    bad = doc_of(doc.serialise().replace("- **Framework**: React", "- **Framework**: TBD"))
    with pytest.raises(LifecycleError, match="Approval refused"):
        approved(bad)
    result = approved(bad, force=True)
    assert result.record.forced is True
    assert reparse(result.doc).front_matter["approvals"][0]["forced"] is True


def test_force_is_not_recorded_when_lint_is_clean() -> None:
    assert approved(reviewed(), force=True).record.forced is False


def test_two_required_approvals() -> None:
    doc = reviewed(CLEAN.replace("status: DRAFT\n", "status: DRAFT\napprovals_required: 2\n"))
    first = approved(doc)
    assert (first.status, first.holding, first.required) == ("REVIEW", 1, 2)
    with pytest.raises(LifecycleError, match="already approved this version"):
        approved(reparse(first.doc), ANA)
    second = approved(reparse(first.doc), BEN)
    assert (second.status, second.holding) == ("APPROVED", 2)
    report = vf.verify(reparse(second.doc))
    assert report.ok and report.holding == 2


def test_verify_catches_a_one_character_edit_and_names_the_section() -> None:
    text = approved(reviewed()).doc.serialise()
    assert vf.verify(doc_of(text)).exit_code == 0
    edited = doc_of(text.replace("valid for 7 days", "valid for 8 days"))
    report = vf.verify(edited)
    assert report.exit_code == 1
    [check] = report.checks
    assert not check.holds
    assert check.changed_sections == ["Overview"]
    assert "body changed since signing (changed: Overview)" in check.reasons
    assert "status is APPROVED but only 0 of 1 required approval(s) hold" in report.problems


def test_verify_names_added_removed_and_reordered_sections() -> None:
    text = approved(reviewed()).doc.serialise()
    added = vf.verify(doc_of(text.replace("## Notes\n", "## Appendix\n\nx\n\n## Notes\n"))).checks[0]
    assert added.added_sections == ["Appendix"]
    notes = "## Notes\n" + text.split("## Notes\n", 1)[1].split("\n---\n", 1)[0] + "\n"
    removed = vf.verify(doc_of(text.replace(notes, ""))).checks[0]
    assert removed.removed_sections == ["Notes"]
    assert removed.changed_sections == []
    overview = text.split("## System Architecture", 1)[0].split(
        "# Technical Specifications: Team invitations by email\n\n", 1
    )[1]
    swapped = text.replace(overview, "").replace("## Notes\n", overview + "## Notes\n")
    moved = vf.verify(doc_of(swapped)).checks[0]
    assert moved.order_changed


def test_verify_catches_front_matter_edits_but_not_status_changes() -> None:
    text = approved(reviewed()).doc.serialise()
    report = vf.verify(doc_of(text.replace("priority: high", "priority: low")))
    assert report.checks[0].front_matter_changed and report.exit_code == 1
    # the footer status value is the lifecycle's to change: not a content edit
    relaxed = doc_of(
        text.replace("status: APPROVED", "status: REVIEW").replace(
            "**Status**: APPROVED", "**Status**: REVIEW"
        )
    )
    assert vf.verify(relaxed).exit_code == 0


def test_verify_without_approvals_fails() -> None:
    report = vf.verify(reviewed())
    assert report.exit_code == 1
    assert report.problems == ["no approvals to verify: the spec has not been signed off"]


def test_verify_catches_a_hand_set_status() -> None:
    doc = doc_of(
        CLEAN.replace("status: DRAFT", "status: APPROVED").replace(
            "**Status**: DRAFT", "**Status**: APPROVED"
        )
    )
    report = vf.verify(doc)
    assert report.exit_code == 1
    assert any("status is APPROVED but only 0 of 1" in p for p in report.problems)


def test_reopen_supersedes_approvals() -> None:
    doc = reparse(approved(reviewed()).doc)
    reopened = reparse(tr.reopen(doc, BEN, now=WHEN).doc)
    assert reopened.front_matter["status"] == "DRAFT"
    assert reopened.footer is not None and reopened.footer.status == "DRAFT"
    [record] = so.read_signoffs(reopened)
    assert record.superseded is not None and record.superseded.by == "Ben Okafor <ben@example.com>"
    report = vf.verify(reopened)
    assert report.checks[0].superseded and not report.checks[0].holds
    assert report.exit_code == 1  # nothing active is signed any more
    # after review, a new approval counts, the superseded one does not
    again = approved(tr.review(reopened, []), ANA)
    assert (again.status, again.holding) == ("APPROVED", 1)
    assert vf.verify(reparse(again.doc)).exit_code == 0


# -- bad input --------------------------------------------------------------------------------------


def _with_record_edit(key: str, value: object) -> str:
    text = approved(reviewed()).doc.serialise()
    doc = doc_of(text)
    data = dict(doc.front_matter)
    data["approvals"] = [{**data["approvals"][0], key: value}]
    return doc.with_front_matter(data).serialise()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("body_sha256", "not-a-hash", "approvals[0].body_sha256: String should match pattern"),
        ("signed_at", "yesterday", "approvals[0].signed_at: Input should be a valid datetime"),
        ("signed_at", "2026-11-25T19:30:00", "has no time zone"),
        ("email", "nobody", "approvals[0].email"),
        ("forced", "maybe", "approvals[0].forced"),
        ("sections", {"Overview": "zz"}, "section 'Overview' has hash 'zz'"),
        ("approved_by_cat", True, "approvals[0].approved_by_cat: Extra inputs are not permitted"),
    ],
)
def test_nonsense_records_are_input_errors_quoting_the_value(key: str, value: object, message: str) -> None:
    doc = doc_of(_with_record_edit(key, value))
    with pytest.raises(InputError, match="bad sign-off record") as err:
        vf.verify(doc)
    assert message in str(err.value)
    if isinstance(value, str):
        assert repr(value) in str(err.value)


def test_approvals_must_be_a_list_and_required_a_small_number() -> None:
    with pytest.raises(InputError, match="must be a list of sign-off records"):
        vf.verify(doc_of(CLEAN.replace("status: DRAFT", "status: DRAFT\napprovals: yes please")))
    with pytest.raises(
        InputError, match=r"approvals_required' must be a whole number from 1 to 20 \(got 'two'\)"
    ):
        vf.verify(doc_of(CLEAN.replace("status: DRAFT", "status: DRAFT\napprovals_required: two")))


def test_unknown_status_is_an_input_error() -> None:
    with pytest.raises(InputError, match="status 'planned' is not one of DRAFT, REVIEW, APPROVED"):
        tr.review(doc_of(CLEAN.replace("status: DRAFT", "status: planned")), [])


# -- who signs --------------------------------------------------------------------------------------


def test_parse_person() -> None:
    assert identity.parse_person("Ana Lima <ana@example.com>") == ANA
    for bad in ["Ana Lima", "<ana@example.com>", "Ana <not an email>"]:
        with pytest.raises(InputError):
            identity.parse_person(bad)


def test_git_identity_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Cleo Git\n\temail = cleo@example.com\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert identity.resolve_person(None, cwd=tmp_path) == so.Person(name="Cleo Git", email="cleo@example.com")
    config.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"Neither --by nor git.s user\.name"):
        identity.resolve_person(None, cwd=tmp_path)


# -- SSH signatures ---------------------------------------------------------------------------------


def _keypair(directory: Path, name: str, email: str) -> tuple[Path, str]:
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", str(key)], check=True, timeout=60
    )
    return key, key.with_suffix(".pub").read_text(encoding="utf-8").strip()


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    ana_key, ana_pub = _keypair(tmp_path, "ana", "ana@example.com")
    _, eve_pub = _keypair(tmp_path, "eve", "eve@example.com")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"ana@example.com {ana_pub}\n", encoding="utf-8")
    swapped = tmp_path / "allowed_swapped"
    swapped.write_text(f"eve@example.com {ana_pub}\nana@example.com {eve_pub}\n", encoding="utf-8")
    others = tmp_path / "allowed_others"
    others.write_text(f"eve@example.com {eve_pub}\n", encoding="utf-8")
    return {"ana": ana_key, "allowed": allowed, "swapped": swapped, "others": others}


@needs_ssh
def test_ssh_signature_round_trip(keys: dict[str, Path]) -> None:
    result = approved(reviewed(), ssh_key=keys["ana"])
    assert result.record.signature is not None
    assert result.record.signature.key.startswith("SHA256:")
    doc = reparse(result.doc)
    report = vf.verify(doc, allowed_signers=keys["allowed"])
    assert report.exit_code == 0
    assert report.checks[0].signature == "valid"
    # without allowed signers the signature is kept but not checked
    assert vf.verify(doc).checks[0].signature == "unchecked"


@needs_ssh
def test_tampered_signature_is_rejected(keys: dict[str, Path]) -> None:
    text = approved(reviewed(), ssh_key=keys["ana"]).doc.serialise()
    doc = doc_of(text)
    value = doc.front_matter["approvals"][0]["signature"]["value"]
    middle = len(value) // 2
    flipped = value[:middle] + ("A" if value[middle] != "A" else "B") + value[middle + 1 :]
    report = vf.verify(doc_of(text.replace(value, flipped)), allowed_signers=keys["allowed"])
    assert report.checks[0].signature == "invalid"
    assert report.exit_code == 1
    # a record edited after signing (here its role) no longer matches its signature
    forged = doc_of(text.replace("signed_at:", "role: CTO\n  signed_at:", 1))
    report = vf.verify(forged, allowed_signers=keys["allowed"])
    assert report.checks[0].signature == "invalid" and report.exit_code == 1


@needs_ssh
def test_unknown_and_wrong_signer_keys(keys: dict[str, Path]) -> None:
    doc = reparse(approved(reviewed(), ssh_key=keys["ana"]).doc)
    unknown = vf.verify(doc, allowed_signers=keys["others"])
    assert unknown.checks[0].signature == "unknown-key"
    assert unknown.exit_code == 2
    assert "does not list" in unknown.checks[0].reasons[0]
    wrong = vf.verify(doc, allowed_signers=keys["swapped"])
    assert wrong.checks[0].signature == "wrong-signer"
    assert wrong.exit_code == 1


@needs_ssh
def test_unsigned_approval_fails_when_signatures_are_required(keys: dict[str, Path]) -> None:
    report = vf.verify(reparse(approved(reviewed()).doc), allowed_signers=keys["allowed"])
    assert report.checks[0].signature == "unsigned" and report.exit_code == 1


def test_bad_key_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        approved(reviewed(), ssh_key=tmp_path / "nope")
    not_a_key = tmp_path / "key"
    not_a_key.write_text("hello\n", encoding="utf-8")
    if shutil.which("ssh-keygen"):
        with pytest.raises(InputError, match="Signing with SSH key"):
            approved(reviewed(), ssh_key=not_a_key)
    with pytest.raises(InputError, match="Allowed signers file"):
        vf.verify(reparse(approved(reviewed()).doc), allowed_signers=tmp_path / "missing")


def test_missing_ssh_keygen_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sshsig.shutil, "which", lambda name: None)
    key = tmp_path / "key"
    key.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="ssh-keygen is not installed"):
        approved(reviewed(), ssh_key=key)


def test_record_is_valid_yaml_in_front_matter() -> None:
    text = approved(reviewed()).doc.serialise()
    data = yaml.safe_load(text.split("---\n", 2)[1])
    assert data["approvals"][0]["name"] == "Ana Lima"


# -- tampered sign-off: copied records, lowered approvals_required ---------------------------------


def _with_front_matter(doc: SpecDocument, **changes: object) -> SpecDocument:
    data = dict(doc.front_matter)
    data.update(changes)
    return reparse(doc.with_front_matter(data))


def _duplicated_first_record(doc: SpecDocument) -> SpecDocument:
    records = list(doc.front_matter["approvals"])
    return _with_front_matter(doc, approvals=[*records, dict(records[0])], status="APPROVED")


def test_a_copied_approval_counts_once() -> None:
    doc = reviewed(CLEAN.replace("status: DRAFT\n", "status: DRAFT\napprovals_required: 2\n"))
    first = approved(doc)
    assert first.status == "REVIEW"
    tampered = _duplicated_first_record(first.doc)
    report = vf.verify(tampered)
    assert report.holding == 1, "the same signer twice is one approval"
    assert not report.ok
    assert "only 1 of 2 required approval(s) hold" in " ".join(report.problems)
    assert any("repeats approval 1 by the same signer" in r for c in report.checks for r in c.reasons)


def test_approvals_required_is_covered_by_the_record() -> None:
    doc = reviewed(CLEAN.replace("status: DRAFT\n", "status: DRAFT\napprovals_required: 2\n"))
    first = approved(doc)
    assert first.record.approvals_required == 2
    # lowering the number after sign-off so that one approval "suffices" breaks the record
    lowered = _with_front_matter(first.doc, approvals_required=1, status="APPROVED")
    lowered = reparse(lc.set_status(lowered, "APPROVED"))
    report = vf.verify(lowered)
    assert not report.ok and report.holding == 0
    assert any(
        "approvals_required changed since signing (2 then, 1 now)" in r for r in report.checks[0].reasons
    )
    # removing the key (default 1) is the same change
    data = {k: v for k, v in first.doc.front_matter.items() if k != "approvals_required"}
    assert not vf.verify(reparse(lc.set_status(reparse(first.doc.with_front_matter(data)), "APPROVED"))).ok


def test_records_without_approvals_required_still_verify() -> None:
    """v1 records (made before approvals_required was covered) keep verifying as they did."""
    result = approved(reviewed())
    data = dict(result.doc.front_matter)
    record = dict(data["approvals"][0])
    record.pop("approvals_required")
    record["front_matter_sha256"] = so.front_matter_sha256(result.doc)  # the v1 hash
    data["approvals"] = [record]
    report = vf.verify(reparse(result.doc.with_front_matter(data)))
    assert report.ok and report.holding == 1


@needs_ssh
def test_a_copied_signed_approval_counts_once_and_required_is_signed(keys: dict[str, Path]) -> None:
    doc = reviewed(CLEAN.replace("status: DRAFT\n", "status: DRAFT\napprovals_required: 2\n"))
    first = approved(doc, ssh_key=keys["ana"])
    assert b"approvals-required: 2" in first.record.payload()
    report = vf.verify(_duplicated_first_record(first.doc), allowed_signers=keys["allowed"])
    assert report.holding == 1 and not report.ok
    # rewriting the record's own approvals_required (and hash) to match a lowered value: the signature fails
    lowered = _with_front_matter(first.doc, approvals_required=1)
    data = dict(lowered.front_matter)
    record = dict(data["approvals"][0])
    record["approvals_required"] = 1
    record["front_matter_sha256"] = so.front_matter_sha256(lowered, required=1)
    data["approvals"] = [record]
    forged = reparse(lc.set_status(reparse(lowered.with_front_matter(data)), "APPROVED"))
    report = vf.verify(forged, allowed_signers=keys["allowed"])
    assert not report.ok and report.checks[0].signature == "invalid"
