"""The ``ledis`` command line: ``ledis server`` and the operator tools."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ledis import __version__
from ledis.config import Config, ConfigError

LOG_LEVELS = {
    "debug": logging.DEBUG, "verbose": logging.INFO, "notice": logging.INFO,
    "warning": logging.WARNING,
}


def build_config(args: argparse.Namespace) -> Config:
    """Defaults, then the YAML file, then command-line flags."""
    config = Config()
    if args.config:
        config.load_yaml(args.config)
    backend = os.environ.get("LEDIS_BACKEND")  # run a whole test suite on another backend
    if backend:
        config.set("backend", backend, "LEDIS_BACKEND")
    for name in ("bind", "port", "dir", "requirepass", "appendfsync", "databases",
                 "maxclients", "loglevel", "compression", "backend", "lua_time_limit_ms",
                 "lua_max_memory_mb", "http_bind", "http_port", "replicaof", "masterauth",
                 "min_replica_acks", "semi_sync_timeout_ms", "repl_log", "repl_log_keep",
                 "repl_log_max_mb", "repl_log_retention_s",
                 "functions_autoload"):
        value = getattr(args, name, None)
        if value is not None:
            config.set(name, value, f"--{name}".replace("_ms", "").replace("_mb", "").replace("_", "-"))
    if getattr(args, "aclfile", None):
        config.extra["aclfile"] = args.aclfile  # Redis's aclfile (ledis/acl.py)
    if getattr(args, "http_port", None) is not None and not config.http_bind:
        config.http_bind = "127.0.0.1"  # --http-port alone turns HTTP on, loopback only
    return config


def setup_logging(config: Config) -> None:
    logging.basicConfig(
        level=LOG_LEVELS.get(config.loglevel, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        filename=config.logfile or None,
    )


def cmd_server(args: argparse.Namespace) -> int:
    from ledis.core import Core, load_commands
    from ledis.server.app import run
    from ledis.storage.engine import StoreLockedError

    config = build_config(args)
    setup_logging(config)
    load_commands()
    try:
        core = Core(config)
    except StoreLockedError as exc:
        logging.getLogger("ledis").error("%s", exc)
        return 1
    run(core)
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledis", description="ledis datastore")
    parser.add_argument("--version", action="version", version=f"ledis {__version__}")
    sub = parser.add_subparsers(dest="command")
    server = sub.add_parser("server", help="run the server")
    server.add_argument("--config", help="YAML config file")
    server.add_argument("--bind", help="addresses to listen on (space separated)")
    server.add_argument("--port", type=int)
    server.add_argument("--dir", help="data directory")
    server.add_argument("--requirepass")
    server.add_argument("--aclfile", help="ACL users file (ACL SAVE / LOAD, loaded at start)")
    server.add_argument("--appendfsync", choices=("always", "everysec", "no"))
    server.add_argument("--databases", type=int)
    server.add_argument("--maxclients", type=int)
    server.add_argument("--loglevel", choices=tuple(LOG_LEVELS))
    server.add_argument("--compression", choices=("none", "lz4", "zstd", "snappy"))
    server.add_argument("--backend", choices=("rocksdb", "memory"),
                        help="storage backend (memory: nothing persists, for caches/tests)")
    server.add_argument("--lua-time-limit", dest="lua_time_limit_ms", type=int,
                        help="ms before a script makes the server answer BUSY (0 = never)")
    server.add_argument("--lua-max-memory", dest="lua_max_memory_mb", type=int,
                        help="memory cap of the Lua VM in MB")
    server.add_argument("--replicaof", help='start as a replica of "host port"')
    server.add_argument("--masterauth", help="password for the master")
    server.add_argument("--min-replica-acks", dest="min_replica_acks", type=int,
                        help="semi-sync: replicas that must ack a write before its reply")
    server.add_argument("--semi-sync-timeout", dest="semi_sync_timeout_ms", type=int,
                        help="ms to wait for semi-sync acks before degrading to async")
    server.add_argument("--repl-log", dest="repl_log", choices=("auto", "always"),
                        help="write log from the first replica on (auto) or always")
    server.add_argument("--repl-log-keep", dest="repl_log_keep", type=int,
                        help="write-log records kept for incremental resync")
    server.add_argument("--repl-log-max-mb", dest="repl_log_max_mb", type=int,
                        help="trim the write log past this size in MiB (0 = no limit)")
    server.add_argument("--repl-log-retention", dest="repl_log_retention_s", type=int,
                        help="trim write-log records older than this many seconds (0 = none)")
    server.add_argument("--http-bind", help="serve the HTTP API on these addresses")
    server.add_argument("--http-port", type=int,
                        help="HTTP API port (turns HTTP on, loopback unless --http-bind)")
    server.add_argument("--functions-autoload", dest="functions_autoload",
                        help="stdlib libraries to load at startup: lock,queue or all")
    server.set_defaults(func=cmd_server)
    add_tool_parsers(sub)
    from ledis.scripting.functions import add_cli_parser

    add_cli_parser(sub)  # ledis functions load NAME|--all / list
    return parser


def _tool(module: str):
    def run(args: argparse.Namespace) -> int:
        import importlib

        return importlib.import_module(f"ledis.tools.{module}").run(args)
    return run


def _source_args(p: argparse.ArgumentParser, verb: str) -> None:
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--dir", help=f"{verb} a data directory (offline; no server on it)")
    where.add_argument("--port", type=int, help=f"{verb} a running server on this port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--password", default="", help="AUTH password of the server")
    p.add_argument("--resp", action="store_true",
                   help="a Redis command stream (redis-cli --pipe format) instead of a dump")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")


def add_tool_parsers(sub) -> None:
    """Operator tools (docs/operations.md): dump, load, check, repair, restore-checkpoint."""
    dump = sub.add_parser("dump", help="write a logical dump (offline from --dir or online)")
    _source_args(dump, "dump")
    dump.add_argument("-o", "--output", required=True, help="output file ('-' = stdout)")
    dump.add_argument("--codec", choices=("zlib", "none"), default="zlib",
                      help="compression of the dump frames (default zlib)")
    dump.add_argument("--snapshot", action="store_true",
                      help="online: dump a point-in-time snapshot fetched like a replica's "
                           "full sync (default: per-key consistent SCAN)")
    dump.set_defaults(func=_tool("dump"))
    load = sub.add_parser("load", help="load a dump (or --resp stream) into --dir or a server")
    _source_args(load, "load into")
    load.add_argument("input", help="dump file or RESP stream ('-' = stdin)")
    load.add_argument("--compression", choices=("none", "lz4", "zstd", "snappy"),
                      help="with --dir: RocksDB compression of the store (default lz4)")
    load.set_defaults(func=_tool("load"))
    check = sub.add_parser("check", help="verify a data directory (offline)")
    check.add_argument("dir")
    check.add_argument("-q", "--quiet", action="store_true")
    check.set_defaults(func=_tool("check"), repair=False)
    repair = sub.add_parser("repair", help="check a data directory and fix what is safe")
    repair.add_argument("dir")
    repair.add_argument("-q", "--quiet", action="store_true")
    repair.set_defaults(func=_tool("check"), repair=True)
    restore = sub.add_parser("restore-checkpoint",
                             help="replace a data directory with a checkpoint (server stopped)")
    restore.add_argument("path", help="checkpoint directory (from SAVE/BGSAVE)")
    restore.add_argument("--dir", required=True, help="data directory to restore into")
    restore.add_argument("--force", action="store_true",
                         help="replace a non-empty data directory (it is kept as DIR.old-<time>)")
    restore.set_defaults(func=_tool("checkpoint"))


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"ledis: config error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
