"""``ledis dump``: a logical dump of every key, offline (data dir) or online (over the network).

Two sources produce the same records (see ``ledis.tools.dumpfile``):

* **offline** (``--dir DIR``): opens the RocksDB store directly (refused with a clear message
  when a running server holds its lock) and walks the ``meta`` family on a RocksDB snapshot,
  decoding each type from its layout (``ledis.storage.types.*`` docstrings). Expired keys that
  are still on disk are skipped. ``sys`` records ``script:*`` and ``lib:*`` (the EVAL script
  cache and FUNCTION libraries) are included.
* **online** (``--host/--port``): SCAN + TYPE, then one read command per key (GET, HGETALL,
  LRANGE 0 -1, SMEMBERS, ZRANGE 0 -1 WITHSCORES, XINFO STREAM key FULL COUNT 0) and PTTL,
  pipelined in batches. Each key is
  read by one command, so each key is consistent, but the dump as a whole is *not* a
  point-in-time snapshot: keys written while the dump runs may or may not be in it (take a
  checkpoint with BGSAVE and dump it offline for a snapshot). Keys that change type between
  TYPE and the read are read again. FUNCTION libraries are fetched with
  ``FUNCTION LIST WITHCODE`` when the server has it; the EVAL script cache cannot be listed
  over the protocol and is not in an online dump.

Both can write the binary dump format or, with ``--resp``, a Redis command stream
(SELECT/DEL/SET/HSET/RPUSH/SADD/ZADD/PEXPIREAT/SCRIPT LOAD/FUNCTION LOAD, and for streams
XADD/XSETID/XGROUP CREATE/XGROUP CREATECONSUMER/XCLAIM) that ``redis-cli --pipe`` loads into a
real Redis.

Streams are recorded as ``[KEY ... "stream" ... {"entries": [...]}]``, further ``[MORE,
{"entries": [...]}]`` chunks, then one ``[MORE, {"tail": [...]}]`` with the counters and
consumer groups (see :func:`stream_records`), so groups load after every entry. Loading
restores entries, last ID, entries-added, max-deleted ID, groups (last ID, entries-read),
consumers and pending entries (owner, delivery time, count); consumers' seen-times become
the load time, and pending entries whose message was deleted are dropped (XCLAIM skips
them), as in Redis's own AOF rewrite.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from ledis.resp import pack_request
from ledis.tools import dumpfile
from ledis.tools.dumpfile import CHUNK, KEY, MORE, SYS
from ledis.version import __version__

if TYPE_CHECKING:
    import redis

TYPE_CODES = {1: "string", 2: "hash", 3: "list", 4: "set", 5: "zset"}


# --- progress ------------------------------------------------------------------------------
class Progress:
    """A tqdm bar (keys, bytes, rate, ETA) on a TTY, nothing otherwise; always a summary."""

    def __init__(self, verb: str, total: int | None, quiet: bool = False,
                 stream: IO[str] | None = None, unit: str = "key") -> None:
        self.verb = verb
        self.stream = stream or sys.stderr
        self.keys = 0
        self.bytes = 0
        self.started = time.monotonic()
        self.quiet = quiet
        self.bar = None
        if not quiet and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, unit_scale=True, file=self.stream,
                            desc=verb, dynamic_ncols=True)

    def update(self, keys: int, nbytes: int) -> None:
        self.keys += keys
        self.bytes += nbytes
        if self.bar is not None:
            self.bar.update(keys)
            if keys:
                self.bar.set_postfix_str(_human(self.bytes), refresh=False)

    def advance(self, nbytes: int) -> None:
        """Progress counted in bytes of input (a RESP stream); the bar's unit is bytes."""
        self.bytes += nbytes
        if self.bar is not None:
            self.bar.update(nbytes)

    def update_by_input(self, keys: int, nbytes: int, input_done: int) -> None:
        """A bar in bytes of the input file (so it has an ETA), keys and payload counted."""
        self.keys += keys
        self.bytes += nbytes
        bar = self.bar
        if bar is not None and input_done > bar.n:
            bar.update(input_done - bar.n)
            bar.set_postfix_str(f"{self.keys:,} keys", refresh=False)

    def close(self, extra: str = "") -> str:
        if self.bar is not None:
            if self.bar.unit == "B":
                self.bar.set_postfix_str(f"{self.keys:,} keys", refresh=True)
            self.bar.close()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        line = (f"{self.verb} {self.keys} keys, {_human(self.bytes)} in {elapsed:.2f} s "
                f"({self.keys / elapsed:,.0f} keys/s, {_human(self.bytes / elapsed)}/s){extra}")
        if not self.quiet:
            print(line, file=self.stream)
        return line


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


