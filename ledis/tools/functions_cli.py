"""``ledis functions``: load stdlib/ FUNCTION libraries into a running server, or list them.

The parser is ``ledis.cli.add_functions_parser``; this module runs it (a plain redis-py client:
FUNCTION LOAD REPLACE of ``stdlib/<name>.lua``, FUNCTION LIST).
"""

from __future__ import annotations

from typing import Any

from ledis.resources import STDLIB_DIR, stdlib_names


def run(args: Any) -> int:
    """``ledis functions load NAME...|--all`` / ``ledis functions list`` against a server."""
    import sys

    import redis

    command = getattr(args, "functions_command", None)
    if command not in ("load", "list"):
        print("usage: ledis functions {load NAME...|--all, list}", file=sys.stderr)
        return 2
    client = redis.Redis(host=args.host, port=args.port, password=args.password or None,
                         protocol=2)
    available = stdlib_names()
    if command == "list":
        loaded = {lib[b"library_name"].decode() if isinstance(lib, dict) else
                  dict(zip(lib[::2], lib[1::2], strict=True))[b"library_name"].decode()
                  for lib in client.function_list()}
        for name in available:
            print(f"{name}\t{'loaded' if name in loaded else '-'}")
        return 0
    names = available if args.all else args.names
    if not names:
        print("ledis functions load: give library names or --all", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        path = STDLIB_DIR / f"{name}.lua"
        if not path.exists():
            print(f"{name}: no such library in {STDLIB_DIR} (have: {', '.join(available)})",
                  file=sys.stderr)
            status = 1
            continue
        try:
            client.function_load(path.read_text(encoding="utf-8"), replace=True)
            print(f"{name}: loaded")
        except redis.RedisError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            status = 1
    return status
