"""``ledis load``: restore a dump (or a Redis command stream) into a data dir or a server.

Input: a ledis dump file (``ledis.tools.dumpfile``) or, with ``--resp``, a RESP command stream
such as ``ledis dump --resp`` or any ``redis-cli --pipe`` input (parsed with hiredis).

Targets:

* ``--dir DIR``: opens the store in-process (refused while a server holds it) and runs the
  commands through the same dispatcher a client would (``Core.dispatch``), committing every
  ``BATCH`` commands; ``sys`` records (script cache, FUNCTION libraries) are written as they
  are;
* ``--host/--port``: sends the commands through redis-py pipelines of ``BATCH`` commands.
  Works against ledis or a real Redis.

Every key is written fresh (``DEL`` then SET/HSET/RPUSH/SADD/ZADD, then ``PEXPIREAT``); keys
whose expiry passed before the load are skipped. Errors are counted and the first few shown;
the exit status is 1 when any command failed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

from ledis.tools import dumpfile
from ledis.tools.dump import CommandStream, Progress, record_size
from ledis.tools.dumpfile import KEY, SYS

BATCH = 1000


class ServerTarget:
    def __init__(self, client) -> None:
        self.client = client
        self.pending: list[list] = []
        self.db = 0
        self.errors: list[str] = []
        self.error_count = 0

    def send(self, argv: list) -> None:
        self.pending.append(argv)
        if len(self.pending) >= BATCH:
            self.flush()

    def sys_record(self, name: bytes, value: bytes) -> None:
        for argv in CommandStream().commands([SYS, name, value]):
            self.send(argv)

    def flush(self) -> None:
        if not self.pending:
            return
        pipe = self.client.pipeline(transaction=False)
        # A pipeline may run on another pooled connection: restate the current db first.
        pipe.execute_command("SELECT", self.db)
        for argv in self.pending:
            if argv[0].upper() == b"SELECT":
                self.db = int(argv[1])
            pipe.execute_command(*argv)
        replies = pipe.execute(raise_on_error=False)
        for argv, reply in zip(self.pending, replies[1:], strict=True):
            if isinstance(reply, Exception):
                self._error(argv, str(reply))
        self.pending = []

    def _error(self, argv: list, text: str) -> None:
        self.error_count += 1
        if len(self.errors) < 5:
            shown = b" ".join(a[:40] for a in argv[:3]).decode("utf-8", "replace")
            self.errors.append(f"{shown}: {text}")

    def close(self) -> None:
        self.flush()
        self.client.close()


class DirTarget(ServerTarget):
    def __init__(self, path: str, databases: int = 16, compression: str | None = None) -> None:
        from ledis.config import Config
        from ledis.server.compose import build
        from ledis.storage.rocks import StoreLockedError

        config = Config()
        config.dir = path
        config.appendfsync = "no"
        config.databases = databases
        if compression:
            config.compression = compression
        try:
            self.core = build(config)
        except StoreLockedError:
            raise SystemExit(f"ledis: {path} is locked by a running server; load online "
                             f"with --host/--port instead") from None
        self.ctx = self.core.new_context(kind="loader")
        self.count = 0
        self.errors = []
        self.error_count = 0

    def send(self, argv: list) -> None:
        from ledis.errors import LedisError

        try:
            self.core.dispatch(self.ctx, argv)
        except LedisError as exc:
            self._error(argv, str(exc))
        self.count += 1
        if self.count % BATCH == 0:
            self.core.commit()

    def sys_record(self, name: bytes, value: bytes) -> None:
        from ledis.storage.layout import SYS as SYS_CF

        self.core.engine.put(SYS_CF, name, value)

    def flush(self) -> None:
        self.core.commit()

    def close(self) -> None:
        self.core.commit()
        self.core.engine.flush_wal()
        self.core.close()


def resp_commands(fh, chunk: int = 1 << 16) -> Iterator[tuple[list, int]]:
    """Commands of a RESP stream: ``(argv, bytes consumed so far)``."""
    import hiredis

    reader = hiredis.Reader()
    done = 0
    while True:
        data = fh.read(chunk)
        if not data:
            break
        done += len(data)
        reader.feed(data)
        while True:
            item = reader.gets()
            if item is False:
                break
            if not isinstance(item, list):
                raise dumpfile.DumpError(f"not a command in the RESP stream: {item!r:.60}")
            yield item, done
    if reader.has_data():
        raise dumpfile.DumpError("truncated RESP stream (a partial command at the end)")


def run(args) -> int:
    quiet = getattr(args, "quiet", False)
    if args.dir:
        target: ServerTarget = DirTarget(args.dir, compression=getattr(args, "compression", None))
    else:
        from ledis.tools.dump import connect

        target = ServerTarget(connect(args))
    fh = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")
    try:
        if args.resp:
            size = os.fstat(fh.fileno()).st_size if args.input != "-" else None
            progress = Progress("loaded", size, quiet=quiet, unit="B")
            seen = commands = 0
            for argv, done in resp_commands(fh):
                target.send(argv)
                commands += 1
                if done != seen:
                    progress.advance(done - seen)
                    seen = done
            target.close()
            progress.keys = commands
            progress.verb = "loaded (commands)"
        else:
            reader = dumpfile.DumpReader(fh)
            stream = CommandStream()
            size = os.fstat(fh.fileno()).st_size if args.input != "-" else None
            progress = Progress("loaded", size, quiet=quiet, unit="B")
            for record in reader:
                if record[0] == SYS:
                    target.sys_record(record[1], record[2])
                else:
                    for argv in stream.commands(record):
                        target.send(argv)
                progress.update_by_input(1 if record[0] == KEY else 0, record_size(record),
                                         reader.bytes_read)
            target.close()
    except dumpfile.DumpError as exc:
        print(f"ledis: {exc}", file=sys.stderr)
        try:
            target.close()
        except Exception:
            pass
        return 1
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
    extra = f", {target.error_count} errors" if target.error_count else ""
    progress.close(extra)
    for line in target.errors:
        print(f"  error: {line}", file=sys.stderr)
    return 1 if target.error_count else 0
