"""Browser tests: headless Debian Chromium driven by Playwright for Python, against the portal
served by uvicorn on 127.0.0.1. scripts/chromium.sh installs Chromium (no browser download)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.portal.world import PASSWORD, PortalWorld
from tests.registry.world import answers
from tests.report.tools import CHROMIUM_ARGS, chromium_path


@pytest.fixture
def server(pw: PortalWorld) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(pw.app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True,
                              args=[*CHROMIUM_ARGS, "--disable-dev-shm-usage"])
        yield b
        b.close()


def _sign_in(browser: object, base: str, name: str) -> object:
    page = browser.new_context().new_page()  # type: ignore[attr-defined]
    page.goto(f"{base}/login")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard**")
    assert "You are signed in" in page.content()
    return page


def test_register_assess_comment_moderate_publish(pw: PortalWorld, server: str,
                                                  browser: object, tmp_path: Path) -> None:
    # a developer registers a system with its first version
    dev = _sign_in(browser, server, "dev")
    dev.get_by_role("link", name="Register a system").click()
    dev.get_by_label("Name", exact=True).fill("DischargeNotes")
    dev.get_by_label("Intended use", exact=True).fill(
        "draft discharge letters for clinicians to edit")
    dev.get_by_label("Clinical setting", exact=True).fill("hospital wards")
    dev.get_by_label("Intended users", exact=True).fill("ward doctors")
    dev.get_by_label("First version (optional)", exact=True).fill("2.0")
    dev.get_by_label("Its model id", exact=True).fill("openai:notes-8b@http://127.0.0.1:9/v1")
    dev.get_by_role("button", name="Register").click()
    dev.wait_for_url("**/systems/*")
    assert "System registered" in dev.content() and "DischargeNotes" in dev.content()
    system_url = dev.url.split("?")[0]

    # the deployer's reviewer registers the deployment and submits its impact assessment
    rev = _sign_in(browser, server, "rev1")
    rev.goto(system_url)
    rev.get_by_text("Register a deployment").click()
    rev.get_by_label("Site", exact=True).fill("City Health wards")
    rev.get_by_label("Deployer organisation (default: yours)", exact=True).fill("CityHealth")
    rev.get_by_role("button", name="Register deployment of version 2.0").click()
    rev.wait_for_url("**msg=deployment-added**")
    rev.get_by_role("link", name="impact assessment of City Health wards").click()
    rev.get_by_role("button", name="Save draft").wait_for()
    wanted = answers("low")
    for qid, value in wanted.items():
        rev.locator(f'input[name="q-{qid}"][value="{value}"]').check()
    rev.get_by_role("button", name="Save draft").click()
    rev.wait_for_url("**msg=draft-saved**")
    assert "Tier <strong>" in rev.content()
    rev.get_by_role("button", name="Record the assessment").click()
    rev.wait_for_url("**/dashboard**")
    assert "The assessment is recorded" in rev.content()
    (assessment,) = pw.registry.list("assessments")
    assert assessment["status"] == "awaiting_review" and assessment["tier"] in {"I", "II"}

    # an auditor's signed audit with a finding; a patient comments on the finding, anonymously
    audit = pw.audit("equity", findings=[{"id": "equity-language-gap", "severity": "high"}])
    anon = browser.new_context().new_page()  # type: ignore[attr-defined]
    anon.goto(f"{server}/audits/{audit}")
    assert "valid" in anon.locator("#signature").inner_text()
    assert "included" in anon.locator("#proof").inner_text()
    anon.get_by_text("Comment on this finding").click()
    form = anon.locator("#finding-1 form")
    form.get_by_label("I am a", exact=True).select_option("patient")
    form.get_by_label("Your comment", exact=True).fill(
        "Answers in Spanish were much worse for my mother.")
    form.get_by_role("button", name="Send feedback").click()
    anon.wait_for_url("**msg=feedback-held**")
    assert "waits for a moderator" in anon.content()
    anon.goto(f"{server}/")
    assert "Spanish" not in anon.content()

    # another reviewer moderates it; it appears on the public register
    mod = _sign_in(browser, server, "rev2")
    held = mod.locator("li", has_text="Spanish").last
    held.get_by_role("button", name="Publish").click()
    mod.wait_for_url("**msg=moderated**")
    anon.goto(f"{server}/")
    row = anon.locator("tr", has_text="TriageAid")
    assert "1 published" in row.inner_text()
    row.get_by_role("link", name="1 published").click()
    assert "Spanish were much worse" in anon.content()
    assert "equity-language-gap" in anon.content()

    # keyboard: the first Tab reaches the skip link, Enter moves focus to the content
    anon.goto(f"{server}/")
    anon.keyboard.press("Tab")
    assert anon.evaluate("document.activeElement.textContent") == "Skip to content"
    anon.keyboard.press("Enter")
    assert anon.evaluate("document.activeElement.id") == "main"
    shot = tmp_path / "register.png"
    anon.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("HAIA_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / "register.png").write_bytes(shot.read_bytes())
