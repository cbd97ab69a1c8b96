"""Browser helpers for the console (tests/test_console.py, docs/console/screenshots.py,
benchmarks/console.py): Debian's system chromium driven by Playwright, headless (Playwright's
own browser downloads are not used), and a ledis server with the HTTP listener on."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
import redis

from tests.helpers import LedisProcess, free_port, wait_port


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def launch(playwright: Any) -> Any:
    """Start headless system chromium; raises when it is missing or cannot start."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("no chromium binary on PATH (apt-get install chromium)")
    # --no-sandbox: CI containers run as root, where chromium's sandbox refuses to start
    return playwright.chromium.launch(executable_path=path, headless=True,
                                      args=["--no-sandbox", "--disable-gpu"])


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def start_console_server(*extra: str) -> tuple[LedisProcess, int]:
    """A ledis server with ``--http-port``; returns it and the HTTP port."""
    http_port = free_port()
    proc = LedisProcess("--http-port", str(http_port), *extra).start()
    wait_port(http_port, proc.proc)
    return proc, http_port


def login(page: Any, base: str, password: str, user: str = "default") -> None:
    """Open the console and log in through its form; waits until the page is ready."""
    page.goto(base + "/")
    page.wait_for_selector("body[data-booted='1']")
    if page.is_visible("#login-screen"):
        page.fill("#login-user", user)
        page.fill("#login-pass", password)
        page.click("#login-submit")
    page.wait_for_selector("body[data-ready='1']")


# --- shared by tests/test_console.py and tests/test_console_browser.py ---------------------
PASSWORD = "console-s3cret"

LOOP = ("local total = tonumber(redis.call('GET', KEYS[1]))\n"
        "for i = 1, 3 do\n"
        "  total = total + i\n"
        "  redis.call('SET', KEYS[1], total)\n"
        "end\n"
        "return total")


@pytest.fixture(scope="module")
def server():
    proc, http_port = start_console_server("--requirepass", PASSWORD)
    yield proc, http_port
    proc.cleanup()


@pytest.fixture
def r(server) -> redis.Redis:
    client = server[0].client(password=PASSWORD, decode_responses=True)
    yield client
    client.close()
