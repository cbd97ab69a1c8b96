"""The master side: one sender per replica, acks, WAIT and semi-sync.

A replica's connection turns into a replication link when it sends ``LEDIS.SYNC replid seq``
(see ``docs/replication.md``). Its :class:`ReplicaStream` then writes straight to the
connection's transport (not through the group-commit reply path):

* **full sync** when the replica's history is unknown or the log no longer reaches back to
  its seq: RocksDB iterators over ``meta/data/zscore/expire/sys`` are opened synchronously right
  after a commit (an iterator is an implicit consistent snapshot), so they show exactly the
  state at ``seq``; chunks of raw key/values follow, then the live stream from ``seq``;
* **the live stream** reads committed records from the ``log`` family (never the pending
  batch: a replica never gets a write before the master's own WAL has it) and sends them as
  they are (``crc|msgpack``: the master does not decode them).

Each stream keeps its own position and waits for the transport's buffer to drain below
``HIGH_WATER`` before reading more, so memory per replica is bounded and a slow replica never
slows clients; a replica so far behind that the log was trimmed past its position is
disconnected, and resynchronises in full when it comes back.

Acks (``REPLCONF ACK seq``) move each replica's ``ack``; they resolve WAIT and release the
replies held by semi-sync. **Semi-sync** (``min_replica_acks`` > 0) is a gate in the server's
flush (``Server.reply_gate``): after the group commit, when the newest seq is not yet acked by
enough replicas, the replies of that iteration are held (in order per connection) until the
acks come or ``semi_sync_timeout_ms`` passes. A timeout releases everything, switches to async
(counted in INFO ``semi_sync_timeouts``) until the replicas have caught up again. A replica
that disconnects does not release anything: the held replies wait for another ack (a replica
reconnecting in time) or the timeout, so a write is never acknowledged that no replica has
unless the timeout says so. The master starts (and restarts) async, and turns semi-sync on
once enough replicas have acknowledged its newest seq.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from ledis.replies import Pending
from ledis.resp import pack_request
from ledis.storage.layout import DATA, EXPIRE, LOG, META, SYS, U64, ZSCORE

if TYPE_CHECKING:
    from ledis.replication import Replication

log = logging.getLogger("ledis.replication")

HIGH_WATER = 4 * 1024 * 1024  # bytes queued in a replica's transport before we wait
CHUNK_BYTES = 256 * 1024
CHUNK_RECORDS = 1024
STALL_LIMIT_S = 60.0  # a replica that does not read for this long is dropped
PING_EVERY_S = 1.0
FULL_SYNC_CFS = (META, DATA, ZSCORE, EXPIRE, SYS)


class ReplicaStream:
    """One connected replica: its position, acks and sender task."""

    def __init__(self, master: Master, ctx: Any, full: bool, start_seq: int) -> None:
        self.master = master
        self.ctx = ctx
        self.conn = ctx.conn
        self.transport = ctx.conn.transport
        self.ip = ctx.extra.get("announce_ip") or (
            ctx.addr.rsplit(":", 1)[0] if ctx.addr else "127.0.0.1")
        self.port = int(ctx.extra.get("listening_port", 0))
        self.full = full
        self.pos = start_seq  # last seq sent
        self.ack = start_seq if not full else 0
        self.ack_time = time.time()
        self.state = "wait_bgsave" if full else "online"
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.closed = False
        self._iters: list | None = None
        self.last_write = time.monotonic()

    def lag(self) -> int:
        return int(time.time() - self.ack_time)

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run())

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._iters = None
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self.master.remove(self)

    def write(self, data: bytes) -> None:
        if self.transport.is_closing():
            raise ConnectionError("replica went away")
        self.transport.write(data)
        self.last_write = time.monotonic()

    async def drain(self) -> None:
        transport = self.transport
        if transport.get_write_buffer_size() <= HIGH_WATER:
            return
        since = time.monotonic()
        while transport.get_write_buffer_size() > HIGH_WATER // 2:
            if transport.is_closing() or self.closed:
                raise ConnectionError("replica went away")
            if time.monotonic() - since > STALL_LIMIT_S:
                raise ConnectionError("replica does not read")
            await asyncio.sleep(0.005)

    async def run(self) -> None:
        await asyncio.sleep(0)  # let the LEDIS.SYNC (empty) reply go first
        try:
            if self.full:
                await self.full_sync()
            self.state = "online"
            await self.stream()
        except asyncio.CancelledError:
            pass
        except ConnectionError as exc:
            log.info("replica %s:%s: %s", self.ip, self.port, exc)
        except Exception:
            log.exception("replica %s:%s: sender failed", self.ip, self.port)
        finally:
            self._iters = None
            self.close()

    async def full_sync(self) -> None:
        master = self.master
        engine = master.engine
        engine.commit()
        seq = engine.log_seq
        # Open every iterator before yielding to the loop: together they are the state at seq
        # (a RocksDB iterator reads an implicit snapshot taken when it is created). They are
        # only reached through ``self._iters`` so that close() can drop them at shutdown.
        iters = []
        for cf in FULL_SYNC_CFS:
            it = engine._cfs[cf].iter()
            it.seek_to_first()
            iters.append(it)
        self._iters = iters
        del iters, it
        total = sum(db.keys for db in master.core.store.dbs)  # for the replica's progress
        self.write(pack_request([b"FULLSYNC", master.repl.replid, b"%d" % seq, b"%d" % total]))
        master.full_syncs += 1
        keys = 0
        started = time.monotonic()
        for index, cf in enumerate(FULL_SYNC_CFS):
            cf_name = b"%d" % cf
            done = False
            while not done:
                if self._iters is None:
                    raise ConnectionError("stopped")
                items, done = self._chunk(self._iters[index], cf, cf_name)
                if len(items) > 2:
                    keys += (len(items) - 2) // 2 if cf == META else 0
                    self.write(pack_request(items))
                    await self.drain()
                    await asyncio.sleep(0)
        self._iters = None
        self.write(pack_request([b"ENDSYNC", b"%d" % seq, b"%d" % keys]))
        self.pos = seq
        log.info("full sync to %s:%s: %d keys in %.2fs", self.ip, self.port, keys,
                 time.monotonic() - started)

    @staticmethod
    def _chunk(it: Any, cf: int, cf_name: bytes) -> tuple[list[bytes], bool]:
        """The next DATA message of one family (without ``repl:`` keys); True when done."""
        items = [b"DATA", cf_name]
        size = 0
        while it.valid() and size < CHUNK_BYTES and len(items) < 2 * CHUNK_RECORDS:
            key = it.key()
            if cf == SYS and key.startswith(b"repl:"):
                it.next()
                continue
            value = it.value()
            items.append(key)
            items.append(value)
            size += len(key) + len(value)
            it.next()
        return items, not it.valid()

    async def stream(self) -> None:
        engine = self.master.engine
        while not self.closed:
            if self.pos < engine.log_seq:
                if self.pos + 1 < engine.log_first_seq:
                    raise ConnectionError("fell behind the write log; will resync in full")
                items = [b"LOG"]
                size = 0
                records = engine._iterate_store(LOG, U64.pack(self.pos + 1), None, False)
                last = self.pos
                for key, value in records:
                    items.append(key)
                    items.append(value)
                    last = U64.unpack(key)[0]
                    size += len(value)
                    if size >= CHUNK_BYTES or len(items) > 2 * CHUNK_RECORDS:
                        break
                records.close()  # type: ignore[attr-defined]  # iterate() is a generator
                if len(items) > 1:
                    self.write(pack_request(items))
                    self.pos = last
                    await self.drain()
                else:
                    await asyncio.sleep(0.001)  # committed seq not yet visible: retry soon
            else:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), PING_EVERY_S)
                except TimeoutError:
                    pass
                if time.monotonic() - self.last_write >= PING_EVERY_S and not self.closed:
                    self.write(pack_request([b"PING", b"%d" % engine.log_seq]))


class Master:
    def __init__(self, repl: Replication) -> None:
        self.repl = repl
        self.core = repl.core
        self.engine = repl.engine
        self.links: list[ReplicaStream] = []
        self.full_syncs = 0
        self.partial_syncs = 0
        self.waiters: list[tuple[int, int, asyncio.Future, Any]] = []  # (target, n, fut, ctx)
        # semi-sync state
        self.held: list[tuple[int, float, list[tuple[Any, bytes, bool]]]] = []
        self.held_conns: set = set()
        # async until enough replicas acknowledged the newest seq (at start, after a timeout)
        self.semi_async = True
        self.safe_seq = -1  # highest seq ever acknowledged by min_replica_acks replicas
        self.semi_sync_timeouts = 0
        self._timer: asyncio.TimerHandle | None = None
        self.engine.after_commit.append(self._after_commit)

    # --- links -----------------------------------------------------------------------------
    def attach(self, ctx: Any, replids: list[bytes], seq: int) -> ReplicaStream:
        """A replica asked for the records after ``seq`` of history ``replids[0]`` (or
        ``replids[1]``, the one it left at ``seq`` without writing since)."""
        repl = self.repl
        engine = self.engine
        engine.commit()
        same = any(replid == repl.replid or (replid == repl.replid2 and 0 <= seq <= repl.off2)
                   for replid in replids)
        partial = same and engine.log_first_seq <= seq + 1 and seq <= engine.log_seq
        if repl.start_log():
            # The first replica (``repl_log: auto``): the log starts now, so the snapshot of
            # the full sync plus the records from here are everything. Writes made while it
            # was off are in no record: always a full sync.
            partial = False
        ctx.is_replica_link = True
        ctx.special = True
        link = ReplicaStream(self, ctx, not partial, seq)
        if partial:
            self.partial_syncs += 1
            link.write(pack_request([b"CONTINUE", repl.replid, b"%d" % seq]))
        self.links.append(link)
        link.start()
        return link

    def links_in_order(self) -> list[ReplicaStream]:
        return [link for link in self.links if not link.closed]

    def find(self, ctx: Any) -> ReplicaStream | None:
        for link in self.links:
            if link.ctx is ctx:
                return link
        return None

    def remove(self, link: ReplicaStream) -> None:
        if link in self.links:
            self.links.remove(link)
            self._check_waiters()
            self._release()

    def on_disconnect(self, ctx: Any) -> None:
        if ctx.is_replica_link:
            link = self.find(ctx)
            if link is not None:
                link.close()
        self.held_conns.discard(ctx.conn)

    def disconnect_all(self) -> None:
        for link in list(self.links):
            link.close()

    def stop(self) -> None:
        self.disconnect_all()
        if self._timer is not None:
            self._timer.cancel()
        self._release(force=True)

    def _after_commit(self) -> None:
        for link in self.links:
            link.wake.set()

    def on_ack(self, ctx: Any, seq: int) -> None:
        link = self.find(ctx)
        if link is None:
            return
        if seq > link.ack:
            link.ack = seq
        link.ack_time = time.time()
        if self.waiters:
            self._check_waiters()
        need = self.min_acks()
        if need > 0:
            acked = self._acked_seq(need)
            self.safe_seq = max(self.safe_seq, acked)
            if self.semi_async and acked >= self.engine.log_seq:
                self.semi_async = False  # caught up: back to semi-sync
        if self.held or self.semi_async:
            self._release()

    def acked(self, target: int) -> int:
        return sum(1 for link in self.links if link.state == "online" and link.ack >= target)

    # --- WAIT ------------------------------------------------------------------------------
    def wait(self, ctx: Any, numreplicas: int, timeout_ms: int) -> Any:
        engine = self.engine
        target = engine.log_seq + (1 if engine.dirty else 0)
        count = self.acked(target)
        if count >= numreplicas or ctx.multi is not None or ctx.in_script or ctx.conn is None:
            return count
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        entry = (target, numreplicas, future, ctx)
        self.waiters.append(entry)
        timer = None
        if timeout_ms > 0:
            def expire() -> None:
                if not future.done():
                    future.set_result(self.acked(target))
                if entry in self.waiters:
                    self.waiters.remove(entry)
            timer = loop.call_later(timeout_ms / 1000, expire)

        def cancel() -> None:
            if timer is not None:
                timer.cancel()
            if entry in self.waiters:
                self.waiters.remove(entry)
        future.add_done_callback(lambda _f: timer.cancel() if timer is not None else None)
        return Pending(future, cancel)

    def _check_waiters(self) -> None:
        for entry in list(self.waiters):
            target, n, future, _ctx = entry
            if future.done():
                self.waiters.remove(entry)
                continue
            count = self.acked(target)
            if count >= n:
                future.set_result(count)
                self.waiters.remove(entry)

    # --- semi-sync -------------------------------------------------------------------------
    def min_acks(self) -> int:
        return self.core.config.min_replica_acks

    def semi_sync_status(self) -> str:
        if not self.min_acks():
            return "off"
        return "async" if self.semi_async else "on"

    def held_count(self) -> int:
        return sum(len(entry[2]) for entry in self.held)

    def semi_sync_reset(self) -> None:
        self._release(force=True)
        self.semi_async = True  # on again once the replicas have acknowledged the newest seq

    def _acked_seq(self, need: int) -> int:
        """The highest seq acknowledged by at least ``need`` online replicas."""
        acks = sorted((link.ack for link in self.links if link.state == "online"), reverse=True)
        return acks[need - 1] if len(acks) >= need else -1

    def gate(self, conns: list) -> bool:
        """Server flush hook: True when it took the replies of ``conns`` (held)."""
        need = self.min_acks()
        if need <= 0 or self.repl.link is not None:
            if self.held:
                self._release(force=True)
            return False
        engine = self.engine
        seq = engine.log_seq
        if self.held:
            self._release()
        if self.semi_async:
            if self.held:
                self._release(force=True)
            if self._acked_seq(need) >= seq:
                self.semi_async = False  # caught up: back to semi-sync
            return False
        # Fewer online replicas than required is no reason to release: the reply waits for
        # a replica (re)connecting and acknowledging, or for the timeout. Seqs up to safe_seq
        # were acknowledged already (perhaps by a replica gone since): reads need not wait.
        if max(self._acked_seq(need), self.safe_seq) >= seq and not self.held:
            return False
        batch = []
        for conn in conns:
            if conn.ctx is not None and conn.ctx.is_replica_link:
                conn.flush()
                continue
            if not conn.out and not conn.ctx.close_after_reply:
                continue
            data = b"".join(conn.out)
            conn.out.clear()
            batch.append((conn, data, conn.ctx.close_after_reply))
            self.held_conns.add(conn)
        if batch:
            timeout = self.core.config.semi_sync_timeout_ms / 1000
            self.held.append((seq, time.monotonic() + timeout, batch))
            if self._timer is None:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(timeout, self._on_timer)
        return True

    def _on_timer(self) -> None:
        self._timer = None
        if not self.held:
            return
        now = time.monotonic()
        if self.held[0][1] <= now:
            self.semi_sync_timeouts += 1
            self.semi_async = True
            log.warning("semi-sync: no ack within %s ms, degrading to async",
                        self.core.config.semi_sync_timeout_ms)
            self._release(force=True)
            return
        self._timer = asyncio.get_running_loop().call_later(self.held[0][1] - now,
                                                            self._on_timer)

    def _release(self, force: bool = False) -> None:
        if not self.held:
            return
        need = self.min_acks()
        upto = max(self._acked_seq(need), self.safe_seq) if need > 0 else 1 << 62
        if not force and self.semi_async:
            force = True
        while self.held and (force or self.held[0][0] <= upto):
            _seq, _deadline, batch = self.held.pop(0)
            for conn, data, close in batch:
                transport = conn.transport
                if transport is None or transport.is_closing():
                    continue
                if data:
                    self.core.stats["total_net_output_bytes"] += len(data)
                    transport.write(data)
                if close:
                    conn.closing = True
                    transport.close()
        if not self.held:
            self.held_conns.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
