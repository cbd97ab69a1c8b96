"""Key access tracking: the LRU clock behind OBJECT IDLETIME and the LFU counter behind
OBJECT FREQ (and ``redis-cli --hotkeys``).

Redis keeps 24 bits of access information in every object. ledis keeps values on disk, so
this lives in memory, per key, in bounded dicts keyed by (physical database, key); nothing is
persisted (after a restart every key is as idle as the server is old, as Redis's keys are
after loading an RDB).

The dispatcher calls :meth:`AccessTracker.touch` (through ``Core.touch``, chosen when the
configuration changes) before a command with key positions runs, so reads and writes, hits
and misses, all count, as Redis's ``lookupKey`` does. Commands that look at a key without
using it (OBJECT, TYPE, EXISTS, TTL ... Redis's ``LOOKUP_NOTOUCH``) do not touch. Commands
whose keys are only found by parsing (``movablekeys``: ZUNION, EVAL ...) are not tracked.

Tracking costs a dict store on every keyed command, so it is on only under a policy that
would use it (an LRU or LFU ``maxmemory-policy``). Under the others (``noeviction``, the
default, ``*-random``, ``volatile-ttl``) nothing is tracked and OBJECT IDLETIME answers the
seconds since tracking last started (server start): a documented difference from Redis
(docs/redis-differences.md), which always keeps the LRU clock.

* an LRU policy: one dict ``(db, key) -> time of last access``
  (``time.perf_counter`` seconds, the value the dispatcher already read). OBJECT IDLETIME is
  the whole seconds since then.
* an LFU policy: one dict ``(db, key) -> (minutes << 8) | counter``, Redis's own encoding.
  A first access sets the counter to ``LFU_INIT_VAL`` like a new object; later ones decay it by
  one per ``lfu-decay-time`` minutes elapsed and then increment it with probability
  ``1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1)`` (``LFUDecrAndReturn``,
  ``LFULogIncr``). OBJECT FREQ is the decayed counter.

The dicts hold about ``max_entries`` keys; the server cron drops the least recently touched
quarter when they grow past it (``trim``). A key forgotten that way reads as untouched. A
removed key is forgotten too (``forget``, the databases' ``on_removed``): made again, it
starts from ``LFU_INIT_VAL``, as a new object does in Redis.
"""

from __future__ import annotations

import random
import time
from typing import Any

from ledis.commands.registry import own

LFU_INIT_VAL = 5
_random = random.random
MAX_ENTRIES = 1_000_000

# Commands whose key arguments are looked at without counting as an access.
NOTOUCH = frozenset((
    "object|encoding", "object|freq", "object|idletime", "object|refcount", "type", "exists",
    "ttl", "pttl", "expiretime", "pexpiretime", "memory|usage", "watch",
))