# --- offline source ------------------------------------------------------------------------
def open_engine(path: str):
    """Open a data dir for a tool; raises SystemExit with a clear message when it is locked."""
    from ledis.storage.engine import Engine
    from ledis.storage.rocks import StoreLockedError, open_problem

    # A directory without CURRENT but with RocksDB files is a damaged store: Engine raises
    # StoreOpenError for it (ledis check reports it, ledis repair rebuilds it).
    if not os.path.isdir(path) or not (os.path.exists(os.path.join(path, "CURRENT"))
                                       or open_problem(path)):
        raise SystemExit(f"ledis: {path} is not a ledis data directory")
    try:
        return Engine(path, fsync="no")
    except StoreLockedError:
        raise SystemExit(
            f"ledis: {path} is locked by a running server; stop it, dump a checkpoint "
            f"(BGSAVE, then --dir on the checkpoint) or dump online with --host/--port"
        ) from None


def logical_map(engine) -> dict[int, int]:
    """Physical db byte -> logical db number (SWAPDB, see ledis.storage.keyspace.Store)."""
    from ledis.storage.layout import SYS as SYS_CF

    saved = engine.get(SYS_CF, b"dbmap")
    mapping = {i: i for i in range(256)}
    if saved is not None and sorted(saved) == list(range(len(saved))):
        for logical, physical in enumerate(saved):
            mapping[physical] = logical
    return mapping


def offline_total(engine) -> int:
    import struct

    from ledis.storage.layout import SYS as SYS_CF

    total = 0
    for _key, value in engine.iterate(SYS_CF, b"count:", b"count;"):
        total += struct.unpack(">qq", value)[0]
    return total


def decode_score(raw: bytes) -> float:
    """Inverse of ``ledis.storage.types.zset.encode_score`` (order-preserving doubles)."""
    import struct

    bits = int.from_bytes(raw, "big")
    bits = bits ^ (1 << 63) if bits & (1 << 63) else bits ^ ((1 << 64) - 1)
    return struct.unpack(">d", bits.to_bytes(8, "big"))[0]


