#!/usr/bin/env python
"""The browser console on a big store (issue #20): load N small keys (default 1,000,000) into a
ledis server over pipelined RESP, then open the console in headless chromium (Debian's, through
Playwright, as tests/browser.py) and measure the page's transfer size and its time to first
render: navigation start until the key tree shows the first SCAN page.

    python benchmarks/console.py                     # 1M keys, 3 page loads
    python benchmarks/console.py --keys 100000 --json out.json

Keys are ``user:<i>``, ``session:<i>`` and ``cart:<i>`` strings of 16 bytes (MSET, 1,000 keys
per command, 100 commands per pipeline). Each page load is a fresh browser context (a cold
cache); the numbers are the median of ``--runs`` loads. Transfer size is the sum of the
resource timing ``transferSize`` (static files, gzip) plus the bodies of the console's API
calls until first render.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: tests/ must be importable first

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import launch, start_console_server  # noqa: E402

PREFIXES = ("user", "session", "cart")


def fill(client, count: int) -> float:
    start = time.perf_counter()
    batch = 1000
    pipe = client.pipeline(transaction=False)
    queued = 0
    for base in range(0, count, batch):
        args = []
        for i in range(base, min(count, base + batch)):
            args += [f"{PREFIXES[i % 3]}:{i}", b"v" * 16]
        pipe.execute_command("MSET", *args)
        queued += 1
        if queued == 100:
            pipe.execute()
            queued = 0
    if queued:
        pipe.execute()
    return time.perf_counter() - start


def one_load(browser, base: str) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    api_bytes = 0
    api_calls = 0

    def on_response(resp) -> None:
        nonlocal api_bytes, api_calls
        if "/_console/api/" in resp.url:
            try:
                api_bytes += len(resp.body())
                api_calls += 1
            except Exception:  # noqa: BLE001, S110 - a response still streaming at close
                pass

    page.on("response", on_response)
    page.goto(base + "/")
    page.wait_for_selector("#key-tree .node")
    # navigationStart-relative timestamps, taken in the page
    timing = page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        return {
            rendered_ms: performance.now(),
            dom_content_loaded_ms: nav.domContentLoadedEventEnd,
            load_ms: nav.loadEventEnd,
            static_transfer: nav.transferSize
                + res.filter(r => r.name.includes('/_console/static/'))
                .reduce((a, r) => a + r.transferSize, 0),
            static_decoded: nav.decodedBodySize
                + res.filter(r => r.name.includes('/_console/static/'))
                .reduce((a, r) => a + r.decodedBodySize, 0),
            keys_shown: window.ledisConsole.keys.loaded.size,
        };
    }""")
    timing["api_bytes"] = api_bytes
    timing["api_calls"] = api_calls
    context.close()
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    proc, http_port = start_console_server()
    client = proc.client()
    try:
        seconds = fill(client, args.keys)
        dbsize = client.dbsize()
        print(f"loaded {dbsize} keys in {seconds:.1f} s ({dbsize / seconds:,.0f} keys/s)")
        with sync_playwright() as pw:
            browser = launch(pw)
            one_load(browser, f"http://127.0.0.1:{http_port}")  # warm the server side
            runs = [one_load(browser, f"http://127.0.0.1:{http_port}") for _ in range(args.runs)]
            browser.close()
    finally:
        client.close()
        proc.cleanup()
    result = {"keys": dbsize, "load_seconds": round(seconds, 1), "runs": runs}
    for field in ("rendered_ms", "dom_content_loaded_ms", "load_ms"):
        result[field + "_median"] = round(statistics.median(r[field] for r in runs), 1)
    result["static_transfer_bytes"] = runs[-1]["static_transfer"]
    result["static_decoded_bytes"] = runs[-1]["static_decoded"]
    result["api_bytes_until_render"] = runs[-1]["api_bytes"]
    result["keys_in_first_page"] = runs[-1]["keys_shown"]
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
