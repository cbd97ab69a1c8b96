"""Replication: the state both roles share, and the switch between them.

A server is a master (it may have replicas) or a replica of one master (it may have replicas
of its own: chained replication). The write log (``ledis.storage.engine``) is the stream:
every commit of the master is one log record ``seq -> crc|msgpack([time_ms, effects])``, and a
replica applies each record as one batch **under the same seq** in its own log. So a server's
position in a history is simply ``engine.log_seq``, the same number on master and replicas
(like Redis's replication offset), which makes chained replicas, promotion and resuming after a
restart one rule: "send me the records after seq N of history R".

State persisted in ``sys`` (never replicated: the replica skips ``repl:`` keys):

* ``repl:id``      the replication id (40 hex) of the history this server holds;
* ``repl:id2``     the previous id and ``repl:off2`` the last seq shared with it (after a
                   promotion or a switch of master, like Redis's replid2/second_repl_offset);
* ``repl:applied`` on a replica, the last applied seq, written in the same batch as the record
                   (it is also ``engine.log_seq``; after a full sync the log is empty, so this
                   key is what restores the position at restart).

``Replication`` owns the role, the config and INFO/ROLE; ``master.Master`` serves replicas
(streams, acks, WAIT, semi-sync) and ``replica.ReplicaLink`` follows a master.
The protocol between servers is described in ``docs/replication.md``.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from ledis.storage.layout import LOG, SYS, U64

if TYPE_CHECKING:
    from ledis.core import Core

log = logging.getLogger("ledis.replication")

KEY_ID = b"repl:id"
KEY_ID2 = b"repl:id2"
KEY_OFF2 = b"repl:off2"
KEY_APPLIED = b"repl:applied"
KEY_LOG = b"repl:log"  # present once the write log was switched on (repl_log: auto)
# Present from the start of a full sync's load to its end: the data is partial meanwhile, so
# a replica (restarted or not) answers LOADING until a full sync completes.
KEY_LOADING = b"repl:loading"
REPL_PREFIX = b"repl:"


def record_time(record: bytes) -> int:
    """The timestamp (ms) of a stored log record ``crc(4) | msgpack([time_ms, effects])``
    without decoding its effects."""
    if record[4] == 0x93 and record[5] == 0xCF:  # fixarray(3), uint64: every current time
        return U64.unpack_from(record, 6)[0]
    import msgpack

    unpacker = msgpack.Unpacker()
    unpacker.feed(record[4:64])
    unpacker.read_array_header()
    return int(unpacker.unpack())


def new_replid() -> bytes:
    return os.urandom(20).hex().encode()


def _commit_unlogged(engine: Any) -> None:
    """Commit what is pending without a write-log record: replication's own bookkeeping
    (the log trim, the replication ID) is not something a replica should replay."""
    logging_on = engine.write_log
    engine.write_log = False
    try:
        engine.commit()
    finally:
        engine.write_log = logging_on


class Replication:
    def __init__(self, core: Core) -> None:
        from ledis.replication.master import Master

        self.core = core
        config = core.config
        engine = core.engine
        self.engine = engine
        engine.log_keep = config.repl_log_keep
        applied = engine.get(SYS, KEY_APPLIED)
        if applied is not None:
            seq = U64.unpack(applied)[0]
            if seq > engine.log_seq:  # a full sync left the log empty: restore the position
                engine.log_seq = seq
                engine.log_first_seq = seq + 1
        replid = engine.get(SYS, KEY_ID)
        fresh = replid is None
        if replid is None:
            replid = new_replid()
            engine.commit()
            engine.put(SYS, KEY_ID, replid)
            logging_on = engine.write_log
            engine.write_log = False  # ids are local state, not part of the history
            try:
                engine.commit()
            finally:
                engine.write_log = logging_on
        self.replid: bytes = replid
        # The write log is written from the start with ``repl_log: always``, when this server
        # is configured as a replica, or when it was switched on in an earlier life
        # (``KEY_LOG``); otherwise from the first replica on (``Master.attach``), as Redis
        # creates its backlog only then: a standalone server does not pay for it.
        engine.write_log = (config.repl_log == "always"
                            or engine.get(SYS, KEY_LOG) is not None or engine.log_seq > 0
                            or config.master_address is not None)
        self.replid2: bytes = engine.get(SYS, KEY_ID2) or b"0" * 40
        off2 = engine.get(SYS, KEY_OFF2)
        self.off2: int = U64.unpack(off2)[0] if off2 else -1
        if fresh is False and config.master_address is None:
            # Starting as a master: a new history from here. With fsync everysec a machine
            # crash may have lost our last records while a replica holds them; under the new
            # id a replica past this point must resync in full, and every replica at or
            # before it continues through replid2.
            self.set_replid(new_replid(), keep_old=True)
        self.master = Master(self)
        self.link: Any = None  # replica.ReplicaLink when this server is a replica
        self._last_trim = 0.0
        self.trimmed = 0  # records dropped by retention (INFO repl_log_trimmed)
        self.server: Any = None
        # Called after every role change (REPLICAOF host port, REPLICAOF NO ONE): FUNCTION
        # timers run on a master only (ledis/scripting/timers.py).
        self.role_hooks: list[Any] = []
        core.info_hooks["replication"] = self.info_fields
        core.shutdown_hooks.append(self.stop)
        core.replid = replid  # type: ignore[attr-defined]  # INFO's default section reads it

    # --- lifecycle -------------------------------------------------------------------------
    def forget_interrupted_load(self) -> None:
        """A master (promoted, or started without ``replicaof``) serves what it holds, even
        the partial data of a full sync that was cut: said in the log, LOADING lifted."""
        self.core.loading = False
        if self.engine.get(SYS, KEY_LOADING) is not None:
            log.warning("this server's data is partial: a full sync from its master was cut "
                        "before the end, and it is not a replica now")
            self.engine.delete(SYS, KEY_LOADING)
            _commit_unlogged(self.engine)

    def start(self, server: Any) -> None:
        """Called by the server once it listens: hooks, and the configured master."""
        self.server = server
        server.disconnect_hooks.append(self.master.on_disconnect)
        if self.master.min_acks() > 0:  # semi-sync only: no cost in the flush otherwise
            server.reply_gate = self.master.gate
        server.cron_hooks.append(self.trim_log)
        target = self.core.config.master_address
        if target is not None:
            self.replicaof(*target)
        else:
            self.forget_interrupted_load()

    def stop(self) -> None:
        if self.link is not None:
            self.link.stop()
        self.master.stop()

    def _stale(self) -> bool:
        """replica-serve-stale-data no: whether the link is down, so that only commands
        flagged ``stale`` run (Redis's MASTERDOWN rule, ``Core._gates``)."""
        link = self.link
        return link is not None and link.state != "connected"

    def apply_replica_config(self) -> None:
        """``replica_read_only`` and ``replica_serve_stale_data`` onto the core's gates, on a
        replica: when it starts following, and at once after CONFIG SET of either."""
        if self.link is None:
            return
        config = self.core.config
        self.core.readonly = config.replica_read_only
        self.core.replica_stale = None if config.replica_serve_stale_data else self._stale

    def trim_log(self) -> None:
        """Retention by age (``repl_log_retention_s``) and size (``repl_log_max_mb``), once a
        second from the server's cron; the engine itself keeps at most ``repl_log_keep``
        records. The newest record always stays (it carries ``log_seq`` across a restart).
        Trimming is local: an unlogged range delete, never replicated."""
        now = time.monotonic()
        if now - self._last_trim < 1.0:
            return
        self._last_trim = now
        config = self.core.config
        max_mb = config.repl_log_max_mb
        retention = config.repl_log_retention_s
        if not max_mb and not retention:
            return
        engine = self.engine
        first, last = engine.log_first_seq, engine.log_seq
        if last <= first:
            return
        cut = first
        if retention:
            oldest_kept = time.time() * 1000 - retention * 1000
            records = engine._iterate_store(LOG, U64.pack(first), None, False)
            for key, value in records:
                seq = U64.unpack(key)[0]
                if seq >= last or record_time(value) >= oldest_kept or seq - first > 100_000:
                    break
                cut = seq + 1
            records.close()  # type: ignore[attr-defined]  # iterate() is a generator
        if max_mb:
            size = (engine.property_int(LOG, "rocksdb.estimate-live-data-size")
                    + engine.property_int(LOG, "rocksdb.cur-size-all-mem-tables"))
            count = last - first + 1
            limit = max_mb * 1024 * 1024
            if size > limit:
                cut = max(cut, last - int(count * limit / size) + 1)
        cut = min(cut, last)
        if cut <= first:
            return
        engine.commit()
        engine.delete_range(LOG, U64.pack(0), U64.pack(cut))
        _commit_unlogged(engine)
        engine.log_first_seq = cut
        self.trimmed += cut - first

    @property
    def is_replica(self) -> bool:
        return self.link is not None

    # --- role changes ----------------------------------------------------------------------
    def replicaof(self, host: str, port: int) -> bool:
        """Follow ``host:port``; False when already following it."""
        from ledis.replication.replica import ReplicaLink

        if self.link is not None:
            if self.link.host == host and self.link.port == port:
                return False
            self.link.stop()
        self.master.semi_sync_reset()
        self.start_log()  # a replica logs what it applies (for its replicas, for promotion)
        self.link = ReplicaLink(self, host, port)
        self.apply_replica_config()
        if self.engine.get(SYS, KEY_LOADING) is not None:  # a load was cut: partial data
            self.core.loading = True
        self.link.start()
        self._role_changed()
        return True

    def start_log(self) -> bool:
        """Switch the write log on for good (``repl_log: auto``), after committing what is
        pending; False when it was on already. Remembered in ``sys`` (``KEY_LOG``, local
        state, by a commit that writes no record) so it stays on after a restart."""
        engine = self.engine
        engine.commit()
        if engine.write_log:
            return False
        engine.put(SYS, KEY_LOG, b"1")
        engine.commit()
        engine.write_log = True
        return True

    def promote(self) -> None:
        """REPLICAOF NO ONE: stop following, start a new history, remember the old one so
        replicas of the old master (same history up to here) can continue with us."""
        if self.link is None:
            return
        self.link.stop()
        self.link = None
        self.core.readonly = False
        self.core.replica_stale = None
        self.forget_interrupted_load()
        self.engine.commit()
        self.set_replid(new_replid(), keep_old=True)
        self.master.disconnect_all()  # our replicas re-handshake and continue under the new id
        self._role_changed()

    def _role_changed(self) -> None:
        for hook in self.role_hooks:
            try:
                hook()
            except Exception:
                log.exception("role change hook failed")

    def set_replid(self, replid: bytes, keep_old: bool) -> None:
        """Switch to history ``replid`` at the current seq, persisted in ``sys`` by a commit
        that writes no log record (``repl:`` keys are never replicated, and an unlogged write
        keeps this server's seq equal to its master's)."""
        engine = self.engine
        if replid == self.replid:
            return
        engine.commit()  # anything pending goes into the log as usual first
        if keep_old:
            self.replid2, self.off2 = self.replid, engine.log_seq
        else:
            self.replid2, self.off2 = b"0" * 40, -1
        self.replid = replid
        self.core.replid = replid  # type: ignore[attr-defined]
        engine.put(SYS, KEY_ID, replid)
        engine.put(SYS, KEY_ID2, self.replid2)
        engine.put(SYS, KEY_OFF2, U64.pack(max(self.off2, 0)))
        engine.put(SYS, KEY_APPLIED, U64.pack(engine.log_seq))
        _commit_unlogged(engine)

    # --- visibility ------------------------------------------------------------------------
    def info_fields(self) -> list[tuple[str, Any]]:
        engine = self.engine
        link = self.link
        master = self.master
        fields: list[tuple[str, Any]] = []
        if link is None:
            fields.append(("role", "master"))
        else:
            now = time.time()
            fields += [
                ("role", "slave"), ("master_host", link.host), ("master_port", link.port),
                ("master_link_status", "up" if link.state == "connected" else "down"),
                ("master_last_io_seconds_ago",
                 int(now - link.last_io) if link.last_io else -1),
                ("master_sync_in_progress", 1 if link.state == "sync" else 0),
                ("slave_read_repl_offset", engine.log_seq),
                ("slave_repl_offset", engine.log_seq),
            ]
            if link.state == "sync":
                total = link.sync_total_keys
                perc = min(100.0, 100.0 * link.sync_keys / total) if total else 0.0
                fields += [("master_sync_total_bytes", -1),
                           ("master_sync_read_bytes", link.sync_bytes),
                           ("master_sync_left_bytes", -1), ("master_sync_perc", f"{perc:.2f}"),
                           ("master_sync_last_io_seconds_ago",
                            int(now - link.last_io) if link.last_io else -1),
                           ("master_sync_keys", link.sync_keys),
                           ("master_sync_total_keys", total)]
            if link.state != "connected":
                fields.append(("master_link_down_since_seconds",
                               int(now - link.down_since) if link.down_since else -1))
            config = self.core.config
            fields += [("slave_priority", config.replica_priority),
                       ("slave_read_only", 1 if self.core.readonly else 0),
                       ("replica_announced",
                        int(config.redis_bool("replica-announced")))]
        online = master.links_in_order()
        fields.append(("connected_slaves", len(online)))
        for i, rl in enumerate(online):
            fields.append((f"slave{i}", f"ip={rl.ip},port={rl.port},state={rl.state},"
                                        f"offset={rl.ack},lag={rl.lag()}"))
        fields += [
            ("master_failover_state", "no-failover"),
            ("master_replid", self.replid.decode()),
            ("master_replid2", self.replid2.decode()),
            ("master_repl_offset", engine.log_seq),
            ("second_repl_offset", self.off2 + 1 if self.off2 >= 0 else -1),
            ("repl_backlog_active", 1),
            ("repl_backlog_size", engine.log_keep),
            ("repl_backlog_first_byte_offset", engine.log_first_seq),
            ("repl_backlog_histlen", max(0, engine.log_seq - engine.log_first_seq + 1)),
            ("min_replica_acks", master.min_acks()),
            ("semi_sync_status", master.semi_sync_status()),
            ("semi_sync_timeouts", master.semi_sync_timeouts),
            ("semi_sync_held_replies", master.held_count()),
            ("repl_log_trimmed", self.trimmed),
            ("full_syncs", master.full_syncs),
            ("partial_syncs", master.partial_syncs),
        ]
        if link is not None:
            fields += [("replica_full_syncs", link.full_syncs),
                       ("replica_partial_syncs", link.partial_syncs)]
        return fields