def offline_records(engine, now_ms: int | None = None) -> Iterator[list]:
    """Every live key of the store as dump records, then the script/function ``sys`` records.

    One pass over ``meta`` in key order; a collection's sub-keys are read by a seek of one
    ``data`` iterator to its id prefix (``db | version``: sub-keys do not carry the key's name,
    so they cannot be grouped by key from a walk over ``data``). Sub-keys no metadata points
    to (``ledis check`` reports them) and expired keys are skipped. The store must be in the current
    disk format (``ledis check`` says, ``ledis repair`` migrates)."""
    from ledis.storage import layout
    from ledis.storage.layout import DATA, META, U64
    from ledis.storage.migrate import store_format

    found = store_format(engine)
    if found != layout.FORMAT_VERSION:
        raise SystemExit(f"ledis: the store is in disk format {found}, this ledis reads "
                         f"{layout.FORMAT_VERSION}; see 'ledis check'")
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    mapping = logical_map(engine)
    HASH, LIST, SET = layout.HASH, layout.LIST, layout.SET
    groups = 0
    read = engine.range_reader(DATA)
    for mkey, raw in engine.iterate(META, b""):
        type_code = raw[0]
        expire = U64.unpack_from(raw, 1)[0]
        if expire and expire <= now_ms:
            continue
        physical, key = mkey[0], mkey[1:]
        if type_code == layout.STRING:
            yield [KEY, mapping[physical], key, "string", expire, raw[9:]]
            continue
        if type_code == layout.STREAM:
            yield from offline_stream_records(engine, physical, mapping[physical], key,
                                              raw, expire)
            continue
        name = TYPE_CODES.get(type_code)
        if name is None:
            continue
        groups += 1
        if groups % 10_000 == 0:
            engine.clear_cache()  # bounded memory: nothing is written during a dump
        prefix = layout.sub_prefix(physical, U64.unpack_from(raw, 9)[0])
        n = len(prefix)
        head = [KEY, mapping[physical], key, name, expire, []]
        chunk: list = []
        for sub, value in read(prefix, layout.prefix_end(prefix)):
            if type_code == HASH:
                chunk += (sub[n:], value)
            elif type_code == LIST:
                chunk.append(value)
            elif type_code == SET:
                chunk.append(sub[n:])
            else:
                chunk += (sub[n:], decode_score(value))
            if len(chunk) >= CHUNK:
                if not head[5]:
                    head[5] = chunk
                    yield head
                else:
                    yield [MORE, chunk]
                chunk = []
        if chunk:  # (a collection without sub-keys is not a value: skipped, as before)
            yield _emit(head, chunk)
    yield from offline_sys_records(engine)


def _emit(head: list, chunk: list) -> list:
    """The record finishing a collection: its KEY record, or a MORE once KEY went out."""
    if head[5]:
        return [MORE, chunk]
    head[5] = chunk
    return head


def offline_sys_records(engine) -> Iterator[list]:
    from ledis.scripting.modules import static_order
    from ledis.storage.layout import SYS as SYS_CF

    for name, value in engine.iterate(SYS_CF, b"script:", b"script;"):
        yield [SYS, name, value]
    # FUNCTION libraries in dependency order (ledis.require), so that replaying them one
    # FUNCTION LOAD at a time works; the keys' order is alphabetical
    libraries = {name[4:]: value for name, value in engine.iterate(SYS_CF, b"lib:", b"lib;")}
    for name in static_order(libraries):
        yield [SYS, b"lib:" + name, libraries[name]]


# --- streams -------------------------------------------------------------------------------
def stream_records(db: int, key: bytes, expire: int, entries: list, tail: list
                   ) -> Iterator[list]:
    """A stream as records. ``entries`` are ``[ms, seq, [field, value, ...]]``; ``tail`` is
    ``[last_ms, last_seq, entries_added, max_deleted_ms, max_deleted_seq, groups]``, each
    group ``[name, last_ms, last_seq, entries_read, consumers, pending]`` with consumers
    ``[name, seen_ms]`` and pending entries ``[ms, seq, delivery_ms, count, consumer]``."""
    yield [KEY, db, key, "stream", expire, {b"entries": entries[:CHUNK]}]
    for i in range(CHUNK, len(entries), CHUNK):
        yield [MORE, {b"entries": entries[i:i + CHUNK]}]
    yield [MORE, {b"tail": tail}]


def offline_stream_records(engine, physical: int, db: int, key: bytes, raw: bytes,
                           expire: int) -> Iterator[list]:
    from types import SimpleNamespace

    from ledis.storage.types import stream as st

    view = SimpleNamespace(engine=engine, index=physical)  # what Stream reads through
    stream = st.Stream(view, key, raw)  # type: ignore[arg-type]
    state = st.state(view, stream)  # type: ignore[arg-type]
    entries = [[sid[0], sid[1], fields] for sid, fields in state["entries"]]
    groups = [[g["name"], *g["last"], g["entries_read"], [list(c) for c in g["consumers"]],
               [[sid[0], sid[1], t, n, who] for sid, t, n, who in g["pending"]]]
              for g in state["groups"]]
    tail = [*state["last"], state["added"], *state["max_deleted"], groups]
    yield from stream_records(db, key, expire, entries, tail)


