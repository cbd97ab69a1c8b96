"""Replication under faults (issue #21): the link breaks at the worst moments.

Each fault -- kill -9 of the replica, kill -9 of the master (restarted on the same dir and
port), a TCP connection dropped by a proxy between them, a replica so slow that the master's
log is trimmed past it -- happens once during a full sync and once mid-stream, while a writer
runs ``MULTI`` + 10 ``SET b:<j> <n>`` + ``EXEC`` on the master and a sampler reads the ten
keys on the replica with ``MGET``. Promises checked:

* after reconnecting, the replica's ``LEDIS.DIGEST`` equals the master's;
* the replica never shows a half-applied batch: the ten values it returns are always equal
  (or all missing) -- a record is applied in one RocksDB batch, and a full sync loads a
  snapshot taken between two commits;
* semi-sync: a write acknowledged while the replica is gone was first acknowledged by it,
  or its reply waited the semi-sync timeout (the documented degradation to async).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Self

import pytest
import redis

from tests.helpers import free_port
from tests.test_replication import assert_same, info, wait_until

BATCH = 10


class Proxy:
    """A TCP proxy on loopback (its own event loop thread) that the test can cut or pause.

    ``cut()`` closes every connection through it (both sides see a reset/EOF); ``pause()``
    stops reading from the master so the master's socket and transport buffers fill, as with
    a replica that does not keep up; ``resume()`` undoes it.
    """

    def __init__(self, target_port: int, pause_after: int | None = None) -> None:
        self.target = target_port
        # pause by itself once this many bytes went master -> replica (a full sync that is
        # sure to be still in progress when the test strikes, however fast the machine)
        self.pause_after = pause_after
        self.paused = threading.Event()  # set when that pause happened
        self.forwarded = 0
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.writers: list[asyncio.StreamWriter] = []
        self.running = threading.Event()
        self.running.set()
        self.connections = 0
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(5)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port))
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self.connections += 1
        self.writers += [writer, up_writer]

        async def pump(src, dst, pausable: bool) -> None:
            try:
                while True:
                    while pausable and not self.running.is_set():
                        await asyncio.sleep(0.01)
                    data = await src.read(65536)
                    if not data:
                        break
                    dst.write(data)
                    await dst.drain()
                    if pausable and self.pause_after is not None:
                        self.forwarded += len(data)
                        if self.forwarded >= self.pause_after:
                            self.pause_after = None
                            self.running.clear()
                            self.paused.set()
            except (OSError, ConnectionError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer, False), pump(up_reader, writer, True))

    def cut(self) -> None:
        def close_all() -> None:
            for w in self.writers:
                w.transport.abort()
            self.writers.clear()
        self.loop.call_soon_threadsafe(close_all)

    def pause(self) -> None:
        self.running.clear()

    def wait_paused(self, timeout: float = 15.0) -> None:
        """Wait for the pause after ``pause_after`` bytes. A fault must strike after it: one
        that struck before would leave the pause armed, and it would then hold the next
        connection's sync for good (a replica timing out forever: the flaky failures of
        the full-sync cases)."""
        assert self.paused.wait(timeout), "the proxy never paused the full sync"

    def resume(self) -> None:
        self.running.set()

    def close(self) -> None:
        self.resume()
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Load:
    """The MULTI writer on the master and the batch sampler on the replica (threads)."""

    def __init__(self, master_port: int, replica_port: int, value_size: int = 8) -> None:
        self.master_port = master_port
        self.replica_port = replica_port
        self.value_size = value_size
        self.stop = threading.Event()
        self.batches = 0
        self.samples = 0
        self.torn: list[list] = []
        self.threads = [threading.Thread(target=self._write, daemon=True),
                        threading.Thread(target=self._sample, daemon=True)]

    def __enter__(self) -> Self:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(10)

    def _write(self) -> None:
        c = redis.Redis(port=self.master_port, socket_timeout=5)
        pad = "x" * self.value_size
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                pipe = c.pipeline(transaction=True)
                for j in range(BATCH):
                    pipe.set(f"b:{j}", f"{n}:{pad}")
                pipe.execute()
                self.batches += 1
            except redis.RedisError:  # the master is down: retry shortly
                time.sleep(0.05)

    def _sample(self) -> None:
        c = redis.Redis(port=self.replica_port, socket_timeout=5)
        keys = [f"b:{j}" for j in range(BATCH)]
        while not self.stop.is_set():
            try:
                values = c.mget(keys)
            except redis.RedisError:  # the replica is down
                time.sleep(0.05)
                continue
            self.samples += 1
            if len(set(values)) > 1:
                self.torn.append(values)
            time.sleep(0.002)

    def more_batches(self, n: int = 6, timeout: float = 20.0) -> None:
        """Wait until the writer has committed ``n`` more batches (the master is back)."""
        target = self.batches + n
        wait_until(lambda: self.batches >= target, timeout, what=f"{n} more batches")

    def more_samples(self, n: int = 20, timeout: float = 10.0) -> None:
        """Wait until the sampler has read the replica ``n`` more times (it is back)."""
        target = self.samples + n
        wait_until(lambda: self.samples >= target, timeout, what=f"{n} more samples")

    def check(self) -> None:
        assert self.batches > 5, "the writer made no progress"
        assert self.samples > 5, "the sampler never read the replica"
        assert not self.torn, f"{len(self.torn)} half-applied batches seen, e.g. {self.torn[0]}"


def fill(port: int, n: int, size: int = 50) -> None:
    c = redis.Redis(port=port)
    pipe = c.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"fill:{i}", "v" * size)
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()


def wait_syncing(replica_client: redis.Redis) -> None:
    wait_until(lambda: info(replica_client).get("master_sync_in_progress") == 1,
               timeout=15, interval=0.005, what="full sync in progress")


@contextlib.contextmanager
def logs_on_failure(*servers):
    """A failed wait or check says what the servers logged (the tail of each log)."""
    try:
        yield
    except AssertionError as exc:
        tails = "\n".join(f"--- {srv.port}:\n{srv.log()[-4000:]}" for srv in servers)
        raise AssertionError(f"{exc}\nserver logs:\n{tails}") from None


def wait_up(replica_client: redis.Redis) -> None:
    wait_until(lambda: info(replica_client).get("master_link_status") == "up"
               and info(replica_client).get("master_sync_in_progress") == 0,
               timeout=20, what="link up")


# --- kill -9 of the replica or the master, the TCP connection dropped ------------------------
@pytest.mark.parametrize("when", ["full_sync", "stream"])
@pytest.mark.parametrize("fault", ["kill_replica", "kill_master", "drop_connection"])
def test_link_cut_replica_converges_without_half_applied_batches(fresh_server, fault, when):
    m = fresh_server()
    # A full sync of ~1 MB, held in progress by the proxy (it pauses after the first 128 KB)
    # until the fault: without that, a fast machine may finish the sync before the fault.
    fill(m.port, 5_000 if when == "full_sync" else 500, size=200)
    proxy = None
    if when == "full_sync":
        proxy = Proxy(m.port, pause_after=128 * 1024)
    elif fault == "drop_connection":
        proxy = Proxy(m.port)
    try:
        s = fresh_server("--replicaof", f"127.0.0.1 {proxy.port if proxy else m.port}")
        sc = s.client()
        with logs_on_failure(m, s), Load(m.port, s.port) as load:
            if when == "full_sync":
                wait_syncing(sc)
                proxy.wait_paused()  # type: ignore[union-attr]
            else:
                wait_up(sc)
                time.sleep(0.3)  # batches streaming
            if fault == "kill_replica":
                s.kill()
                if proxy is not None:
                    proxy.resume()
                s.start()
                sc = s.client()
            elif fault == "kill_master":
                m.kill()
                if proxy is not None:  # what the dead master had sent must not arrive now
                    proxy.cut()
                    proxy.resume()
                m.start()  # same dir, same port
            else:
                proxy.cut()
                proxy.resume()
            wait_up(sc)
            load.more_batches()  # the writer goes on (the master is back)
            load.more_samples()  # streaming again, still sampled
        mc = m.client()
        assert_same(mc, sc)
        load.check()
        full, partial = info(mc)["full_syncs"], info(mc)["partial_syncs"]
        if fault == "kill_master":  # counters are per process: only the reconnection counts
            assert (full, partial) == ((1, 0) if when == "full_sync" else (0, 1))
        else:  # a broken full sync is redone in full; a broken stream resumes
            assert (full, partial) == ((2, 0) if when == "full_sync" else (1, 1))
        if fault == "drop_connection":
            assert proxy is not None and proxy.connections == 2
    finally:
        if proxy is not None:
            proxy.close()


# --- a replica slower than the backlog -----------------------------------------------------
def test_slow_replica_beyond_the_backlog_resyncs_in_full(fresh_server):
    m = fresh_server("--repl-log-keep", "50")
    mc = m.client()
    proxy = Proxy(m.port)
    try:
        s = fresh_server("--replicaof", f"127.0.0.1 {proxy.port}")
        sc = s.client()
        wait_up(sc)
        assert info(mc)["full_syncs"] == 1
        # While the proxy does not read, 20 MB of values fill the kernel buffers and the
        # master's transport past its high-water mark (4 MB), so its sender stops reading the
        # log; then 1,100 records make the engine trim the log (by 1,000 past the 50 kept)
        # beyond the replica's position.
        with Load(m.port, s.port) as load:
            time.sleep(0.3)
            proxy.pause()
            big = "x" * (1 << 20)
            for i in range(20):
                mc.set(f"big:{i}", big)
            for i in range(1100):
                mc.set(f"small:{i}", i)
            assert int(info(mc)["repl_backlog_first_byte_offset"]) > \
                int(info(sc)["slave_repl_offset"]) + 1
            proxy.resume()
            wait_until(lambda: info(mc)["full_syncs"] == 2, timeout=15, what="full resync")
            wait_up(sc)
            time.sleep(0.3)
        assert_same(mc, sc)
        load.check()
    finally:
        proxy.close()


# --- semi-sync -----------------------------------------------------------------------------
def test_semi_sync_acknowledges_only_what_a_replica_has(fresh_server):
    timeout_ms = 1000
    m = fresh_server("--min-replica-acks", "1", "--semi-sync-timeout", str(timeout_ms))
    mc = m.client()
    s = fresh_server("--replicaof", f"127.0.0.1 {m.port}")
    wait_up(s.client())
    wait_until(lambda: info(mc).get("semi_sync_status") == "on", what="semi-sync on")
    acked: list[tuple[str, float, float]] = []  # key, sent, acknowledged
    stop = threading.Event()

    def writer() -> None:
        c = m.client(socket_timeout=10)
        i = 0
        while not stop.is_set():
            key = f"semi:{i}"
            sent = time.monotonic()
            c.set(key, i)
            acked.append((key, sent, time.monotonic()))
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.5)
    killed_at = time.monotonic()
    s.kill()
    time.sleep(timeout_ms / 1000 + 1.0)
    stop.set()
    t.join(15)
    assert info(mc)["semi_sync_timeouts"] == 1 and info(mc)["semi_sync_status"] == "async"
    # the replica's own data, as it was when killed: start its dir as a standalone server
    alone = fresh_server(data_dir=s.dir)
    ac = alone.client()
    before = [k for k, sent, ack in acked if ack < killed_at]
    assert len(before) > 20
    missing_before = [k for k, v in zip(before, ac.mget(before), strict=True) if v is None]
    assert missing_before == [], "writes acknowledged under semi-sync are not on the replica"
    # after the kill, a write is acknowledged only once the replica had it, or after its
    # reply waited the whole timeout (the switch to async); then async writes go on
    after = [(k, sent, ack) for k, sent, ack in acked if ack >= killed_at]
    assert after, "no write after the kill"
    present = dict(zip([k for k, _, _ in after], ac.mget([k for k, _, _ in after]), strict=True))
    # The switch to async is the first reply that waited the whole timeout. That write may
    # be on the replica (applied, killed before its ack went out); what the replica lacks
    # must all have been acknowledged at or after the switch, never before it.
    waited = [ack for _key, sent, ack in after if ack - sent >= timeout_ms / 1000 * 0.95]
    assert waited, "no reply waited the semi-sync timeout"
    degraded_at = waited[0]
    lacking = [(key, ack - sent) for key, sent, ack in after if present[key] is None]
    assert lacking, "no async write after the switch"
    early = [(key, ack - sent) for key, sent, ack in after
             if present[key] is None and ack < degraded_at]
    assert early == [], "acknowledged under semi-sync but not on the replica"

