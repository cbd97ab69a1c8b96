"""The RESP server: asyncio + uvloop, group commit per event-loop iteration.

Every connection that produced replies in this iteration registers itself with
``schedule_flush``; one ``call_soon`` callback per iteration then commits the engine's pending
batch once (all writes of all connections, one RocksDB write) and writes each connection's held
replies. This is DESIGN.md section 6: the write path's biggest win, measured.

A cron task runs active expiry every 10 ms for at most 2.5 ms (a mass expiry spreads over
runs) and, at 10 Hz like Redis's ``hz``, closes idle clients (``timeout``) and commits what
those produced. Every ``malloc_trim_s`` seconds it also has a thread give glibc's free heap memory
back to the system (``ledis.malloc.trim``: RocksDB's compactions leave tens of MB free but
resident in glibc's arenas, docs/soak.md); the thread releases the GIL, so the loop runs on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import cast

from ledis import errors, malloc
from ledis.config_values import ApplyError
from ledis.core import Context, Core
from ledis.server.connection import Connection
from ledis.startup import Listeners, bind_sockets, check_tls, start_listening

log = logging.getLogger("ledis.server")


_tasks: set[asyncio.Task] = set()


def keep_task(task: asyncio.Task) -> None:
    """Hold a fire-and-forget task until it ends (the loop keeps only a weak reference), and
    log it if it fails."""
    _tasks.add(task)

    def done(finished: asyncio.Task) -> None:
        _tasks.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            log.error("background task failed", exc_info=finished.exception())

    task.add_done_callback(done)

# Active expiry runs every EXPIRE_PERIOD for at most EXPIRE_BUDGET: 25% of the loop, Redis's
# ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC, in slices of EXPIRE_SLICE keys per db. A mass expiry is
# spread over runs instead of stalling. Redis runs its slow cycle at hz 10 (25 ms a tick), but
# it expires a key in ~1 us; at ledis's ~7 us a key, 25 ms stalls every 100 ms were the p99 of
# expiry-heavy loads (a token-bucket script whose buckets expire: p99 32 ms), so the same share
# goes in runs ten times shorter and more frequent, as Redis's fast cycle does.
EXPIRE_PERIOD = 0.01
EXPIRE_BUDGET = 0.0025
EXPIRE_SLICE = 64
CRON_EVERY = 10  # expiry periods per tick of the rest of the cron (100 ms, Redis's hz 10)


class Server:
    def __init__(self, core: Core, listeners: Listeners | None = None) -> None:
        """``listeners``: sockets already bound by ``ledis.startup.preflight`` (``ledis
        server``); without them (the embedded API) ``start`` binds its own."""
        self.core = core
        self.listeners = listeners
        self.loop: asyncio.AbstractEventLoop | None = None
        self._servers: list[asyncio.base_events.Server] = []
        self._tls_servers: list[asyncio.base_events.Server] = []  # those of the TLS port
        self._to_flush: list[Connection] = []
        self._flush_scheduled = False
        # The core's list (the root registers MULTI, pub/sub, MONITOR... there; replication
        # adds its own when it starts)
        self.disconnect_hooks: list[Callable[[Context], None]] = core.disconnect_hooks
        self.cron_hooks: list[Callable[[], None]] = []
        # Semi-sync (ledis/replication/master.py): may take the replies of a flush and hold
        # them until replicas acknowledge; returns True when it did.
        self.reply_gate: Callable[[list[Connection]], bool] | None = None
        self.stopped: asyncio.Event | None = None  # created in start()
        self._cron_task: asyncio.Task | None = None
        self._trimming: threading.Thread | None = None
        self.port = core.config.port
        core.server = self  # type: ignore[attr-defined]

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stopped = asyncio.Event()
        cfg = self.core.config
        if self.listeners is None:
            self.listeners = Listeners(resp=bind_sockets(cfg.bind, cfg.port),
                                       ssl_context=check_tls(cfg))
            if cfg.tls_port:
                self.listeners.tls = bind_sockets(cfg.bind, cfg.tls_port,
                                                  errors.STARTUP_LISTEN_TLS)
            if cfg.http_bind:
                self.listeners.http = bind_sockets(cfg.http_bind, cfg.http_port,
                                                   errors.STARTUP_LISTEN_HTTP)
        listeners = self.listeners
        start_listening(listeners.resp)
        start_listening(listeners.tls, errors.STARTUP_LISTEN_TLS)
        start_listening(listeners.http, errors.STARTUP_LISTEN_HTTP)
        # Connection is a duck-typed protocol (no asyncio base class: compiled, it is an
        # extension type, ledis/server/connection.pxd)
        protocol = cast(Callable[[], asyncio.Protocol], lambda: Connection(self))
        for sock in listeners.resp:
            srv = await self.loop.create_server(protocol, sock=sock, backlog=511)
            self._servers.append(srv)
        for sock in listeners.tls:  # the same protocol; asyncio does the TLS handshake first
            await self._serve_tls(sock, listeners.ssl_context)
        self.port = listeners.resp[0].getsockname()[1]  # the real one when asked for 0
        self._cron_task = self.loop.create_task(self._cron())
        self.core.replication.start(self)  # hooks, and REPLICAOF from the config
        self.core.functions.timers.attach(self.loop)  # FUNCTION timers (master only)
        self.http = None
        if cfg.http_bind:  # the HTTP API on this loop (ledis/http, docs/http.md)
            from ledis.http.app import start_http

            self.http = await start_http(
                self, listeners.http, listeners.ssl_context if cfg.http_tls else None)

    async def _serve_tls(self, sock: socket.socket, context: ssl.SSLContext | None) -> None:
        protocol = cast(Callable[[], asyncio.Protocol], lambda: Connection(self))
        srv = await asyncio.get_running_loop().create_server(protocol, sock=sock, backlog=511,
                                                             ssl=context)
        self._servers.append(srv)
        self._tls_servers.append(srv)

    def apply_tls(self, port_changed: bool, tls_elsewhere: bool) -> None:
        """CONFIG SET changed TLS options (Redis's applyTlsCfg and applyTLSPort): while TLS is
        in use (a TLS port, HTTPS, or ``tls_elsewhere``: tls-replication / tls-cluster), a new
        context from the options, or ``ApplyError`` (TLS_UPDATE_FAILED, the reason logged);
        then the TLS port (re)opened, moved or closed (ApplyError TLS_LISTEN_FAILED). Clients
        accepted from now on get the new context; open connections keep theirs. The old
        listening servers stop at once; the new ones adopt the same sockets (duplicated, so
        connections waiting in the backlog meanwhile are accepted with the new context)."""
        from ledis.security import TlsError, tls_context, tls_wanted
        from ledis.startup import StartupError

        cfg = self.core.config
        listeners = self.listeners
        assert listeners is not None  # set by start()
        context = None
        if tls_wanted(cfg) or tls_elsewhere:
            try:
                context = tls_context(cfg)
            except TlsError as exc:
                log.warning("TLS configuration not applied: tls error (%s): %s", exc.where,
                            exc.why)
                raise ApplyError(errors.TLS_UPDATE_FAILED) from None
        socks = [sock.dup() for sock in listeners.tls]
        if port_changed:
            for sock in socks:
                sock.close()
            socks = []
            if cfg.tls_port:
                try:
                    socks = bind_sockets(cfg.bind, cfg.tls_port, errors.STARTUP_LISTEN_TLS)
                    start_listening(socks, errors.STARTUP_LISTEN_TLS)
                except StartupError as exc:
                    for sock in socks:
                        sock.close()
                    log.warning("TLS port not changed: %s", exc)
                    raise ApplyError(errors.TLS_LISTEN_FAILED) from None
        for srv in self._tls_servers:  # stops accepting now; its socket is closed
            srv.close()
            self._servers.remove(srv)
        self._tls_servers = []
        listeners.tls = socks
        listeners.ssl_context = context
        for sock in socks:
            keep_task(asyncio.get_running_loop().create_task(self._serve_tls(sock, context)))
        if self.http is not None and cfg.http_tls:
            self.http.use_tls(context)
        log.info("TLS configuration applied%s", f" (TLS port {cfg.tls_port})"
                 if port_changed else "")

    def schedule_flush(self, conn: Connection) -> None:
        """Flush ``conn`` at the end of this loop iteration (``Connection.run_queue`` writes
        the case of a flush already scheduled inline: one call less per read)."""
        self._to_flush.append(conn)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.flush)  # type: ignore[union-attr]

    def flush(self) -> None:
        """End of iteration: one engine write for everything, then the held replies."""
        self._flush_scheduled = False
        try:
            self.core.engine.commit()
        except Exception:
            # The engine discarded the batch (memory is what is on disk again). No held reply
            # may go out, since it may acknowledge a write that was not stored; which replies
            # those are is not known, and a count of error replies cannot be matched to the
            # pipelined commands either, so each client gets one error and is disconnected.
            log.exception("commit failed; closing the affected connections")
            conns = self._to_flush
            self._to_flush = []
            error = b"-%s\r\n" % errors.STORE_WRITE_FAILED.encode()
            for conn in conns:
                conn.out.clear()
                if conn.ctx is not None and conn.transport is not None:
                    conn.out.append(error)
                    conn.ctx.close_after_reply = True
                    conn.flush()
            return
        conns = self._to_flush
        self._to_flush = []
        gate = self.reply_gate
        if gate is not None and gate(conns):
            return
        for conn in conns:
            if conn.out or conn.ctx.close_after_reply:
                conn.flush()

    async def _cron(self) -> None:
        tick = 0
        period = 0
        samples: list[tuple[float, int, int, int]] = []  # INFO instantaneous_*, as Redis: 16
        while True:
            await asyncio.sleep(EXPIRE_PERIOD)
            engine = self.core.engine
            if engine.write_error is None and self.core.active_expire:
                try:
                    self.core.expire_cycle(EXPIRE_SLICE,
                                           deadline=time.monotonic() + EXPIRE_BUDGET)
                    engine.commit()
                except Exception:
                    log.exception("active expiry failed")
            period += 1
            if period < CRON_EVERY:
                continue
            period = 0
            tick += 1
            stats = self.core.stats
            # Redis's trackInstantaneousMetric: rates over the last 16 samples (1.6 s)
            samples.append((time.monotonic(), self.core.total_commands(),
                            stats["total_net_input_bytes"], stats["total_net_output_bytes"]))
            if len(samples) > 16:
                del samples[0]
            elapsed = samples[-1][0] - samples[0][0]
            if elapsed > 0:
                first, last = samples[0], samples[-1]
                stats["instantaneous_ops_per_sec"] = int(max(0, last[1] - first[1]) / elapsed)
                stats["instantaneous_input_bps"] = int(max(0, last[2] - first[2]) / elapsed)
                stats["instantaneous_output_bps"] = int(max(0, last[3] - first[3]) / elapsed)
            engine = self.core.engine
            if engine.write_error is not None and tick % 5 == 0:
                # The store refused a write: try to reopen it twice a second (a statvfs while
                # the disk is still full); no active expiry until it takes writes again.
                try:
                    engine.recover()
                except Exception:
                    log.exception("store recovery failed")
            try:
                if tick % 10 == 0 and self.core.config.timeout:
                    self._close_idle()
                trim_s = self.core.config.malloc_trim_s
                if trim_s and tick % (trim_s * 10) == 0:
                    self._trim_malloc()
                for hook in self.cron_hooks:
                    hook()
                self.core.engine.commit()
            except Exception:
                log.exception("cron failed")

    def _trim_malloc(self) -> None:
        """``malloc_trim`` in a thread (one at a time): it walks every glibc arena, a few ms
        with ctypes holding no GIL, so the loop is not stalled."""
        if self._trimming is not None and self._trimming.is_alive():
            return
        self._trimming = threading.Thread(target=malloc.trim, name="ledis-malloc-trim",
                                          daemon=True)
        self._trimming.start()

    def _close_idle(self) -> None:
        limit = time.time() - self.core.config.timeout
        for ctx in list(self.core.clients.values()):
            conn = ctx.conn
            if (ctx.kind == "normal" and conn is not None and conn.waiting is None
                    and not ctx.subscriptions and not ctx.patterns
                    and not ctx.shard_subscriptions
                    and ctx.last_interaction < limit):
                conn.transport.close()

    def client_connections(self) -> list[Connection]:
        return [c.conn for c in self.core.clients.values() if c.conn is not None]

    async def stop(self) -> None:
        for srv in self._servers:
            srv.close()
        http = getattr(self, "http", None)  # set in start()
        if http is not None:
            await http.cleanup()
        if self._cron_task is not None:
            self._cron_task.cancel()
        self.core.functions.timers.detach()
        for conn in self.client_connections():
            conn.flush()
            if conn.transport is not None:
                conn.transport.close()
        self.core.close()
        if self.stopped is not None:
            self.stopped.set()

    def request_shutdown(self) -> None:
        """Stop serving and close the store (SHUTDOWN, SIGTERM, SIGINT)."""
        assert self.loop is not None
        self.loop.create_task(self.stop())


def run(core: Core, listeners: Listeners | None = None) -> None:
    """Run the server until SHUTDOWN or a signal; blocks. ``listeners``: the sockets bound by
    ``ledis.startup.preflight``."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency
        log.warning("uvloop not available, using the default asyncio loop")

    async def main() -> None:
        server = Server(core, listeners)
        await server.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.request_shutdown)
        cfg = core.config
        storage = ("storage in memory (nothing persists)" if cfg.backend == "memory"
                   else f"data dir {os.path.abspath(cfg.dir)}")
        tls = f", TLS port {cfg.tls_port}" if cfg.tls_port else ""
        log.info("ledis ready: version %s, listening on %s port %d%s, %s, pid %d",
                 _version(), cfg.bind, server.port, tls, storage, os.getpid())
        assert server.stopped is not None
        await server.stopped.wait()
        log.info("ledis stopped")

    asyncio.run(main())


def _version() -> str:
    from ledis.version import __version__

    return __version__