def _parse_id(raw: bytes) -> list[int]:
    ms, seq = raw.split(b"-")
    return [int(ms), int(seq)]


def stream_from_info(info: list) -> tuple[list, list]:
    """``(entries, tail)`` (as :func:`stream_records` takes them) from a RESP2
    ``XINFO STREAM key FULL COUNT 0`` reply."""
    d = dict(zip(info[::2], info[1::2], strict=True))
    entries = [[*_parse_id(e[0]), list(e[1] or [])] for e in d[b"entries"]]
    groups = []
    for raw_group in d[b"groups"]:
        g = dict(zip(raw_group[::2], raw_group[1::2], strict=True))
        consumers = []
        for raw_consumer in g[b"consumers"]:
            c = dict(zip(raw_consumer[::2], raw_consumer[1::2], strict=True))
            consumers.append([c[b"name"], c[b"seen-time"]])
        pending = [[*_parse_id(p[0]), p[2], p[3], p[1]] for p in g[b"pending"]]
        read = g[b"entries-read"]
        groups.append([g[b"name"], *_parse_id(g[b"last-delivered-id"]),
                       -1 if read is None else read, consumers, pending])
    tail = [*_parse_id(d[b"last-generated-id"]), d[b"entries-added"],
            *_parse_id(d[b"max-deleted-entry-id"]), groups]
    return entries, tail


# --- online source -------------------------------------------------------------------------
def connect(args, db: int = 0) -> redis.Redis:
    import redis

    return redis.Redis(host=args.host, port=args.port, password=args.password or None,
                       db=db, protocol=2, socket_timeout=60)


def online_databases(client) -> int:
    try:
        return int(client.config_get("databases").get("databases", 16))
    except Exception:
        return 16


def online_total(client, databases: int) -> int:
    total = 0
    info = client.info("keyspace")
    for db in range(databases):
        entry = info.get(f"db{db}")
        if isinstance(entry, dict):
            total += int(entry.get("keys", 0))
    return total


_READ = {
    b"string": ("GET",),
    b"hash": ("HGETALL",),
    b"list": ("LRANGE", 0, -1),
    b"set": ("SMEMBERS",),
    b"zset": ("ZRANGE", 0, -1, "WITHSCORES"),
    b"stream": ("XINFO", "STREAM", "FULL", "COUNT", 0),  # the key goes after STREAM
}


def online_records(args, client, databases: int, batch: int = 500) -> Iterator[list]:
    for db in range(databases):
        conn = connect(args, db)
        try:
            if not conn.dbsize():
                continue
            cursor = 0
            while True:
                cursor, keys = conn.scan(cursor, count=batch)
                if keys:
                    # connect() does not decode responses: the keys are bytes
                    yield from _online_batch(conn, db, keys)  # type: ignore[arg-type]
                if not cursor:
                    break
        finally:
            conn.close()
    yield from online_sys_records(client)


def _online_batch(conn, db: int, keys: list[bytes], attempts: int = 3) -> Iterator[list]:
    import redis

    for _ in range(attempts):
        pipe = conn.pipeline(transaction=False)
        for key in keys:
            pipe.type(key)
        types = pipe.execute()
        pipe = conn.pipeline(transaction=False)
        todo = []
        for key, kind in zip(keys, types, strict=True):
            read = _READ.get(kind)
            if read is None:  # gone (b"none") or a type ledis does not have
                continue
            if kind == b"stream":
                pipe.execute_command(*read[:2], key, *read[2:])
            else:
                pipe.execute_command(read[0], key, *read[1:])
            pipe.pttl(key)
            todo.append((key, kind))
        replies = pipe.execute(raise_on_error=False)
        now = int(time.time() * 1000)
        retry = []
        for i, (key, kind) in enumerate(todo):
            value, pttl = replies[2 * i], replies[2 * i + 1]
            if isinstance(value, redis.ResponseError) or isinstance(pttl, Exception):
                retry.append(key)  # changed type between TYPE and the read
                continue
            if value is None or pttl == -2 or (kind != b"string" and not value):
                continue  # deleted or expired meanwhile
            expire = now + pttl if pttl > 0 else 0
            if kind == b"stream":
                yield from stream_records(db, key, expire, *stream_from_info(value))
                continue
            yield from _chunks(db, key, kind.decode(), expire, _flatten(kind, value))
        if not retry:
            return
        keys = retry