class AccessTracker:
    """Last access time (LRU) or logarithmic frequency (LFU) of keys, in memory."""

    def __init__(self, max_entries: int = MAX_ENTRIES, databases: int = 256) -> None:
        # One dict per physical database, keyed by the key itself: no tuple to build on the
        # hot path, and argv's bytes cache their own hash.
        self.lru: list[dict[bytes, float]] = [{} for _ in range(databases)]
        self.lfu: list[dict[bytes, int]] = [{} for _ in range(databases)]
        self.policy = "noeviction"
        self.lfu_mode = False
        self.log_factor = 10
        self.decay_time = 1
        self.max_entries = max_entries
        self.started = time.perf_counter()
        # perf_counter() + offset = Unix time, for LFU's minutes without a time() call.
        self.offset = time.time() - self.started
        self.notouch: frozenset[Any] = frozenset()

    def configure(self, policy: str, log_factor: int, decay_time: int, commands: dict) -> None:
        """Apply ``maxmemory-policy``, ``lfu-log-factor`` and ``lfu-decay-time``."""
        self.policy = policy
        self.lfu_mode = "lfu" in policy
        self.log_factor = log_factor
        self.decay_time = decay_time
        skip = set()
        for name in NOTOUCH:
            cmd = own(commands, name)
            if cmd is not None:
                skip.add(cmd)
        self.notouch = frozenset(skip)

    # --- the dispatcher's hook ------------------------------------------------------------
    def touch_lru(self, ctx: Any, cmd: Any, argv: list[bytes], now: float) -> None:
        if cmd.last_key == 1:  # the common single-key command: argv[1]
            if cmd not in self.notouch:
                self.lru[ctx.db.index][argv[1]] = now
            return
        if cmd in self.notouch:
            return
        table = self.lru[ctx.db.index]
        for pos in cmd.key_positions(argv):
            table[argv[pos]] = now

    def touch_lfu(self, ctx: Any, cmd: Any, argv: list[bytes], now: float) -> None:
        if cmd in self.notouch:
            return
        table = self.lfu[ctx.db.index]
        minutes = (int(now + self.offset) // 60) & 65535
        decay = self.decay_time
        for pos in (1,) if cmd.last_key == 1 else cmd.key_positions(argv):
            key = argv[pos]
            packed = table.pop(key, None)  # re-inserted last: dict order is recency order
            if packed is None:
                counter = LFU_INIT_VAL  # a new object's counter
            else:
                # _decayed and _log_incr, inlined: this runs for every command in LFU mode.
                counter = packed & 255
                last = packed >> 8
                if decay and last != minutes:
                    elapsed = minutes - last if minutes > last else 65535 - last + minutes
                    periods = elapsed // decay
                    counter = 0 if periods > counter else counter - periods
                if counter < 255:
                    base = counter - LFU_INIT_VAL
                    if base <= 0 or _random() * (base * self.log_factor + 1) < 1.0:
                        counter += 1
            table[key] = (minutes << 8) | counter

    # --- OBJECT IDLETIME / FREQ -----------------------------------------------------------
    def idle_seconds(self, index: int, key: bytes) -> int:
        last = self.lru[index].get(key, self.started)
        return max(int(time.perf_counter() - last), 0)

    def frequency(self, index: int, key: bytes) -> int:
        packed = self.lfu[index].get(key)
        if packed is None:
            return LFU_INIT_VAL
        return self._decayed(packed, _minutes())

    # --- LFU arithmetic (evict.c) ---------------------------------------------------------
    def _decayed(self, packed: int, minutes: int) -> int:
        """``LFUDecrAndReturn``: the counter minus one per decay period elapsed."""
        counter = packed & 255
        if not self.decay_time:
            return counter
        last = packed >> 8
        elapsed = minutes - last if minutes >= last else 65535 - last + minutes
        periods = elapsed // self.decay_time
        if periods:
            counter = 0 if periods > counter else counter - periods
        return counter

    def _log_incr(self, counter: int) -> int:
        """``LFULogIncr``: a logarithmic, probabilistic increment saturating at 255."""
        if counter == 255:
            return 255
        baseval = counter - LFU_INIT_VAL
        if baseval <= 0 or random.random() < 1.0 / (baseval * self.log_factor + 1):
            counter += 1
        return counter

    # --- housekeeping ---------------------------------------------------------------------
    def trim(self) -> None:
        """Shrink the tables when they hold more than ``max_entries`` keys in all, to about
        three quarters of it (called by the server cron, off the command path). LRU: the
        entries idle longer than a cutoff estimated from a sample (one pass, no sort; the hot
        path only stores a time). LFU: the least recently touched of each table
        (``touch_lfu`` re-inserts, so dict order is recency)."""
        total = sum(map(len, self.lru))
        if total > self.max_entries:
            times = [t for table in self.lru for t in table.values()]
            sample = sorted(random.sample(times, min(len(times), 2000)))
            cutoff = sample[int(len(sample) / 4)]
            self.lru = [{k: t for k, t in table.items() if t > cutoff} for table in self.lru]
        total = sum(map(len, self.lfu))
        if total > self.max_entries:
            for table in self.lfu:
                for key in list(_first(table, len(table) // 4 + 1 if table else 0)):
                    del table[key]

    def restart(self) -> None:
        """Tracking (re)starts: forget what was tracked before, every key as idle as this."""
        self.forget_all()
        self.started = time.perf_counter()

    def forget(self, index: int, key: bytes | None) -> None:
        """``Database.on_removed``: a key removed (None: every key of physical db ``index``)
        starts again as a new object when it comes back."""
        if key is None:
            self.lru[index].clear()
            self.lfu[index].clear()
        else:
            self.lru[index].pop(key, None)
            self.lfu[index].pop(key, None)

    def forget_all(self) -> None:
        for lru in self.lru:
            lru.clear()
        for lfu in self.lfu:
            lfu.clear()


def _minutes() -> int:
    """``LFUGetTimeInMinutes``: Unix minutes on 16 bits."""
    return (int(time.time()) // 60) & 65535


def _first(table: dict, n: int):
    it = iter(table)
    for _ in range(n):
        yield next(it)
