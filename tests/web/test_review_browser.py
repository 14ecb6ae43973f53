"""The review page in a real headless Chromium: what a reviewer sees and does, end to end.

A few tests on one server and one browser (module fixtures in conftest.py); each works on its own copy
of a spec so they do not depend on each other's order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from helpers.cli import invoke
from helpers.review import Served, copy_spec, screenshot
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from agent.specdoc.comments import CommentStore


def wait(driver: Any, condition: Callable[[Any], Any], seconds: float = 5) -> Any:
    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(condition)


def test_the_list_sorts_and_filters(served: Served, browser: Any) -> None:
    copy_spec(served, "clean.md", "approved.md")
    invoke("review", served.folder / "approved.md")
    invoke("approve", served.folder / "approved.md", "--by", "Ana Lima <ana@example.com>", "--role", "QA")
    browser.get(served.page("/"))

    def rows() -> list[Any]:
        return [r for r in browser.find_elements(By.CSS_SELECTOR, "#specs tbody tr") if r.is_displayed()]

    titles = {r.find_element(By.CSS_SELECTOR, ".path").text for r in rows()}
    assert {"clean.md", "flawed.md", "approved.md"} <= titles
    screenshot(browser, "review-list.png")
    browser.find_element(By.XPATH, "//th[text()='Errors']").click()  # first click: most errors first
    assert rows()[0].find_element(By.CSS_SELECTOR, ".path").text == "flawed.md"
    Select(browser.find_element(By.ID, "status-filter")).select_by_visible_text("APPROVED")
    assert [r.find_element(By.CSS_SELECTOR, ".path").text for r in rows()] == ["approved.md"]
    Select(browser.find_element(By.ID, "status-filter")).select_by_visible_text("any")
    browser.find_element(By.ID, "filter").send_keys("flawed")
    assert [r.find_element(By.CSS_SELECTOR, ".path").text for r in rows()] == ["flawed.md"]


def test_a_spec_shows_its_findings_at_their_lines(served: Served, browser: Any) -> None:
    browser.get(served.page("/spec/0/flawed.md"))
    item = browser.find_element(By.ID, "L43")
    assert "FR-003: The invite dialog is fast and user-friendly" in item.text
    rules = [f.get_attribute("data-rule") for f in item.find_elements(By.CSS_SELECTOR, "aside.finding")]
    assert rules == ["req-id-duplicate", "smell-subjective", "smell-vague"]
    assert "Fix: give one of the two requirements the next free ID" in item.text
    attention = browser.find_element(By.CSS_SELECTOR, ".needs-attention[data-line]")
    assert "NEEDS ATTENTION" in attention.text
    assert browser.find_element(By.ID, "lint-counts").text == "9 error(s), 5 warning(s)"
    browser.execute_script("document.getElementById('L37').scrollIntoView()")
    screenshot(browser, "review-spec.png")


def test_a_comment_on_a_line_is_listed_by_the_cli(served: Served, browser: Any) -> None:
    spec = copy_spec(served, "flawed.md", "commented.md")
    browser.get(served.page("/spec/0/commented.md"))
    browser.find_element(By.ID, "L47").click()  # NFR-002: "the system must be scalable"
    assert browser.find_element(By.ID, "comment-line").get_attribute("value") == "47"
    browser.find_element(By.ID, "comment-text").send_keys("Scalable to how many workspaces?")
    browser.find_element(By.ID, "add-comment").click()
    wait(browser, lambda d: "Comment added." in d.page_source)
    code, out, _ = invoke("comments", spec)
    assert code == 0 and "[Technical Requirements, line 47]" in out
    assert "Scalable to how many workspaces?" in out
    assert [c.line for c in CommentStore(spec).open_comments()] == [47]


def test_review_and_approve_with_an_ssh_key_then_verify_passes(served: Served, browser: Any) -> None:
    spec = copy_spec(served, "clean.md", "signed.md")
    browser.get(served.page("/spec/0/signed.md"))
    browser.find_element(By.ID, "to-review").click()
    wait(browser, lambda d: "The spec is in REVIEW." in d.page_source)
    form = browser.find_element(By.ID, "approve-form")
    for name, value in (("name", "Ana Lima"), ("email", "ana@example.com"), ("role", "Security")):
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    assert Select(form.find_element(By.NAME, "key")).first_selected_option.text == "SSH key ana"
    browser.find_element(By.ID, "approve").click()
    wait(browser, lambda d: "Approval recorded." in d.page_source)
    assert browser.find_element(By.ID, "status").text == "APPROVED"
    assert "private" not in browser.page_source.lower()  # the key's name only, never its content
    signers = served.folder.parent / "keys" / "allowed_signers"
    code, out, _ = invoke("verify", spec, "--allowed-signers", signers)
    assert code == 0 and "OK:" in out and "valid" in out


def test_an_edit_on_disk_updates_the_open_page(served: Served, browser: Any) -> None:
    spec = copy_spec(served, "clean.md", "live.md")
    browser.get(served.page("/spec/0/live.md"))
    assert browser.find_element(By.ID, "lint-counts").text == "0 error(s), 0 warning(s)"
    time.sleep(1.0)  # the page's event stream is connected and watching
    started = time.monotonic()
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("valid for 7 days", "valid for TBD"), encoding="utf-8")
    wait(browser, lambda d: d.find_element(By.ID, "lint-counts").text.startswith("1 error"), seconds=5)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5
    assert "TBD" in browser.find_element(By.ID, "doc").text


def test_a_request_without_the_token_is_refused(served: Served, browser: Any) -> None:
    browser.delete_all_cookies()
    browser.get(served.page("/spec/0/clean.md", token=False))
    assert "Forbidden" in browser.find_element(By.TAG_NAME, "body").text
    assert "Technical Specifications" not in browser.page_source
    browser.get(served.page("/spec/0/clean.md"))
    assert "Technical Specifications" in browser.title
