"""Scheduled functions (issue #16): ``redis.register_timer`` in FUNCTION libraries.

``core.functions.timers`` is a :class:`Timers`. A library body registers timers while it
loads (``lua/libraries.lua``); :meth:`Timers.sync` takes them over each time the registry
changes (LOAD, REPLACE, DELETE, FLUSH, RESTORE, startup, a replica's reload), so deleting or
replacing a library removes or replaces its timers.

* **Schedules.** ``every='250ms'|'5s'|'1m'|'1h'`` (10 ms at least) or ``cron='m h dom mon
  dow'`` (5 fields, UTC; ``*``, numbers, lists, ranges and ``/`` steps; day-of-month and
  day-of-week match either when both are restricted, as in Vixie cron). :class:`Cron`
  computes the next minute without walking every minute.
* **Scheduling.** One ``loop.call_at`` per timer, not the server's 10 Hz cron: a 100 ms timer
  on the cron would be up to 100 ms late; ``call_at`` fires within the loop's resolution
  (benchmarks/timer_jitter.py measures it under load). An every-timer keeps its cadence from
  its due times (``due + period``), not from when the last run ended.
* **Only on a master.** Timers are armed when the server starts listening (:meth:`attach`)
  and on role changes (``Replication.role_hooks``): a replica disarms them, a promoted
  replica arms them from the last-run times its master replicated.
* **Runs.** A run is a function call like FCALL: the shared time limit (BUSY, FUNCTION KILL,
  FUNCTION STATS shows it), its writes in the engine's pending batch, which is committed right
  after the run together with the timer's last-run time (``sys`` ``timer:<lib>:<name>``, 8
  bytes big-endian ms): one batch, one write-log record, replicated as effects. Runs happen
  on the loop thread and a run cannot start while another script runs, so one timer never
  runs twice at once.
* **Coalescing.** After downtime (or a slow run) a timer whose due time passed runs once,
  then returns to its schedule: missed runs are never replayed one by one.
* **CLIENT PAUSE** (WRITE or ALL, as used by failovers) holds due runs until it ends; then
  each held timer runs once.
* **Failures** are logged and counted (``errors``, ``last_error``); the timer stays armed.
"""

from __future__ import annotations

import calendar
import logging
import re
import struct
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import lupa.luajit21 as lj

from ledis import errors
from ledis.errors import LedisError
from ledis.scripting.convert import _text, lua_failure, run_reply
from ledis.scripting.runtime import HOOK_COUNT
from ledis.storage.layout import SYS

if TYPE_CHECKING:
    from ledis.core import Core
    from ledis.scripting.functions import Functions, Library

log = logging.getLogger("ledis.timers")

TIMER_PREFIX = b"timer:"
MIN_EVERY_MS = 10
PAUSE_RETRY_MS = 50  # how often a due timer looks again while clients are paused
_U64 = struct.Struct(">Q")
_EVERY_RE = re.compile(r"^\s*(\d+)\s*(ms|s|m|h)?\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, None: 1}


def parse_every(text: str) -> int:
    """``'250ms'`` / ``'5s'`` / ``'1m'`` / ``'1h'`` (a bare number is ms) -> milliseconds."""
    m = _EVERY_RE.match(text)
    if m is None:
        raise errors.error(errors.TIMER_BAD_EVERY, text)
    ms = int(m.group(1)) * _UNIT_MS[m.group(2)]
    if ms < MIN_EVERY_MS:
        raise errors.error(errors.TIMER_BAD_EVERY, text)
    return ms


# --- cron ----------------------------------------------------------------------------------------
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
           ("day of week", 0, 7))