def _flatten(kind: bytes, value):
    if kind == b"string":
        return value
    if kind == b"hash":
        items = (value.items() if isinstance(value, dict)
                 else zip(value[::2], value[1::2], strict=True))
        return [x for pair in items for x in pair]
    if kind == b"zset":
        out: list = []
        for item in value:
            if isinstance(item, (list, tuple)):
                out += (item[0], float(item[1]))
            else:
                out.append(item)
        if out and not isinstance(value[0], (list, tuple)):  # flat member, score, ...
            out = [x if i % 2 == 0 else float(x) for i, x in enumerate(out)]
        return out
    return list(value)


def _chunks(db: int, key: bytes, kind: str, expire: int, value) -> Iterator[list]:
    if kind == "string" or len(value) <= CHUNK:
        yield [KEY, db, key, kind, expire, value]
        return
    step = CHUNK - CHUNK % 2
    yield [KEY, db, key, kind, expire, value[:step]]
    for i in range(step, len(value), step):
        yield [MORE, value[i:i + step]]


def online_sys_records(client) -> Iterator[list]:
    try:
        libraries = client.execute_command("FUNCTION", "LIST", "WITHCODE")
    except Exception:
        return
    for lib in libraries or []:
        fields = dict(zip(lib[::2], lib[1::2], strict=True)) if isinstance(lib, list) else lib
        name = fields.get(b"library_name") or fields.get("library_name")
        code = fields.get(b"library_code") or fields.get("library_code")
        if name and code:
            yield [SYS, b"lib:" + name, code]


# --- online snapshot (--snapshot): a full sync, as a replica gets it ------------------------
def snapshot_engine(args, workdir: str, progress_total=None):
    """Fetch a point-in-time copy of a running server into a scratch store in ``workdir``.

    Speaks the replication protocol (docs/replication.md): ``LEDIS.SYNC`` with an unknown
    replication id makes the master send a full sync of the state at one write-log position
    (RocksDB iterators opened right after a commit), while it keeps serving writes. The raw
    ``meta/data/zscore/expire/sys`` entries go into a scratch RocksDB store (bounded memory),
    which is then dumped like an offline directory. The link is closed at ``ENDSYNC``; while
    the copy runs the dump shows up as a replica (ROLE, INFO replication)."""
    import socket

    import hiredis

    from ledis.storage.engine import Engine

    sock = socket.create_connection((args.host, args.port), timeout=60)
    reader = hiredis.Reader()

    def reply():
        while True:
            item = reader.gets()
            if item is not False:
                return item
            data = sock.recv(1 << 20)
            if not data:
                raise SystemExit("ledis: the server closed the connection during the snapshot")
            reader.feed(data)

    def call(*argv):
        sock.sendall(pack_request(list(argv)))
        item = reply()
        if isinstance(item, hiredis.ReplyError):
            raise SystemExit(f"ledis: {' '.join(map(str, argv[:1]))}: {item}")
        return item

    if args.password:
        call(b"AUTH", args.password.encode())
    engine = Engine(workdir, fsync="no", write_log=False, compression="lz4")
    try:
        sock.sendall(pack_request([b"LEDIS.SYNC", b"0" * 40, b"0"]))
        seq = None
        puts = 0
        while True:
            message = reply()
            if isinstance(message, hiredis.ReplyError):
                raise SystemExit(f"ledis: the server refused the snapshot: {message}")
            if not isinstance(message, list) or not message:
                continue
            kind = message[0]
            if kind == b"FULLSYNC":
                seq = int(message[2])
            elif kind == b"DATA":
                cf = int(message[1])
                for i in range(2, len(message), 2):
                    engine.put(cf, message[i], message[i + 1])
                puts += len(message) // 2
                if puts >= 10_000:
                    engine.commit()
                    puts = 0
            elif kind == b"ENDSYNC":
                break
            elif kind == b"CONTINUE":
                raise SystemExit("ledis: the server offered an incremental sync, not a snapshot")
        engine.commit()
    except BaseException:
        engine.close()
        raise
    finally:
        sock.close()
    return engine, seq


