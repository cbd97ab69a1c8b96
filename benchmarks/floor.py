"""The floor of a Python RESP server on this machine: a minimal asyncio + uvloop server.

    python benchmarks/floor.py --port 7777             # parse, answer, nothing stored
    python benchmarks/floor.py --port 7777 --rocksdb   # and a RocksDB write per write command
    python benchmarks/bench.py --floor                 # its column beside ledis and Redis

What it does per request is the least a server of ledis's shape must do: the same event loop
(uvloop), the same parser (one ``hiredis.Reader`` per connection), replies held and written
once per loop iteration (as ledis's group commit does), and with ``--rocksdb`` one rocksdict
``WriteBatch`` per iteration written with the WAL on (``appendfsync everysec``'s durability: no
sync) holding one put per write command (the key for SET and INCR, a new key per element for
LPUSH, key + member for the others), reads by one ``get`` (which sees what earlier loop
iterations wrote). No command table, no types, no expiry, no scripting: SET, HSET, SADD, ZADD,
LPUSH and INCR answer a fixed reply of the right type, GET the stored value, LRANGE the first
100 elements LPUSH stored (one RocksDB iterator; bare: a fixed 100-element array), anything
else ``+OK`` (no HELLO: clients speak RESP2 to it). Its requests/s against Redis's in the same
run (``bench.py --floor``) is how far a pure-Python server of this design can go; ledis's
against it is what ledis's own code costs on top (docs/PERFORMANCE.md, "The floor").
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import shutil
import signal
import tempfile
from typing import Any

import hiredis
import uvloop

_WRITES = {b"SET": b"+OK\r\n", b"HSET": b":1\r\n", b"SADD": b":1\r\n", b"ZADD": b":1\r\n",
           b"LPUSH": b":1\r\n", b"INCR": b":1\r\n", b"RPUSH": b":1\r\n"}
_PLAIN = {b"SET", b"INCR"}
_TOP = 1 << 63
_LRANGE = b"*100\r\n" + b"$3\r\nxxx\r\n" * 100


def _first(db, key: bytes, count: int) -> list[bytes]:
    it = db.iter()
    it.seek(key)
    values: list[bytes] = []
    while it.valid() and len(values) < count and it.key().startswith(key):
        values.append(it.value())
        it.next()
    return values


def _encode(values: list[bytes]) -> bytes:
    return b"*%d\r\n%s" % (len(values), b"".join(b"$%d\r\n%s\r\n" % (len(v), v)
                                                  for v in values))


class Floor:
    def __init__(self, db) -> None:
        self.db = db
        self.batch: Any = None  # a rocksdict.WriteBatch while an iteration has writes
        self.new_batch: Any = None  # rocksdict.WriteBatch(raw_mode=True) with --rocksdb
        self.held: list[Conn] = []
        self.pushed = 0  # LPUSH's counter: each element a new key, newest first
        self.loop: asyncio.AbstractEventLoop | None = None

    def hold(self, conn: Conn) -> None:
        if not self.held:
            self.loop.call_soon(self.flush)  # type: ignore[union-attr]
        self.held.append(conn)

    def flush(self) -> None:
        if self.batch is not None:
            self.db.write(self.batch)
            self.batch = None
        for conn in self.held:
            conn.transport.write(b"".join(conn.out))
            conn.out.clear()
        self.held = []


class Conn(asyncio.Protocol):
    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.reader = hiredis.Reader()
        self.out: list[bytes] = []
        self.transport: Any = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        reader, out, floor = self.reader, self.out, self.floor
        db = floor.db
        reader.feed(data)
        for argv in iter(reader.gets, False):
            name = argv[0].upper()
            reply = _WRITES.get(name)
            if reply is not None:
                if db is not None:
                    if floor.batch is None:
                        floor.batch = floor.new_batch()
                    # SET and INCR store the key, LPUSH a new element (key + a counter,
                    # as ledis's sequence numbers), the others a sub-key (key + member)
                    if name in _PLAIN:
                        sub = argv[1]
                    elif name == b"LPUSH":
                        floor.pushed += 1
                        sub = argv[1] + (_TOP - floor.pushed).to_bytes(8, "big")
                    else:
                        sub = b"".join(argv[1:3])
                    floor.batch.put(sub, argv[-1])
                out.append(reply)
            elif name == b"GET":
                value = db.get(argv[1]) if db is not None else b"xxx"
                out.append(b"$-1\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value))
            elif name == b"LRANGE":  # the first 100 elements LPUSH stored, by an iterator
                out.append(_LRANGE if db is None else _encode(_first(db, argv[1], 100)))
            elif name == b"CONFIG":  # redis-benchmark asks for save / appendonly
                out.append(b"*0\r\n")
            else:
                out.append(b"+OK\r\n")
        floor.hold(self)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rocksdb", action="store_true", help="store writes in a RocksDB (temp dir)")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="ledis-floor-")
    db = None
    if args.rocksdb:
        import rocksdict

        opts = rocksdict.Options(raw_mode=True)
        opts.create_if_missing(True)
        opts.set_write_buffer_size(8 * 1024 * 1024)  # ledis's default memtable
        db = rocksdict.Rdict(tmp, opts)
    floor = Floor(db)
    if db is not None:
        floor.new_batch = functools.partial(rocksdict.WriteBatch, raw_mode=True)
    uvloop.install()
    loop = asyncio.new_event_loop()
    floor.loop = loop
    loop.add_signal_handler(signal.SIGTERM, loop.stop)  # bench.py stops it so
    server = loop.run_until_complete(
        loop.create_server(lambda: Conn(floor), "127.0.0.1", args.port, backlog=511))
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if db is not None:
            db.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
