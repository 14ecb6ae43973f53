"""The review page's routes through the ASGI test client: what each page shows, what each action writes,
and what is refused (no token, another host, another origin, no CSRF token, paths out of the roots,
a spec changed since the page was rendered)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from helpers.cli import invoke
from helpers.fault_server import FaultServer
from helpers.lifecycle import approve_file
from helpers.review import ORIGIN, TOKEN, client, csrf, spec_folder, ssh_key
from starlette.testclient import TestClient

from agent.io.journal import Journal, SectionEdit
from agent.signoff.records import Person
from agent.signoff.steps import approve_file as steps_approve
from agent.signoff.steps import review_file, version_sha256
from agent.signoff.verification import verify
from agent.specdoc.comments import CommentStore
from agent.specdoc.document import load_spec
from agent.specdoc.render import escape_model_text


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return spec_folder(tmp_path)


@pytest.fixture
def web(folder: Path) -> TestClient:
    return client([folder])


def _version(path: Path) -> str:
    return version_sha256(load_spec(path))


# -- the guard ---------------------------------------------------------------------------------------


def test_every_request_needs_the_token(folder: Path) -> None:
    fresh = TestClient(client([folder]).app)
    for url in ("/", "/spec/0/clean.md", "/static/review.js", "/events", "/?token=wrong"):
        answer = fresh.get(url)
        assert answer.status_code == 403 and "specdraft serve" in answer.text
    answer = fresh.get(f"/spec/0/clean.md?verify=1&token={TOKEN}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/spec/0/clean.md?verify=1"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert fresh.get("/spec/0/clean.md").status_code == 200  # the cookie carries it from now on
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert answer.headers["Referrer-Policy"] == "same-origin"


def test_another_host_is_refused(web: TestClient) -> None:
    assert web.get("/", headers={"Host": "evil.example"}).status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/spec/0/../clean.md",
        "/spec/0/%2e%2e/specs/clean.md",
        "/spec/0//etc/passwd",
        "/spec/0/%2Fetc%2Fpasswd",
        "/spec/1/clean.md",
        "/spec/0/missing.md",
        "/spec/0/notes.txt",
        "/spec/0/outside.md",
        "/spec/0/.hidden/clean.md",
        "/history/0/outside.md",
        "/events/0/outside.md",
    ],
)
def test_nothing_outside_the_roots_is_served(folder: Path, web: TestClient, url: str) -> None:
    outside = folder.parent / "secret.md"
    outside.write_text("---\nstatus: DRAFT\n---\n# Secret\n\n## Overview\n\nsecret words\n")
    (folder / "outside.md").symlink_to(outside)
    (folder / "notes.txt").write_text("not a spec")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "clean.md").write_text(outside.read_text())
    answer = web.get(url)
    assert answer.status_code == 404
    assert "secret words" not in answer.text


def test_state_changes_need_post_origin_and_csrf(folder: Path, web: TestClient) -> None:
    spec = folder / "clean.md"
    form = {"csrf": csrf(web), "version": _version(spec), "text": "why?"}
    assert web.get("/act/comment/0/clean.md").status_code == 405
    assert web.post("/act/comment/0/clean.md", data=form).status_code == 403  # no Origin
    other = {"Origin": "http://evil.example"}
    assert web.post("/act/comment/0/clean.md", data=form, headers=other).status_code == 403
    bad = {**form, "csrf": "nope"}
    assert web.post("/act/comment/0/clean.md", data=bad, headers=ORIGIN).status_code == 403
    assert CommentStore(spec).load() == []
    done = web.post("/act/comment/0/clean.md", data=form, headers=ORIGIN, follow_redirects=False)
    assert done.status_code == 303 and [c.text for c in CommentStore(spec).load()] == ["why?"]


# -- pages -------------------------------------------------------------------------------------------


def test_the_list_shows_status_approvals_lint_and_change(folder: Path, web: TestClient) -> None:
    approve_file(folder / "clean.md")
    (folder / "README.md").write_text("# Notes\n\n## Not a spec\n\nno front matter\n")
    (folder / "sub").mkdir()
    changed = folder / "sub" / "changed.md"
    changed.write_bytes((folder / "clean.md").read_bytes().replace(b"valid for 7 days", b"valid for 9 days"))
    page = web.get("/").text
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(r'<tr data-status="[^"]*".*?href="/spec/0/([^"]+)".*?</tr>', page, re.S)
    }
    assert set(rows) == {"clean.md", "flawed.md", "sub/changed.md"}  # README.md is no spec
    assert "APPROVED" in rows["clean.md"] and "1 / 1" in rows["clean.md"]
    assert "CHANGED SINCE APPROVAL" in rows["sub/changed.md"] and "0 / 1" in rows["sub/changed.md"]
    assert '<td data-value="9" class="bad">9</td>' in rows["flawed.md"]  # 9 errors
    assert '<td data-value="5">5</td>' in rows["flawed.md"]  # 5 warnings


def test_a_finding_is_shown_at_its_line(web: TestClient) -> None:
    page = web.get("/spec/0/flawed.md").text
    item = re.search(r'<li data-line="43" id="L43">(.*?)</li>', page, re.S)
    assert item is not None and "FR-003</strong>: The invite dialog is fast" in item.group(1)
    assert 'data-rule="req-id-duplicate"' in item.group(1) and "Fix: give one of the two" in item.group(1)
    assert "NEEDS ATTENTION: Integration Specifications / External APIs" in page
    assert 'class="needs-attention"' in page
    assert "FR-003</a> <b>untraced</b>" in page  # the trace matrix flags it
    assert "<dt>model</dt><dd>smollm2-135m-instruct</dd>" in page


def test_spec_text_is_escaped(folder: Path, web: TestClient) -> None:
    spec = folder / "clean.md"
    hostile = '<script>alert("x")</script> <img src=x onerror=alert(1)> [y](javascript:alert(1))'
    spec.write_text(spec.read_text().replace("Workspace admins invite", f"{hostile} Workspace admins invite"))
    CommentStore(spec).add(load_spec(spec), "<script>alert(2)</script>", by="<b>Eve</b>")
    page = web.get("/spec/0/clean.md").text
    assert "<script>alert" not in page and "<img src=x" not in page and 'href="javascript' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page and "&lt;b&gt;Eve&lt;/b&gt;" in page


def test_history_shows_revisions_and_the_change_since_approval(folder: Path, web: TestClient) -> None:
    spec = folder / "clean.md"
    overview = load_spec(spec).sections[0].text
    Journal(spec).record_apply(
        "use Okta", [SectionEdit("Overview", overview, overview + "Okta <b>SSO</b>.\n")]
    )
    page = web.get("/history/0/clean.md").text
    assert "#1 use Okta" in page and '<td class="r">Okta &lt;b&gt;SSO&lt;/b&gt;.</td>' in page
    assert "Changed since approval" not in page
    review_file(spec)  # what `specdraft review` and `approve` run: the approved text is kept
    steps_approve(spec, by=Person(name="Ana", email="ana@example.com"))
    spec.write_text(spec.read_text().replace("valid for 7 days", "valid for 9 days"))
    page = web.get("/history/0/clean.md").text
    assert "Changed since approval" in page
    assert re.search(r'<tr class="changed">.*?valid for 7 days.*?valid for 9 days', page, re.S)
    assert "verify: FAILED" in web.get("/spec/0/clean.md").text


# -- actions -----------------------------------------------------------------------------------------


def test_comment_from_the_page_is_listed_by_the_cli(folder: Path, web: TestClient) -> None:
    spec = folder / "flawed.md"
    form = {
        "csrf": csrf(web),
        "version": _version(spec),
        "text": "Say what fast means",
        "line": "43",
        "name": "Bo",
    }
    answer = web.post("/act/comment/0/flawed.md", data=form, headers=ORIGIN)
    assert answer.status_code == 200 and "Comment added." in answer.text
    code, out, _ = invoke("comments", spec)
    assert code == 0 and "#1 [Technical Requirements, line 43] Bo" in out and "Say what fast means" in out
    bad = {**form, "line": "99999"}
    answer = web.post("/act/comment/0/flawed.md", data=bad, headers=ORIGIN)
    assert answer.status_code == 400 and "Line 99999 is not in" in answer.text
    form = {"csrf": csrf(web), "comment": "1", "name": "Ana"}
    assert web.post("/act/resolve/0/flawed.md", data=form, headers=ORIGIN).status_code == 200
    assert CommentStore(spec).open_comments() == []


def test_review_and_approve_from_the_page_verify_from_the_cli(folder: Path, web: TestClient) -> None:
    spec = folder / "clean.md"
    form = {"csrf": csrf(web), "version": _version(spec)}
    answer = web.post("/act/review/0/clean.md", data=form, headers=ORIGIN)
    assert answer.status_code == 200 and "The spec is in REVIEW." in answer.text
    form = {
        "csrf": csrf(web),
        "version": _version(spec),
        "name": "Ana Lima",
        "email": "ana@example.com",
        "role": "Tech Lead",
        "key": "",
    }
    answer = web.post("/act/approve/0/clean.md", data=form, headers=ORIGIN)
    assert answer.status_code == 200 and "Approval recorded." in answer.text
    code, out, _ = invoke("verify", spec)
    assert code == 0 and "OK:" in out and "1 of 1 required approval(s) hold" in out


def test_a_spec_changed_since_the_page_was_rendered_is_not_overwritten(folder: Path, web: TestClient) -> None:
    spec = folder / "clean.md"
    seen = _version(spec)
    approve_file(spec)  # someone else reviewed and approved it meanwhile
    approved = spec.read_bytes()
    form = {"csrf": csrf(web), "version": seen, "name": "Bo", "email": "bo@example.com"}
    answer = web.post("/act/approve/0/clean.md", data=form, headers=ORIGIN)
    assert answer.status_code == 409 and "changed since you opened it (it is APPROVED now)" in answer.text
    answer = web.post("/act/review/0/clean.md", data={"csrf": csrf(web), "version": seen}, headers=ORIGIN)
    assert answer.status_code == 409
    assert spec.read_bytes() == approved and verify(load_spec(spec)).ok


def test_bad_approval_details_are_named(folder: Path, web: TestClient) -> None:
    spec = folder / "flawed.md"
    answer = web.post(
        "/act/review/0/flawed.md", data={"csrf": csrf(web), "version": _version(spec)}, headers=ORIGIN
    )
    assert answer.status_code == 409 and "Review refused" in answer.text and "9 lint error(s)" in answer.text
    clean = folder / "clean.md"
    invoke("review", clean)
    form = {"csrf": csrf(web), "version": _version(clean), "name": "Ana", "email": "not-an-email", "key": "3"}
    answer = web.post("/act/approve/0/clean.md", data=form, headers=ORIGIN)
    assert answer.status_code == 400 and "SSH key is not one this server was given" in answer.text
    assert os.path.getsize(clean) == len(clean.read_bytes())


# -- refine ------------------------------------------------------------------------------------------

NEW_OVERVIEW = "Workspace admins invite colleagues by email; sign-in goes through Okta <single> sign-on."


@pytest.fixture
def model(fault_server: FaultServer) -> FaultServer:
    fault_server.replies.update(
        {
            "route": json.dumps({"kind": "edit", "sections": [{"title": "Overview", "reason": "sign-in"}]}),
            "Overview": json.dumps({"what_are_we_building": NEW_OVERVIEW}),
        }
    )
    return fault_server


def test_refine_shows_the_diff_then_writes_only_when_applied(folder: Path, model: FaultServer) -> None:
    web = client([folder], model_url=model.base_url)
    spec = folder / "clean.md"
    before = spec.read_bytes()
    form = {"csrf": csrf(web), "version": _version(spec), "instruction": "Mention Okta sign-in"}
    answer = web.post("/act/propose/0/clean.md", data=form, headers=ORIGIN)
    assert answer.status_code == 200 and "Proposed change" in answer.text
    # the spec stores the model's `<` neutralised (agent.specdoc.render); the page escapes the diff again
    assert "Okta &amp;lt;single&gt; sign-on." in answer.text and "<single>" not in answer.text
    assert spec.read_bytes() == before  # nothing written yet
    proposal = re.search(r'name="proposal" value="([^"]+)"', answer.text)
    assert proposal is not None
    form = {"csrf": csrf(web), "proposal": proposal.group(1)}
    answer = web.post("/act/apply/0/clean.md", data=form, headers=ORIGIN)
    assert answer.status_code == 200 and "Change applied" in answer.text
    assert escape_model_text(NEW_OVERVIEW) in load_spec(spec).sections[0].text
    assert Journal(spec).load().done == [1]  # journalled like `specdraft refine --yes`
    answer = web.post("/act/apply/0/clean.md", data=form, headers=ORIGIN)
    assert answer.status_code == 400 and "no longer waiting" in answer.text


def test_refine_does_not_overwrite_a_section_edited_meanwhile(folder: Path, model: FaultServer) -> None:
    web = client([folder], model_url=model.base_url)
    spec = folder / "clean.md"
    form = {"csrf": csrf(web), "version": _version(spec), "instruction": "Mention Okta sign-in"}
    answer = web.post("/act/propose/0/clean.md", data=form, headers=ORIGIN)
    proposal = re.search(r'name="proposal" value="([^"]+)"', answer.text)
    assert proposal is not None
    spec.write_text(spec.read_text().replace("Workspace admins invite", "Owners invite"))
    edited = spec.read_bytes()
    answer = web.post(
        "/act/apply/0/clean.md", data={"csrf": csrf(web), "proposal": proposal.group(1)}, headers=ORIGIN
    )
    assert answer.status_code == 400 and "changed on disk since the change was proposed" in answer.text
    assert spec.read_bytes() == edited


def test_refine_refuses_an_approved_spec_before_asking_the_model(folder: Path, model: FaultServer) -> None:
    web = client([folder], model_url=model.base_url)
    spec = folder / "clean.md"
    approve_file(spec)
    form = {"csrf": csrf(web), "version": _version(spec), "instruction": "Mention Okta"}
    answer = web.post("/act/propose/0/clean.md", data=form, headers=ORIGIN)
    assert answer.status_code == 400 and "is APPROVED" in answer.text
    assert model.chat_requests() == []
    assert 'id="propose"' not in web.get("/spec/0/clean.md").text  # no refine form on an approved spec


def test_markdown_that_is_no_spec_stays_off_the_list_and_a_broken_spec_says_why(
    folder: Path, web: TestClient
) -> None:
    (folder / "notes.md").write_text("Just notes, no sections.\n")
    (folder / "broken.md").write_text("---\nstatus: DRAFT\n---\n# Broken\n\nno sections\n")
    page = web.get("/").text
    assert "notes.md" not in page
    assert "broken.md" in page and "UNREADABLE" in page and "is not a spec" in page


def test_brief_coverage_and_context_drift_are_shown(folder: Path, web: TestClient) -> None:
    spec = folder / "clean.md"
    (folder / "brief.md").write_text(
        "# Team invitations\n\nAdmins invite by email; links valid for 7 days.\n"
    )
    (folder / "api.yaml").write_text("openapi: 3.0.0\n")
    record = (
        "  brief: brief.md\n  context:\n    files:\n    - path: api.yaml\n      sha256: " + "0" * 64 + "\n"
    )
    spec.write_text(spec.read_text().replace("  version: 0.1.0\n", "  version: 0.1.0\n" + record, 1))
    page = web.get("/spec/0/clean.md").text
    assert re.search(r"Brief coverage \d+%", page)
    assert "Context files drifted since the draft" in page and "<li>changed: api.yaml</li>" in page
    assert "<dt>context files</dt><dd>api.yaml</dd>" in page
    listed = web.get("/").text
    assert re.search(r'href="/spec/0/clean.md".*?<td data-value="(?:0\.\d+|1\.0)">\d+%</td>', listed, re.S)


def test_an_ssh_signed_approval_from_the_page_verifies_against_allowed_signers(
    folder: Path, tmp_path: Path
) -> None:
    key = ssh_key(tmp_path / "keys", "ana@example.com")
    signers = tmp_path / "keys" / "allowed_signers"
    web = client([folder], ssh_keys=[key], signers=signers)
    spec = folder / "clean.md"
    invoke("review", spec)
    page = web.get("/spec/0/clean.md").text
    assert "SSH key ana</option>" in page and "PRIVATE KEY" not in page
    form = {
        "csrf": csrf(web),
        "version": _version(spec),
        "name": "Ana",
        "email": "ana@example.com",
        "key": "0",
    }
    assert web.post("/act/approve/0/clean.md", data=form, headers=ORIGIN).status_code == 200
    checked = web.get("/spec/0/clean.md?verify=1").text
    assert re.search(
        r'id="signature-check" class="ok">Signatures against [^:]+: OK\s+'
        r"\(Ana &lt;ana@example.com&gt;: valid\)",
        checked,
    )
    code, out, _ = invoke("verify", spec, "--allowed-signers", signers)
    assert code == 0 and "valid" in out


def test_a_secret_typed_into_a_form_is_not_shown_back(folder: Path, web: TestClient) -> None:
    spec = folder / "clean.md"
    invoke("review", spec)
    secret = "sk-proj-" + "A1b2C3d4E5" * 4
    form = {"csrf": csrf(web), "version": _version(spec), "name": "Ana", "email": secret}
    answer = web.post("/act/approve/0/clean.md", data=form, headers=ORIGIN)
    assert answer.status_code == 400 and "Who approves" in answer.text
    assert secret not in answer.text and "[REDACTED]" in answer.text


def test_a_spec_removed_after_the_walk_is_left_out(folder: Path) -> None:
    from agent.web.roots import SpecRoots
    from agent.web.specinfo import RowCache

    refs, _ = SpecRoots([folder]).walk()
    (folder / "flawed.md").unlink()
    rows = [RowCache().row(ref) for ref in refs]
    assert [row.rel for row in rows if row is not None] == ["clean.md"]