def _parse_field(text: str, name: str, lo: int, hi: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"bad step in the {name} field")
            step = int(step_text)
        if part == "*":
            start, end = lo, hi
        elif "-" in part:
            a, _, b = part.partition("-")
            if not (a.isdigit() and b.isdigit()):
                raise ValueError(f"bad range in the {name} field")
            start, end = int(a), int(b)
        elif part.isdigit():
            start = end = int(part)
            if step != 1:  # '5/15' means 5, 20, 35, 50 (Vixie cron)
                end = hi
        else:
            raise ValueError(f"bad value '{part}' in the {name} field")
        if not (lo <= start <= hi and lo <= end <= hi) or start > end:
            raise ValueError(f"{name} out of range {lo}-{hi}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


class Cron:
    """A 5-field cron expression in UTC: :meth:`next_after` gives the next matching minute."""

    def __init__(self, text: str) -> None:
        self.text = text
        fields = text.split()
        if len(fields) != 5:
            raise errors.error(errors.TIMER_BAD_CRON, text, "5 fields expected")
        try:
            parsed = [_parse_field(f, *spec) for f, spec in zip(fields, _FIELDS, strict=True)]
        except ValueError as exc:
            raise errors.error(errors.TIMER_BAD_CRON, text, str(exc)) from None
        self.minutes, self.hours, self.days, self.months, dow = parsed
        self.weekdays = frozenset(d % 7 for d in dow)  # 0 and 7 are Sunday
        self.any_day = fields[2] == "*"
        self.any_weekday = fields[4] == "*"

    def _day_matches(self, t: time.struct_time) -> bool:
        dom = t.tm_mday in self.days
        dow = (t.tm_wday + 1) % 7 in self.weekdays  # struct_time: Monday is 0
        if self.any_day:
            return dow
        if self.any_weekday:
            return dom
        return dom or dow

    def next_after(self, ts: float) -> float:
        """The first matching minute strictly after ``ts`` (Unix seconds), in Unix seconds."""
        t = (int(ts) // 60 + 1) * 60
        limit = t + 5 * 366 * 86400  # e.g. '0 0 31 2 *' never matches
        while t < limit:
            st = time.gmtime(t)
            if st.tm_mon not in self.months:  # to the first day of the next month
                year, month = st.tm_year + st.tm_mon // 12, st.tm_mon % 12 + 1
                t = calendar.timegm((year, month, 1, 0, 0, 0))
                continue
            if not self._day_matches(st):
                t = (t // 86400 + 1) * 86400
                continue
            if st.tm_hour not in self.hours:
                t = (t // 3600 + 1) * 3600
                continue
            if st.tm_min not in self.minutes:
                t += 60
                continue
            return float(t)
        raise errors.error(errors.TIMER_BAD_CRON, self.text, "it never matches")


# --- timers ---------------------------------------------------------------------------------------
@dataclass
class Timer:
    library: bytes
    name: bytes
    every_ms: int | None
    cron: Cron | None
    callback: Any
    next_run_ms: int = 0
    last_run_ms: int = 0
    last_duration_us: int = 0
    runs: int = 0
    errors: int = 0
    last_error: bytes = b""
    handle: Any = field(default=None, repr=False)

    @property
    def key(self) -> bytes:
        return TIMER_PREFIX + self.library + b":" + self.name

    @property
    def schedule(self) -> bytes:
        if self.cron is not None:
            return b"cron " + self.cron.text.encode()
        return b"every %dms" % (self.every_ms or 0)

    def due_after(self, last_ms: int, now_ms: int) -> int:
        """The next due time (ms) given the last run (0: never ran)."""
        if self.cron is not None:
            return int(self.cron.next_after((last_ms or now_ms) / 1000) * 1000)
        assert self.every_ms is not None
        return (last_ms or now_ms) + self.every_ms


def make_timers(library: bytes, registered: list[dict[bytes, Any]]) -> list[Timer]:
    """The :class:`Timer` objects of what a library body registered; raises on a bad schedule
    (the library does not load)."""
    out = []
    for item in registered:
        every, cron = item[b"every"], item[b"cron"]
        schedule = Cron(_text(cron)) if cron is not None else None
        if schedule is not None:
            schedule.next_after(time.time())  # '0 0 31 2 *' never matches: refuse it now
        out.append(Timer(
            library, item[b"name"],
            parse_every(_text(every)) if every is not None else None,
            schedule, item[b"callback"],
        ))
    return out


class Timers:
    """The timers of every library of one server (``core.functions.timers``)."""

    def __init__(self, functions: Functions) -> None:
        self.functions = functions
        self.core: Core = functions.core
        self.timers: dict[tuple[bytes, bytes], Timer] = {}
        self.loop: Any = None
        self._ctx: Any = None

    # --- the registry ---------------------------------------------------------------------------
    def sync(self, libraries: dict[bytes, Library]) -> None:
        """Take over the timers of ``libraries`` (the new registry); counters of a timer that
        stays (same library and name) are kept."""
        old = self.timers
        new: dict[tuple[bytes, bytes], Timer] = {}
        for lib in libraries.values():
            for timer in lib.timers:
                before = old.get((timer.library, timer.name))
                if before is not None and before is not timer:
                    timer.runs, timer.errors = before.runs, before.errors
                    timer.last_error = before.last_error
                    timer.last_duration_us = before.last_duration_us
                new[(timer.library, timer.name)] = timer
        for key, timer in old.items():
            if new.get(key) is not timer:
                self._disarm(timer)
        self.timers = new
        if self._active():
            for timer in new.values():
                if timer.handle is None:
                    self._arm(timer)

    def forget(self, library: bytes | None) -> None:
        """Drop the stored last-run times of ``library`` (None: every library): FUNCTION
        DELETE / FLUSH write this into their batch."""
        if library is None:
            self.core.engine.delete_range(SYS, TIMER_PREFIX, b"timer;")
        else:
            self.core.engine.delete_range(SYS, TIMER_PREFIX + library + b":",
                                          TIMER_PREFIX + library + b";")

    # --- arming -----------------------------------------------------------------------------------
    def attach(self, loop: Any) -> None:
        """The server listens: arm the timers (on a master) and follow role changes."""
        self.loop = loop
        replication = getattr(self.core, "replication", None)
        if replication is not None and self.on_role_change not in replication.role_hooks:
            replication.role_hooks.append(self.on_role_change)
        self.on_role_change()

    def detach(self) -> None:
        for timer in self.timers.values():
            self._disarm(timer)
        self.loop = None

    def on_role_change(self) -> None:
        """REPLICAOF host port disarms every timer; REPLICAOF NO ONE (or starting as a master)
        arms them from their stored last-run times."""
        for timer in self.timers.values():
            self._disarm(timer)
        if self._active():
            for timer in self.timers.values():
                self._arm(timer)

    def _active(self) -> bool:
        if self.loop is None:
            return False
        replication = getattr(self.core, "replication", None)
        return replication is None or not replication.is_replica

    def _stored_last_run(self, timer: Timer) -> int:
        raw = self.core.engine.get(SYS, timer.key)
        return _U64.unpack(raw)[0] if raw is not None and len(raw) == 8 else 0

    def _arm(self, timer: Timer) -> None:
        now_ms = int(time.time() * 1000)
        last = max(timer.last_run_ms, self._stored_last_run(timer))
        timer.last_run_ms = last
        due = timer.due_after(last, now_ms)
        self._schedule(timer, max(due, now_ms))  # a due time in the past: one catch-up run

    def _schedule(self, timer: Timer, due_ms: int) -> None:
        timer.next_run_ms = due_ms
        loop = self.loop
        delay = (due_ms - time.time() * 1000) / 1000
        timer.handle = loop.call_at(loop.time() + max(0.0, delay), self._fire, timer)

    @staticmethod
    def _disarm(timer: Timer) -> None:
        if timer.handle is not None:
            timer.handle.cancel()
            timer.handle = None
        timer.next_run_ms = 0

    # --- running ----------------------------------------------------------------------------------
    def _fire(self, timer: Timer) -> None:
        timer.handle = None
        if not self._active() or self.timers.get((timer.library, timer.name)) is not timer:
            return
        due = timer.next_run_ms
        if self.core.pause_mode:
            # CLIENT PAUSE (WRITE or ALL, e.g. during a failover): no writes may happen now;
            # try again shortly, the run stays due (one run when the pause ends)
            self._schedule(timer, int(time.time() * 1000) + PAUSE_RETRY_MS)
            timer.next_run_ms = due
            return
        start = time.time()
        self.run(timer, int(start * 1000))
        now_ms = int(time.time() * 1000)
        if timer.cron is not None:
            nxt = timer.due_after(int(start * 1000), now_ms)
        else:
            assert timer.every_ms is not None
            nxt = due + timer.every_ms
            if nxt < now_ms:  # late (a slow run, a busy loop): coalesce, one run now
                nxt = now_ms
        if self._active() and self.timers.get((timer.library, timer.name)) is timer:
            self._schedule(timer, nxt)

    def run(self, timer: Timer, start_ms: int) -> None:
        """One run of ``timer``: like an FCALL with no keys and no arguments, committed with
        the timer's last-run time. Never raises."""
        functions = self.functions
        scripting = self.core.scripting
        engine = self.core.engine
        if scripting.running:  # cannot happen from the loop; a guard against overlap
            return
        if scripting.ctx is None or functions.lua is None:
            scripting._runtime()
            functions._runtime()
        if self._ctx is None:
            self._ctx = self.core.new_context("timer")
            self._ctx.authenticated = True
        ctx = scripting.ctx
        assert ctx is not None  # made by scripting._runtime()
        store = self.core.store
        ctx.db = store.dbs[0]
        ctx.db_index = 0
        ctx.resp = 2
        ctx.script_readonly = False
        scripting.script_resp = 2
        label = timer.library + b"." + timer.name
        # a stand-in with the attributes of a Function that FUNCTION STATS reads
        functions.running = _Running(label)  # type: ignore[assignment]
        functions.running_argv = [b"timer", timer.library, timer.name]
        limit_ms = self.core.config.lua_time_limit_ms
        perf = time.perf_counter()
        error: str | None = None
        scripting.begin_run(self._ctx, label, "function")
        try:
            res = functions._call(timer.callback, HOOK_COUNT if limit_ms else 0, False, 0)
            run_reply(res, label, functions._after_oom, functions._last_error_pos)
        except lj.LuaError as exc:
            error = lua_failure(exc, functions._after_oom).text
        except LedisError as exc:
            error = exc.text
        except Exception as exc:  # never let a timer break the loop
            log.exception("timer %s failed", _text(label))
            error = f"ERR {exc}"
        finally:
            scripting.end_run()
            functions.running = None
            functions.running_argv = []
        timer.last_duration_us = int((time.perf_counter() - perf) * 1e6)
        timer.runs += 1
        timer.last_run_ms = start_ms
        if error is not None:
            timer.errors += 1
            timer.last_error = error.encode("utf-8", "replace")
            log.warning("timer %s failed: %s", _text(label), error)
        engine.put(SYS, timer.key, _U64.pack(start_ms))
        try:
            engine.commit()  # the run's writes and its last-run time: one batch
        except Exception:
            log.exception("committing the run of timer %s failed", _text(label))

    # --- visibility -------------------------------------------------------------------------------
    def rows(self) -> list[Timer]:
        return sorted(self.timers.values(), key=lambda t: (t.library, t.name))


@dataclass
class _Running:
    """What FUNCTION STATS shows while a timer runs (``functions.running``)."""

    name: bytes
    description: bytes | None = None
    flags: tuple[bytes, ...] = ()
    no_writes: bool = False