# --- RESP output ---------------------------------------------------------------------------

def format_score(score: float) -> bytes:
    if score != score:
        raise ValueError("NaN score")
    if score in (float("inf"), float("-inf")):
        return b"+inf" if score > 0 else b"-inf"
    return repr(float(score)).encode()


class CommandStream:
    """Turns records into commands (argv lists) for a Redis-compatible target.

    Each key is written fresh: ``DEL key`` then the creating command(s), then ``PEXPIREAT``
    (after the key's first command; later chunks append to the same key). Keys whose expiry
    has passed by the time they are loaded are skipped.
    """

    def __init__(self, now_ms: int | None = None, replace: bool = True) -> None:
        self.db = -1
        self.key: bytes | None = None
        self.kind = ""
        self.skip = False
        self.replace = replace
        self.now_ms = now_ms
        self.stream_entries = 0  # entries written for the current stream key
        self.stream_expire = 0

    def commands(self, record: list) -> list[list]:
        tag = record[0]
        if tag == KEY:
            _tag, db, key, kind, expire, value = record
            now = self.now_ms if self.now_ms is not None else int(time.time() * 1000)
            self.key, self.kind = key, kind
            self.skip = bool(expire) and expire <= now
            if self.skip:
                return []
            out: list[list] = []
            if db != self.db:
                out.append([b"SELECT", b"%d" % db])
                self.db = db
            if self.replace and kind != "string":
                out.append([b"DEL", key])
            self.stream_entries = 0
            self.stream_expire = expire
            out += self._write(kind, key, value)
            if expire and kind != "stream":  # a stream may not exist before its tail
                out.append([b"PEXPIREAT", key, b"%d" % expire])
            return out
        if tag == MORE:
            if self.skip or self.key is None:
                return []
            return self._write(self.kind, self.key, record[1])
        if tag == SYS:
            name, value = record[1], record[2]
            if name.startswith(b"script:"):
                return [[b"SCRIPT", b"LOAD", value]]
            if name.startswith(b"lib:"):
                return [[b"FUNCTION", b"LOAD", b"REPLACE", value]]
        return []

    def _write(self, kind: str, key: bytes, value) -> list[list]:
        if kind == "string":
            return [[b"SET", key, value]]
        if kind == "stream":
            return self._write_stream(key, value)
        if not value:
            return []
        if kind == "hash":
            return [[b"HSET", key, *value]]
        if kind == "list":
            return [[b"RPUSH", key, *value]]
        if kind == "set":
            return [[b"SADD", key, *value]]
        if kind == "zset":
            args: list = [b"ZADD", key]
            for i in range(0, len(value), 2):
                args += (format_score(value[i + 1]), value[i])
            return [args]
        raise ValueError(f"unknown type {kind!r}")

    def _write_stream(self, key: bytes, value: dict) -> list[list]:
        """Commands for one stream record (see :func:`stream_records`)."""
        entries = value.get(b"entries")
        if entries is not None:
            self.stream_entries += len(entries)
            return [[b"XADD", key, b"%d-%d" % (ms, seq), *fields] for ms, seq, fields in entries]
        last_ms, last_seq, added, deleted_ms, deleted_seq, groups = value[b"tail"]
        out: list[list] = []
        if not self.stream_entries:  # create it empty, as Redis's AOF rewrite does
            first = b"%d-%d" % (last_ms, last_seq) if (last_ms, last_seq) != (0, 0) else b"0-1"
            out.append([b"XADD", key, b"MAXLEN", b"0", first, b"x", b"y"])
        setid = [b"XSETID", key, b"%d-%d" % (last_ms, last_seq), b"ENTRIESADDED", b"%d" % added]
        if (deleted_ms, deleted_seq) != (0, 0):
            setid += [b"MAXDELETEDID", b"%d-%d" % (deleted_ms, deleted_seq)]
        out.append(setid)
        for name, g_ms, g_seq, entries_read, consumers, pending in groups:
            out.append([b"XGROUP", b"CREATE", key, name, b"%d-%d" % (g_ms, g_seq),
                        b"ENTRIESREAD", b"%d" % entries_read])
            for consumer, _seen in consumers:
                out.append([b"XGROUP", b"CREATECONSUMER", key, name, consumer])
            for ms, seq, delivered, count, consumer in pending:
                out.append([b"XCLAIM", key, name, consumer, b"0", b"%d-%d" % (ms, seq),
                            b"TIME", b"%d" % delivered, b"RETRYCOUNT", b"%d" % count,
                            b"FORCE", b"JUSTID"])
        if self.stream_expire:
            out.append([b"PEXPIREAT", key, b"%d" % self.stream_expire])
        return out


