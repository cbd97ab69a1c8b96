"""The ``ledis`` command line: ``ledis server`` and the operator tools."""

from __future__ import annotations

import argparse
import logging
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
    for name in ("bind", "port", "dir", "requirepass", "appendfsync", "databases",
                 "maxclients", "loglevel", "compression", "lua_time_limit_ms",
                 "lua_max_memory_mb"):
        value = getattr(args, name, None)
        if value is not None:
            config.set(name, value, f"--{name}".replace("_ms", "").replace("_mb", "").replace("_", "-"))
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
    server.add_argument("--appendfsync", choices=("always", "everysec", "no"))
    server.add_argument("--databases", type=int)
    server.add_argument("--maxclients", type=int)
    server.add_argument("--loglevel", choices=tuple(LOG_LEVELS))
    server.add_argument("--compression", choices=("none", "lz4", "zstd", "snappy"))
    server.add_argument("--lua-time-limit", dest="lua_time_limit_ms", type=int,
                        help="ms before a script makes the server answer BUSY (0 = never)")
    server.add_argument("--lua-max-memory", dest="lua_max_memory_mb", type=int,
                        help="memory cap of the Lua VM in MB")
    server.set_defaults(func=cmd_server)
    return parser


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
