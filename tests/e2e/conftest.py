"""Browser fixtures shared by the dashboard's headless-chromium tests: the real server (waitress)
on a free port, Debian's chromium through Playwright, and a page signed in through the form."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest

from app.summary import EXIT_NOT_READ
from murmuration.environment import OFFLINE
from tests.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@contextmanager
def dashboard_server(paths):
    """The dashboard's real server (waitress) for an initiative, on a free port."""
    port = free_port()
    env = {**os.environ, **OFFLINE, "MURMURATION_PROJECT_DIR": str(paths.project_dir),
           "MURMURATION_STATE_DIR": str(paths.state_dir)}
    env.pop("MURMURATION_SERVING", None)
    server = subprocess.Popen([sys.executable, "-m", "dashboards.app", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/login")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="session")
def dashboard_url(sample_run, sample_users):
    # the sample plants two files that cannot be read: published, exit code 3
    assert sample_run.returncode == EXIT_NOT_READ, sample_run.stdout + sample_run.stderr
    with dashboard_server(sample_run.paths) as url:
        yield url


def signed_in_page(browser, url: str, username: str, path: str = "/",
                   viewport: tuple[int, int] = (1280, 900)):
    """A new browser page (its own cookies) signed in as ``username`` through the form."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.goto(f"{url}{path}")
    page.wait_for_selector("#username", timeout=30_000)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_selector("#signed-in-as", timeout=30_000)
    return page


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed (make test installs it with apt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()
