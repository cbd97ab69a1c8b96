"""Take the console screenshots in docs/console/ (referenced from docs/console.md).

Run from the repository root: ``python3 docs/console/screenshots.py``. It starts a ledis
server with a password and the HTTP listener on a temp dir, fills it with demo data over RESP,
logs in through the page with Debian's chromium (the Playwright setup of tests/browser.py)
and writes one PNG per screen next to this file.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright

from tests.browser import launch, login, start_console_server

OUT = Path(__file__).resolve().parent
PASSWORD = "demo"


def demo_data(r) -> None:
    for i in range(1, 6):
        r.hset(f"user:{i}", mapping={"name": ["Ada", "Grace", "Alan", "Edsger", "Barbara"][i - 1],
                                     "email": f"user{i}@example.com", "visits": str(i * 7)})
    r.set("user:1:session", "9f2c1e", ex=3600)
    r.set("config:feature-flags", '{"dark_mode": true, "beta": ["search", "export"], "limit": 50}')
    r.rpush("queue:emails", *[f"job-{i}" for i in range(40)])
    r.sadd("tags:popular", "redis", "lua", "rocksdb", "python")
    r.zadd("leaderboard", {"ada": 3120, "grace": 2890, "alan": 2760, "edsger": 1999})
    r.set("counter:pageviews", 48213)
    r.function_load("#!lua name=shop\n"
                    "redis.register_function('add_to_cart', function(keys, args)\n"
                    "  return redis.call('HINCRBY', keys[1], args[1], args[2] or 1)\nend)\n"
                    "redis.register_function{function_name='cart_size', flags={'no-writes'},\n"
                    "  callback=function(keys) return redis.call('HLEN', keys[1]) end}\n")


def main() -> None:
    proc, http_port = start_console_server("--requirepass", PASSWORD)
    base = f"http://127.0.0.1:{http_port}"
    r = proc.client(password=PASSWORD)
    try:
        demo_data(r)
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 760})
            login(page, base, PASSWORD)
            page.click('#key-tree [data-folder="user:"]')
            page.click('#key-tree [data-key="config:feature-flags"]')
            page.click("#key-body [data-view=json]")
            page.wait_for_selector("#key-body pre#string-value")
            shot(page, "keys")
            page.click('#key-tree [data-key="user:1"]')
            page.wait_for_selector("#hash-table")
            shot(page, "hash")
            page.click("#tabs [data-tab=workbench]")
            page.fill("#wb-keys", "counter:pageviews")
            page.fill("#wb-args", "5\nhello")
            page.click("#wb-run")
            page.wait_for_selector("#wb-reply .node")
            shot(page, "workbench")
            page.fill("#wb-editor textarea", "-- sum the numbers in ARGV\nlocal total = 0\n"
                      "for i, v in ipairs(ARGV) do\n  total = total + tonumber(v)\nend\n"
                      "return total..\n")
            page.click("#wb-run")
            page.wait_for_selector("#wb-editor .gutter .error-line")
            shot(page, "workbench-error")
            page.fill("#wb-editor textarea", "-- add ARGV[1] to each score, keep the total\n"
                      "local total = 0\n"
                      "for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
                      "  local score = redis.call('ZINCRBY', KEYS[1], ARGV[1], member)\n"
                      "  total = total + tonumber(score)\n"
                      "end\n"
                      "return total\n")
            page.fill("#wb-keys", "leaderboard")
            page.fill("#wb-args", "10")
            page.click("#wb-debug")
            page.wait_for_selector("#dbg:not([hidden])")
            page.click("#wb-editor .gutter div[data-line='5']")
            page.click("#dbg-continue")
            page.click("#dbg-continue")
            page.wait_for_selector("#dbg-locals tr[data-name='score']")
            shot(page, "debugger")
            page.click("#tabs [data-tab=libraries]")
            row = '.lib[data-library="shop"] tr[data-function="add_to_cart"]'
            page.fill(f"{row} .fcall-keys", "cart:1")
            page.fill(f"{row} .fcall-args", "sku-42 2")
            page.click(f"{row} .fcall-run")
            page.wait_for_selector(f"{row} .fcall-reply .node")
            page.click('.lib[data-library="shop"] details summary')
            shot(page, "libraries")
            stop = threading.Event()
            worker = threading.Thread(target=load, args=(proc, stop))
            worker.start()
            try:
                page.click("#tabs [data-tab=server]")
                page.fill("#cmd-input", "ZADD leaderboard ")
                page.wait_for_function("() => window.ledisConsole.charts.ops.data.length >= 12",
                                       timeout=30_000)
            finally:
                stop.set()
                worker.join()
            shot(page, "server")
            browser.close()
    finally:
        r.close()
        proc.cleanup()


def load(proc, stop: threading.Event) -> None:
    client = proc.client(password=PASSWORD)
    i = 0
    while not stop.is_set():
        pipe = client.pipeline(transaction=False)
        for _ in range(100 + (i % 7) * 40):
            pipe.incr("counter:pageviews")
        pipe.execute()
        i += 1
    client.close()


def shot(page, name: str) -> None:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
