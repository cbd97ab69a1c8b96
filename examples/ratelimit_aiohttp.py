"""A rate-limited aiohttp endpoint using stdlib/ratelimit.lua (one bucket per client IP).

    python examples/ratelimit_aiohttp.py [--port 6380] [--http-port 8080] [--selftest]

GET /hello answers 200, or 429 with a Retry-After header once the caller's bucket
(5 requests, refilled at 1 per second) is empty. --selftest starts the app, sends 8 requests
and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import math

import redis.asyncio as aioredis
from aiohttp import ClientSession, web

from ledis.resources import STDLIB_DIR

CAPACITY, REFILL_PER_SEC = 5, 1


def make_app(r: aioredis.Redis) -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        key = f"ex:rl:{request.remote}"
        allowed, remaining, retry_ms = await r.fcall("rl_bucket", 1, key, CAPACITY,
                                                     REFILL_PER_SEC)
        headers = {"X-RateLimit-Remaining": str(remaining)}
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(retry_ms / 1000)))
            return web.Response(status=429, text="slow down\n", headers=headers)
        return web.Response(text="hello\n", headers=headers)

    app = web.Application()
    app.router.add_get("/hello", hello)
    return app


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=6380)
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--selftest", action="store_true")
    args = parser.parse_args()
    r = aioredis.Redis(port=args.port)
    await r.function_load((STDLIB_DIR / "ratelimit.lua").read_text(), replace=True)
    await r.delete("ex:rl:127.0.0.1")
    runner = web.AppRunner(make_app(r))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.http_port)
    await site.start()
    if not args.selftest:
        print(f"serving on http://127.0.0.1:{args.http_port}/hello")
        await asyncio.Event().wait()
    codes = []
    async with ClientSession() as session:
        for _ in range(CAPACITY + 3):
            async with session.get(f"http://127.0.0.1:{args.http_port}/hello") as resp:
                codes.append(resp.status)
                print(resp.status, resp.headers.get("X-RateLimit-Remaining"),
                      resp.headers.get("Retry-After"))
    await runner.cleanup()
    await r.aclose()
    return 0 if codes == [200] * CAPACITY + [429] * 3 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
