"""The ``ledis`` command line: ``ledis server`` and the operator tools."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ledis import errors
from ledis.config import LOG_LEVELS, Config, ConfigError
from ledis.version import __version__


def build_config(args: argparse.Namespace) -> Config:
    """Defaults, then the YAML file, then command-line flags. A ConfigError's ``source`` says
    which of them was wrong."""
    config = Config()
    if args.config:
        config.load_yaml(args.config)
    backend = os.environ.get("LEDIS_BACKEND")  # run a whole test suite on another backend
    try:
        if backend:
            config.set("backend", backend, "LEDIS_BACKEND")
    except ConfigError as exc:
        exc.source = "environment"
        raise
    try:
        for action in SERVER_OPTIONS:
            value = getattr(args, action.dest, None)
            if value is not None:
                config.set(action.dest, value, action.option_strings[0])
    except ConfigError as exc:
        exc.source = "command line"
        raise
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
    """Config, preflight (ledis/startup.py: checks, listening sockets), then the store and
    the loop. Every failure up to the store's opening is a StartupError or ConfigError: one
    line, exit 2 (``main``), with nothing created on disk."""
    from ledis.startup import StartupError, preflight

    config = build_config(args)
    listeners = preflight(config)
    try:
        from ledis.server.app import run
        from ledis.server.compose import build
        from ledis.storage.migrate import StoreFormatError
        from ledis.storage.rocks import StoreLockedError, StoreOpenError

        setup_logging(config)
        try:
            core = build(config)
        except StoreLockedError:
            raise StartupError(errors.STARTUP_STORE_LOCKED, os.path.abspath(config.dir),
                               errors.STORE_LOCKED_WHY) from None
        except StoreFormatError as exc:  # written by a newer ledis
            raise StartupError(errors.STARTUP_STORE_FORMAT, os.path.abspath(config.dir),
                               str(exc)) from None
        except StoreOpenError as exc:  # damaged or missing files: one line, no traceback
            where = os.path.abspath(config.dir)
            raise StartupError(errors.STARTUP_STORE_OPEN, where,
                               errors.STORE_OPEN_WHY.format(exc, where, where)) from None
    except BaseException:
        listeners.close()
        raise
    run(core, listeners)
    return 0


# (option, dest, type, choices, help) of every `ledis server` flag that maps onto a Config
# option: the parser and build_config are both made from this list.
_SERVER_FLAGS: list[tuple[str, str, type, tuple[str, ...] | None, str]] = [
    ("--bind", "bind", str, None, "addresses to listen on, space separated (default 127.0.0.1)"),
    ("--port", "port", int, None, "RESP port (default 6380; 0 = a free port, see the log)"),
    ("--dir", "dir", str, None, "data directory, created if missing (default ./data)"),
    ("--requirepass", "requirepass", str, None, "password clients must AUTH with"),
    ("--appendfsync", "appendfsync", str, ("always", "everysec", "no"),
     "fsync of the write-ahead log (default everysec)"),
    ("--databases", "databases", int, None, "number of databases, 1-256 (default 16)"),
    ("--maxclients", "maxclients", int, None, "most clients connected at once (default 10000)"),
    ("--loglevel", "loglevel", str, tuple(LOG_LEVELS), "log level (default notice)"),
    ("--compression", "compression", str, ("none", "lz4", "zstd", "snappy"),
     "RocksDB block compression (default lz4)"),
    ("--backend", "backend", str, ("rocksdb", "memory"),
     "storage backend (default rocksdb; memory: nothing persists, for caches/tests)"),
    ("--reply-chunk-entries", "reply_chunk_entries", int, None,
     "entries per chunk of a long streamed reply (default 1024; 0 = replies built at once)"),
    ("--lua-time-limit", "lua_time_limit_ms", int, None,
     "ms before a script makes the server answer BUSY (default 5000; 0 = never)"),
    ("--lua-max-memory", "lua_max_memory_mb", int, None,
     "memory cap of the Lua VM in MB (default 256)"),
    ("--trigger-max-depth", "trigger_max_depth", int, None,
     "levels of keyspace triggers fired by triggers' writes (default 8)"),
    ("--replicaof", "replicaof", str, None, 'start as a replica of "host port"'),
    ("--masterauth", "masterauth", str, None, "password for the master"),
    ("--min-replica-acks", "min_replica_acks", int, None,
     "semi-sync: replicas that must ack a write before its reply (default 0 = async)"),
    ("--semi-sync-timeout", "semi_sync_timeout_ms", int, None,
     "ms to wait for semi-sync acks before degrading to async (default 1000)"),
    ("--repl-log", "repl_log", str, ("auto", "always"),
     "write log from the first replica on (auto, default) or always"),
    ("--repl-log-keep", "repl_log_keep", int, None,
     "write-log records kept for incremental resync (default 1000000)"),
    ("--repl-log-max-mb", "repl_log_max_mb", int, None,
     "trim the write log past this size in MiB (default 0 = no limit)"),
    ("--repl-log-retention", "repl_log_retention_s", int, None,
     "trim write-log records older than this many seconds (default 0 = none)"),
    ("--http-bind", "http_bind", str, None, "serve the HTTP API on these addresses"),
    ("--http-port", "http_port", int, None,
     "HTTP API port (default 11181; turns HTTP on, loopback unless --http-bind)"),
    ("--functions-autoload", "functions_autoload", str, None,
     "stdlib libraries to load at startup: lock,queue or all"),
    ("--protected-mode", "protected_mode", str, ("yes", "no"),
     "without a password, accept only 127.0.0.1 / ::1 clients (default yes)"),
    ("--tls-port", "tls_port", int, None, "RESP over TLS on this port (default 0 = off)"),
    ("--tls-cert-file", "tls_cert_file", str, None, "server certificate (PEM) for TLS"),
    ("--tls-key-file", "tls_key_file", str, None, "private key (PEM) of the certificate"),
    ("--tls-ca-cert-file", "tls_ca_cert_file", str, None,
     "CA certificates (PEM) that client certificates must chain to"),
    ("--tls-auth-clients", "tls_auth_clients", str, ("yes", "no", "optional"),
     "client certificates: required (yes, default), optional, or not asked for (no)"),
    ("--tls-protocols", "tls_protocols", str, None,
     'TLS versions, e.g. "TLSv1.2 TLSv1.3" (the default)'),
    ("--http-tls", "http_tls", str, ("yes", "no"), "serve the HTTP API over HTTPS (default no)"),
]
SERVER_OPTIONS: list[argparse.Action] = []  # filled by make_parser


class _Parser(argparse.ArgumentParser):
    """argparse hands arguments a subcommand does not know up to the top-level parser, which
    reports them with the top-level usage. This parser notes the innermost (sub)command that
    had such arguments, so ``main`` reports them with that subcommand's usage instead."""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and getattr(namespace, "_unknown_in", None) is None:
            namespace._unknown_in = self  # an inner parser returns first: it wins
        return namespace, extras


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ledis", description="ledis datastore")
    parser.add_argument("--version", action="version", version=f"ledis {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser,
                                help="what to run (ledis COMMAND -h for its flags)")
    # no abbreviations: "--prot" must stay an unknown flag, not become --protected-mode
    server = sub.add_parser("server", help="run the server", allow_abbrev=False)
    server.add_argument("--config", help="YAML config file (ledis.example.yaml lists every "
                                         "option); flags override it")
    SERVER_OPTIONS.clear()
    for option, dest, kind, choices, text in _SERVER_FLAGS:
        metavar = None if choices else option[2:].upper().replace("-", "_")
        SERVER_OPTIONS.append(server.add_argument(option, dest=dest, type=kind, choices=choices,
                                                  metavar=metavar, help=text))
    server.add_argument("--aclfile", help="ACL users file (ACL SAVE / LOAD; loaded at start)")
    server.set_defaults(func=cmd_server)
    add_tool_parsers(sub)
    add_functions_parser(sub)
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
    p.add_argument("--host", default="127.0.0.1",
                   help="host of the server, with --port (default 127.0.0.1)")
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
    check.add_argument("dir", help="data directory (no server running on it)")
    check.add_argument("-q", "--quiet", action="store_true",
                       help="accepted; check prints only the problems and a summary anyway")
    check.set_defaults(func=_tool("check"), repair=False)
    repair = sub.add_parser("repair", help="check a data directory and fix what is safe")
    repair.add_argument("dir", help="data directory (no server running on it)")
    repair.add_argument("-q", "--quiet", action="store_true",
                        help="accepted; repair prints only the fixes and a summary anyway")
    repair.set_defaults(func=_tool("check"), repair=True)
    restore = sub.add_parser("restore-checkpoint",
                             help="replace a data directory with a checkpoint (server stopped)")
    restore.add_argument("path", help="checkpoint directory (from SAVE/BGSAVE)")
    restore.add_argument("--dir", required=True, help="data directory to restore into")
    restore.add_argument("--force", action="store_true",
                         help="replace a non-empty data directory (it is kept as DIR.old-<time>)")
    restore.set_defaults(func=_tool("checkpoint"))


