"""The replica side: follow one master, apply its write log, acknowledge.

``ReplicaLink.run`` connects (reconnecting with backoff, 0.1 s doubling to 2 s), does the
handshake (``AUTH masterauth`` when set, ``REPLCONF listening-port``, ``LEDIS.SYNC replid seq``)
and then applies what the master streams (``docs/replication.md``):

* ``FULLSYNC replid seq``: everything this server held is range-deleted (log included, and
  ``repl:id`` with it, so a crash in the middle forces a full sync again), then ``DATA`` chunks
  are written with the write log switched off, one commit per chunk; ``ENDSYNC`` sets the log
  position to ``seq`` and adopts the master's replid. During the load clients get LOADING
  (``core.loading``; the ``repl:loading`` marker keeps it across a restart), as Redis while
  it loads.
* ``CONTINUE replid seq``: incremental; the master's replid is adopted (the old one kept as
  replid2 when it differs, for our own replicas).
* ``LOG seq record ...``: each record is checked (CRC, seq = ours + 1) and its effects applied
  in one batch committed **as record seq** of our own log, with ``repl:applied`` in the same
  batch. ``repl:`` keys of the master are skipped. Then ``REPLCONF ACK seq`` (after each read,
  and every second).

The engine cache is written through by put/delete; range deletes of ``meta``/``sys`` drop the
cached keys; key counters and the SWAPDB map come back from ``sys`` via ``reload_mapping``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import hiredis

from ledis.replication import KEY_APPLIED, KEY_ID, KEY_LOADING, REPL_PREFIX
from ledis.resp import pack_request
from ledis.storage.engine import decode_record
from ledis.storage.layout import CF_NAMES, FORMAT_KEY, FORMAT_VERSION, META, SYS, U64

if TYPE_CHECKING:
    from ledis.replication import Replication

log = logging.getLogger("ledis.replication")

READ_SIZE = 1 << 20
ACK_EVERY_S = 1.0
TIMEOUT_S = 10.0  # no byte from the master for this long: reconnect
_ALL = (b"\x00", b"\xff" * 64)


# A master in disk format 2 (ledis before MOVE in O(1)) is followed: its data and records are
# valid format 3, which only adds what a format-2 master never writes (layout, "Home db").
_FORMAT_2 = U64.pack(2)

class ReplicaLink:
    def __init__(self, repl: Replication, host: str, port: int) -> None:
        self.repl = repl
        self.core = repl.core
        self.engine = repl.engine
        self.host = host
        self.port = port
        self.state = "connect"  # connect -> connecting -> sync -> connected
        self.task: asyncio.Task | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_io = 0.0
        self.down_since = time.time()
        self.sync_bytes = 0
        self.sync_keys = 0
        self.sync_total_keys = 0
        self.full_syncs = 0
        self.partial_syncs = 0
        self.stopped = False
        self.master_seq = 0
        self._full_seq = 0
        self._master_format: bytes | None = None  # sys "format" of the full sync's data
        self._full_replid = b""

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run())

    def stop(self) -> None:
        self.stopped = True
        if self.task is not None:
            self.task.cancel()
        if self.writer is not None:
            self.writer.close()
        if not self.engine.write_log:  # stopped in the middle of a full sync
            self.engine.write_log = True

    async def run(self) -> None:
        backoff = 0.1
        while not self.stopped:
            self.state = "connecting"
            try:
                await self.session()
                backoff = 0.1
            except asyncio.CancelledError:
                break
            except (TimeoutError, OSError, ConnectionError, EOFError) as exc:
                log.info("master link %s:%s: %s", self.host, self.port, exc)
            except Exception:
                log.exception("master link %s:%s failed", self.host, self.port)
            finally:
                if self.writer is not None:
                    self.writer.close()
                    self.writer = None
                if not self.engine.write_log:
                    self.engine.write_log = True
                if self.state != "connect":
                    self.down_since = time.time()
                self.state = "connect"
            if self.stopped:
                break
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    # --- one connection --------------------------------------------------------------------
    async def session(self) -> None:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), TIMEOUT_S)
        self.writer = writer
        parser = hiredis.Reader()
        config = self.core.config
        server = self.repl.server
        my_port = getattr(server, "port", 0) if server is not None else 0

        async def call(*args: bytes) -> Any:
            writer.write(pack_request(args))
            while True:
                reply = parser.gets()
                if reply is not False:
                    if isinstance(reply, hiredis.ReplyError):
                        raise ConnectionError(f"master replied {reply}")
                    return reply
                data = await asyncio.wait_for(reader.read(READ_SIZE), TIMEOUT_S)
                if not data:
                    raise ConnectionError("master closed the connection")
                parser.feed(data)

        password = config.masterauth
        if password:
            await call(b"AUTH", password.encode())
        # replica-announce-ip/-port (CONFIG SET, or the file's redis: section): the address
        # the master lists in INFO replication, where Sentinel discovers replicas (NAT, Docker)
        announce_port = config.redis_int("replica-announce-port")
        await call(b"REPLCONF", b"listening-port", b"%d" % (announce_port or my_port))
        announce_ip = config.redis_text("replica-announce-ip")
        if announce_ip:
            await call(b"REPLCONF", b"ip-address", announce_ip.encode())
        engine = self.engine
        engine.commit()
        args = [b"LEDIS.SYNC", self.repl.replid, b"%d" % engine.log_seq]
        if self.repl.off2 >= 0 and engine.log_seq == self.repl.off2:
            args.append(self.repl.replid2)  # nothing new since we left that history
        writer.write(pack_request(args))
        self.last_io = time.time()
        last_ack = 0.0
        while not self.stopped:
            try:
                data = await asyncio.wait_for(reader.read(READ_SIZE), ACK_EVERY_S)
            except TimeoutError:
                data = None
            now = time.time()
            if data is not None:
                if not data:
                    raise ConnectionError("master closed the connection")
                self.last_io = now
                parser.feed(data)
                if self.state == "sync":
                    self.sync_bytes += len(data)
                applied = False
                while True:
                    message = parser.gets()
                    if message is False:
                        break
                    applied = self.handle(message) or applied
                if applied or now - last_ack >= ACK_EVERY_S:
                    writer.write(pack_request((b"REPLCONF", b"ACK", b"%d" % engine.log_seq)))
                    last_ack = now
            else:
                if now - self.last_io > TIMEOUT_S:
                    raise ConnectionError("no data from the master, reconnecting")
                if self.state == "connected":
                    writer.write(pack_request((b"REPLCONF", b"ACK", b"%d" % engine.log_seq)))
                    last_ack = now
            await writer.drain()

    def handle(self, message: Any) -> bool:
        """Apply one message from the master; True when it changed our position."""
        if not isinstance(message, list) or not message:
            if isinstance(message, hiredis.ReplyError):
                raise ConnectionError(f"master replied {message}")
            return False  # the (empty) reply to LEDIS.SYNC, or noise
        kind = message[0]
        if kind == b"LOG":
            if self.state != "connected":
                raise ConnectionError("log record before the sync started")
            for i in range(1, len(message), 2):
                self.apply(U64.unpack(message[i])[0], message[i + 1])
            return True
        if kind == b"PING":
            self.master_seq = int(message[1])
            return False
        if kind == b"DATA":
            self.load_chunk(int(message[1]), message[2:])
            return False
        if kind == b"FULLSYNC":
            self.sync_total_keys = int(message[3]) if len(message) > 3 else 0
            self.begin_full(message[1], int(message[2]))
            return False
        if kind == b"ENDSYNC":
            self.end_full(int(message[1]))
            return True
        if kind == b"CONTINUE":
            seq = int(message[2])
            if seq != self.engine.log_seq:
                raise ConnectionError("CONTINUE at a seq we do not hold")
            if message[1] != self.repl.replid:
                self.repl.set_replid(message[1], keep_old=True)
                self.repl.master.disconnect_all()
            self.partial_syncs += 1
            self.state = "connected"
            log.info("replicating from %s:%s incrementally after seq %d",
                     self.host, self.port, seq)
            return True
        raise ConnectionError(f"unknown replication message {kind[:32]!r}")

    # --- applying ----------------------------------------------------------------------------
    def apply(self, seq: int, record: bytes) -> None:
        engine = self.engine
        try:
            _ts, effects = decode_record(record, seq)
        except ValueError:
            raise ConnectionError(f"record {seq} failed its CRC check") from None
        if seq != engine.log_seq + 1:
            raise ConnectionError(f"record {seq} out of order (we hold {engine.log_seq})")
        if engine.dirty:
            engine.commit()  # a local write (SCRIPT LOAD ...): keep it out of this record
        engine.log_seq = seq - 1
        if engine.kept:  # what a layer kept of the store is not ours to update (Engine.kept)
            engine.forget_kept()
        put = engine.put
        delete = engine.delete
        sys_changed = libs_changed = False
        for effect in effects:
            op, cf, key = effect[0], effect[1], effect[2]
            if cf == SYS:
                if key.startswith(REPL_PREFIX) and op != 2:
                    continue
                sys_changed = True
                if key.startswith(b"lib"):
                    libs_changed = True
            if op == 0:
                put(cf, key, effect[3])
            elif op == 1:
                delete(cf, key)
            else:
                engine.delete_range(cf, key, effect[3], drop_cached=cf in (META, SYS))
        put(SYS, KEY_APPLIED, U64.pack(seq))
        engine.commit()
        if sys_changed:
            self.core.store.reload_mapping()
            if libs_changed:
                self._reload_functions()

    def _reload_functions(self) -> None:
        functions = getattr(self.core, "functions", None)
        if functions is not None:
            functions.startup()
            if self.engine.dirty:  # autoload wrote something: keep it out of the stream
                self.engine.commit()

    def begin_full(self, replid: bytes, seq: int) -> None:
        engine = self.engine
        log.info("full sync from %s:%s (seq %d)", self.host, self.port, seq)
        self.state = "sync"
        self.sync_bytes = 0
        self.sync_keys = 0
        self._full_seq = seq
        self._full_replid = replid
        self.repl.master.disconnect_all()  # our own replicas follow a history we are leaving
        engine.commit()
        engine.write_log = False
        for cf in range(len(CF_NAMES)):
            engine.delete_range(cf, *_ALL, drop_cached=True)
        # Empty now, but a crash before the master's sys records arrive must not leave keys
        # without a format record (a store that is read as format 1, see storage/migrate.py).
        engine.put(SYS, FORMAT_KEY, U64.pack(FORMAT_VERSION))
        engine.put(SYS, KEY_LOADING, b"1")  # partial data until end_full, across a restart
        self._master_format = None
        engine.commit()
        self.core.loading = True  # clients get LOADING, as Redis while it loads

    def _refuse_format(self) -> None:
        """The master's data is in another disk format: its records (physical effects) would
        be misread here. Stop following it; the store is marked with the master's format, so
        a restart of this (newer) replica migrates what it received."""
        found = 1 if self._master_format is None else U64.unpack(self._master_format)[0]
        engine = self.engine
        if self._master_format is None:
            engine.delete(SYS, FORMAT_KEY)
        else:
            engine.put(SYS, FORMAT_KEY, self._master_format)
        engine.commit()
        self.stopped = True
        log.error("master %s:%s keeps its store in disk format %d, this replica reads %d: "
                  "replication stopped (run master and replicas on the same ledis version)",
                  self.host, self.port, found, FORMAT_VERSION)
        raise ConnectionError(f"master's disk format {found} is not {FORMAT_VERSION}")

    def load_chunk(self, cf: int, items: list) -> None:
        if self.state != "sync":
            raise ConnectionError("DATA outside a full sync")
        engine = self.engine
        engine.forget_kept()
        put = engine.put
        for i in range(0, len(items), 2):
            put(cf, items[i], items[i + 1])
        if cf == META:
            self.sync_keys += len(items) // 2
        elif cf == SYS and FORMAT_KEY in items[::2]:
            self._master_format = items[items.index(FORMAT_KEY) + 1]
        engine.commit()

    def end_full(self, seq: int) -> None:
        engine = self.engine
        repl = self.repl
        if self._master_format == _FORMAT_2:  # format 2's data is format 3's (layout): ours
            engine.put(SYS, FORMAT_KEY, U64.pack(FORMAT_VERSION))
        elif self._master_format != U64.pack(FORMAT_VERSION):
            self._refuse_format()
        engine.put(SYS, KEY_APPLIED, U64.pack(seq))
        engine.put(SYS, KEY_ID, self._full_replid)
        engine.delete(SYS, KEY_LOADING)
        engine.commit()
        engine.clear_cache()
        engine.write_log = True
        engine.log_seq = seq
        engine.log_first_seq = seq + 1
        repl.replid = b""  # force set_replid to write the ids again
        repl.set_replid(self._full_replid, keep_old=False)
        self.core.store.reload_mapping()
        scripting = getattr(self.core, "scripting", None)
        if scripting is not None and hasattr(scripting, "scripts"):
            scripting.scripts = {}
        self._reload_functions()
        self.full_syncs += 1
        self.state = "connected"
        self.core.loading = False
        log.info("full sync done: %d keys, seq %d", self.sync_keys, seq)