def record_size(record: list) -> int:
    """Approximate payload bytes of a record (for progress)."""
    tag = record[0]
    if tag == KEY:
        value = record[5]
        return len(record[2]) + (len(value) if isinstance(value, bytes)
                                 else sum(len(v) if isinstance(v, bytes) else 8 for v in value))
    if tag == MORE:
        return sum(len(v) if isinstance(v, bytes) else 8 for v in record[1])
    return len(record[1]) + len(record[2])


# --- the command -----------------------------------------------------------------------------
def run(args) -> int:
    """``ledis dump``: see ``ledis dump --help``."""
    quiet = getattr(args, "quiet", False)
    engine = client = None
    cleanup: list = []
    if args.dir:
        engine = open_engine(args.dir)
        total = offline_total(engine)
        records = offline_records(engine)
        source = {"source": "dir", "dir": os.path.abspath(args.dir)}
    elif getattr(args, "snapshot", False):
        import shutil
        import tempfile

        scratch = tempfile.mkdtemp(prefix="ledis-snapshot-",
                                   dir=os.path.dirname(os.path.abspath(args.output))
                                   if args.output != "-" else None)
        cleanup.append(lambda: shutil.rmtree(scratch, ignore_errors=True))
        engine, seq = snapshot_engine(args, scratch)
        total = offline_total(engine)
        records = offline_records(engine)
        source = {"source": "server-snapshot", "host": args.host, "port": args.port,
                  "log_seq": seq}
    else:
        client = connect(args)
        databases = online_databases(client)
        total = online_total(client, databases)
        records = online_records(args, client, databases)
        source = {"source": "server", "host": args.host, "port": args.port}
    out_path = args.output
    fh = sys.stdout.buffer if out_path == "-" else open(out_path + ".tmp", "wb")
    progress = Progress("dumped", total, quiet=quiet)
    try:
        if args.resp:
            stream = CommandStream(replace=True)
            written = 0
            for record in records:
                for argv in stream.commands(record):
                    data = pack_request(argv)
                    fh.write(data)
                    written += len(data)
                progress.update(1 if record[0] == KEY else 0, record_size(record))
            fh.flush()
            extra = f" -> {out_path} ({_human(written)} RESP)"
        else:
            info = {"ledis": __version__, "created_ms": int(time.time() * 1000), **source}
            writer = dumpfile.DumpWriter(fh, info, codec=args.codec)
            for record in records:
                size = writer.write(record)
                progress.update(1 if record[0] == KEY else 0, size)
            writer.close()
            extra = (f" -> {out_path} ({_human(writer.bytes_written)} on disk, "
                     f"{writer.records} records)")
    except BaseException:
        if out_path != "-":
            fh.close()
            os.unlink(out_path + ".tmp")
        raise
    finally:
        if engine is not None:
            engine.close()
        if client is not None:
            client.close()
        for step in cleanup:
            step()
    if out_path != "-":
        fh.close()
        os.replace(out_path + ".tmp", out_path)
    progress.close(extra)
    return 0