def add_functions_parser(sub) -> None:
    """``ledis functions load NAME...|--all`` and ``ledis functions list`` (against a server;
    run by ``ledis.tools.functions_cli``)."""
    p = sub.add_parser("functions", help="load stdlib/ FUNCTION libraries into a running server")
    p.add_argument("--host", default="127.0.0.1", help="host of the server (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=6380, help="port of the server (default 6380)")
    p.add_argument("--password", default="", help="AUTH password of the server")
    fsub = p.add_subparsers(dest="functions_command", metavar="COMMAND", help="load or list")
    load = fsub.add_parser("load", help="FUNCTION LOAD REPLACE stdlib/<name>.lua")
    load.add_argument("names", nargs="*", help="library names (files in stdlib/)")
    load.add_argument("--all", action="store_true", help="every library in stdlib/")
    fsub.add_parser("list", help="the stdlib libraries and whether the server has them")

    def run(args: argparse.Namespace) -> int:
        from ledis.tools.functions_cli import run as run_functions

        return run_functions(args)
    p.set_defaults(func=run)


def main(argv: list[str] | None = None) -> int:
    """Exit status: what the command returns; 2 for a usage, config or startup error, which
    is one line on stderr (after the usage for a bad flag), never a traceback."""
    from ledis.startup import StartupError

    parser = make_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        culprit = getattr(args, "_unknown_in", None) or parser
        culprit.error(f"unrecognized arguments: {' '.join(unknown)}")  # exits 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(errors.STARTUP_LINE.format(errors.STARTUP_CONFIG, exc.source or "command line",
                                         exc), file=sys.stderr)
        return 2
    except StartupError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
