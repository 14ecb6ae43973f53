"""The review page served for real (uvicorn on 127.0.0.1, a free port) and a headless Chromium.

The browser is Debian's ``chromium`` driven through ``chromedriver`` (``make test`` apt-installs both
when missing); Selenium Manager is never asked to download anything. The browser tests are skipped only
when the browser is missing and this is not root (who could install it); as root they fail instead, so
CI (`make test`, root) always runs them.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.review import TOKEN, Served, spec_folder, ssh_key

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    import uvicorn

    from agent.web.app import ServeSettings, create_app

    folder = spec_folder(tmp_path_factory.mktemp("review"))
    port = _free_port()
    keys = [ssh_key(folder.parent / "keys", "ana@example.com")]
    settings = ServeSettings([folder], TOKEN, {"127.0.0.1", f"127.0.0.1:{port}"}, ssh_keys=keys)
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the review server did not start"
        time.sleep(0.05)
    yield Served(folder, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        reason = f"{', '.join(missing)} missing: apt-get install chromium chromium-driver (make test does)"
        if os.geteuid() != 0:
            pytest.skip(reason)
        pytest.fail(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
