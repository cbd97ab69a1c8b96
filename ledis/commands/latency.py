"""LATENCY DOCTOR, GRAPH and HISTOGRAM, in Redis 7.0's output shapes.

The latency events (``core.latency``: event -> {"samples": [[unix_time, ms] ...], "max": ms})
are recorded by the dispatcher through ``ledis.slowlog.latency_add`` when
``latency-monitor-threshold`` is > 0; LATEST, HISTORY, RESET and HELP live there.

* DOCTOR writes Redis's report (its sentences, per-event statistics: samples, average, mean
  absolute deviation, period, worst; then the advice list) as a verbatim string.
* GRAPH draws Redis's ASCII sparkline of an event's samples: 80 columns, 4 rows of ``_o#|``,
  each column labelled vertically with how long ago the sample was taken (``12s``, ``3m``).
* HISTOGRAM answers per command ``{calls, histogram_usec: {bucket: cumulative calls}}``. The
  dispatcher counts each call of a command in ``Command.latency_histogram`` (while
  ``latency-tracking`` is yes, the default) by power-of-two microseconds; bucket ``k`` is shown
  under the label Redis's HDR histogram prints for that power of two (1, 2, 4, 8, 16, 33, 66,
  132 ...), and only buckets where the cumulative count grows are listed, as in Redis.
  The same counts give INFO latencystats its percentiles (:func:`latency_info`).
"""

from __future__ import annotations

import time

from ledis import errors
from ledis.commands.monitoring import _LAT, _LAT_ACL
from ledis.commands.registry import Command, command
from ledis.errors import LedisError
from ledis.replies import Map, Verbatim

# --- HISTOGRAM ------------------------------------------------------------------------------


def _bucket_label(k: int) -> int:
    """The microseconds Redis prints for the k-th power-of-two bucket: the highest value its
    HDR histogram (1024 ns first bucket, 2 significant figures) holds at 1024 * 2**k ns."""
    ns = 1024 << k
    return (ns + (ns >> 7) - 1) // 1000


def _command_cdf(hist: list[int]) -> Map:
    buckets = Map()
    total = 0
    for k, count in enumerate(hist):
        if count:
            total += count
            buckets[_bucket_label(k)] = total
    return Map({b"calls": total, b"histogram_usec": buckets})


def _percentile_text(p: float) -> str:
    text = f"{p:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def latency_info(core) -> list[tuple[str, str]]:
    """INFO latencystats: ``latency_percentiles_usec_<command>:p50=...,p99=...`` for the
    percentiles of ``latency-tracking-info-percentiles``; a percentile's value is the top of
    its power-of-two bucket (Redis reads its HDR histogram, finer)."""
    words = core.config.redis_text("latency-tracking-info-percentiles")
    try:
        percentiles = [float(w) for w in words.split()]
    except ValueError:
        percentiles = [50.0, 99.0, 99.9]
    fields = []
    for top in core.commands.values():
        for cmd in _with_subcommands(top):
            hist = cmd.latency_histogram
            if hist is None:
                continue
            total = sum(hist)
            if not total:
                continue
            parts = []
            for p in percentiles:
                wanted = max(1, int(p / 100.0 * total + 0.5))
                seen = 0
                # k (the bucket) is read after the loop
                for k, count in enumerate(hist):  # noqa: B007
                    seen += count
                    if seen >= wanted:
                        break
                ns = (1024 << k) + ((1024 << k) >> 7) - 1
                parts.append(f"p{_percentile_text(p)}={ns / 1000.0:.3f}")
            fields.append((f"latency_percentiles_usec_{cmd.name}", ",".join(parts)))
    return fields


def _with_subcommands(cmd: Command) -> list[Command]:
    return [cmd, *cmd.subcommands.values()]


@command("latency|histogram", arity=-2, flags=_LAT, group="server",
         summary="Return the cumulative distribution of latencies of a subset of commands or "
                 "all.", since="7.0.0", acl=_LAT_ACL)
def cmd_latency_histogram(ctx, argv):
    commands = ctx.core.commands
    if len(argv) == 2:
        chosen = [c for top in commands.values() for c in _with_subcommands(top)]
    else:
        chosen = []
        for raw in argv[2:]:
            name = raw.lower()
            parent, _, sub = name.partition(b"|")
            cmd = commands.get(parent)
            if cmd is not None and sub:
                cmd = cmd.subcommands.get(sub)
            if cmd is not None:  # unknown names are skipped, as in Redis
                chosen.extend(_with_subcommands(cmd) if not sub else [cmd])
    out = Map()
    for cmd in chosen:
        if cmd.latency_histogram is not None and cmd.name.encode() not in out:
            out[cmd.name.encode()] = _command_cdf(cmd.latency_histogram)
    return out


# --- DOCTOR -------------------------------------------------------------------------------------

_DISABLED = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. "
    "You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable "
    "it. If we weren't in a deep space mission I'd suggest to take a look at "
    "https://redis.io/topics/latency-monitor.\n")
_NO_SPIKES = (
    "Dave, no latency spike was observed during the lifetime of this Redis instance, not in "
    "the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and "
    "think things over.\n")
_NO_ADVICE = (
    "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use "
    "the Redis community to get some help, providing this report in your help request.\n")
# Redis's advices, in its order; the events ledis records pick some of them.
_ADVICE = {
    "slowlog_enabled": (
        "- There are latency issues with potentially slow commands you are using. Try to enable "
        "the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {}'. "
        "If the Slow log is disabled Redis is not able to log slow commands execution for "
        "you.\n"),
    "slowlog_tuning": (
        "- Your current Slow Log configuration only logs events that are slower than your "
        "configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than "
        "{}'.\n"),
    "slowlog_inspect": (
        "- Check your Slow Log to understand what are the commands you are running which are "
        "too slow to execute. Please check https://redis.io/commands/slowlog for more "
        "information.\n"),
    "scheduler": (
        "- The system is slow to execute Redis code paths not containing system calls. This "
        "usually means the system does not provide Redis CPU time to run for long periods. You "
        "should try to:\n"
        "  1) Lower the system load.\n"
        "  2) Use a computer / VM just for Redis if you are running other software in the same "
        "system.\n"
        "  3) Check if you have a \"noisy neighbour\" problem.\n"
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in "
        "your system.\n"
        "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, "
        "if you are using Jemalloc. However this may create fragmentation problems.\n"),
    "large_objects": (
        "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
        "blocking operation. If you have very large objects that are often deleted, expired, "
        "or evicted, try to fragment those objects into multiple smaller objects.\n"),
    "disable_thp": (
        "- I detected a non zero amount of anonymous huge pages used by your process. This "
        "creates very serious latency events in different conditions, especially when Redis is "
        "persisting on disk. To disable THP support use the command 'echo never > "
        "/sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into "
        "/etc/rc.local so that the command will be executed again after a reboot. Note that "
        "even if you have already disabled THP, you still need to restart the Redis process to "
        "get rid of the huge pages already created.\n"),
}


def _anon_huge_pages() -> int:
    """AnonHugePages of this process in kB (Redis's THPGetAnonHugePagesSize); 0 if unknown."""
    total = 0
    try:
        with open("/proc/self/smaps", "rb") as fh:
            for line in fh:
                if line.startswith(b"AnonHugePages:"):
                    total += int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return total


def _stats(samples: list[list[int]], now: int) -> tuple[int, int, int, float]:
    """(samples, average ms, mean absolute deviation ms, seconds per sample) as Redis."""
    count = len(samples)
    latencies = [ms for _t, ms in samples]
    avg = sum(latencies) // count
    mad = sum(abs(avg - ms) for ms in latencies) // count
    period = (now - min(t for t, _ms in samples)) or 1
    return count, avg, mad, period / count


def latency_report(core) -> str:
    """The text of LATENCY DOCTOR."""
    threshold_ms = core.config.redis_int("latency-monitor-threshold")
    events = [(name, ev) for name, ev in core.latency.items() if ev["samples"]]
    if not core.latency and threshold_ms == 0:
        return _DISABLED
    now = int(time.time())
    report = []
    wanted: set[str] = set()
    for number, (name, ev) in enumerate(events, 1):
        if number == 1:
            report.append("Dave, I have observed latency spikes in this Redis instance. You "
                          "don't mind talking about it, do you Dave?\n\n")
        count, avg, mad, period = _stats(ev["samples"], now)
        report.append(f"{number}. {name}: {count} latency spikes (average {avg}ms, mean "
                      f"deviation {mad}ms, period {period:.2f} sec). Worst all time event "
                      f"{ev['max']}ms.\n")
        if name == "command":
            slower_than = core.config.redis_int("slowlog-log-slower-than")
            if slower_than < 0:
                wanted.add("slowlog_enabled")
            elif slower_than // 1000 > threshold_ms:
                wanted.add("slowlog_tuning")
            wanted.update(("slowlog_inspect", "large_objects"))
        elif name == "fast-command":
            wanted.add("scheduler")
    if _anon_huge_pages() > 0:
        wanted.add("disable_thp")
    if not events and not wanted:
        report.append(_NO_SPIKES)
    elif events and not wanted:
        report.append(_NO_ADVICE)
    else:
        report.append("\nI have a few advices for you:\n\n")
        for key, text in _ADVICE.items():
            if key in wanted:
                report.append(text.format(threshold_ms * 1000))
    return "".join(report)


@command("latency|doctor", arity=2, flags=_LAT, group="server",
         summary="Return a human readable latency analysis report.", since="2.8.13",
         acl=_LAT_ACL)
def cmd_latency_doctor(ctx, argv):
    return Verbatim(latency_report(ctx.core).encode())


# --- GRAPH -------------------------------------------------------------------------------------

_GRAPH_COLUMNS = 80
_GRAPH_ROWS = 4
_FILL = "_o#"


def _ago(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def sparkline(values: list[int], labels: list[str], columns: int = _GRAPH_COLUMNS,
              rows: int = _GRAPH_ROWS) -> str:
    """Redis's filled ASCII sparkline: ``rows`` rows of ``_o#`` (``|`` below the top of a
    bar), a blank line, then each label written downwards under its column; sequences
    longer than ``columns`` continue in further blocks."""
    low, high = min(values), max(values)
    span = (high - low) or 1
    steps = len(_FILL) * rows
    out = []
    for start in range(0, len(values), columns):
        if start:
            out.append("\n")
        part = range(start, min(start + columns, len(values)))
        level = []
        for j in part:
            step = int(int((values[j] - low) * steps) / span)
            level.append(min(max(step, 0), steps - 1))
        for row in range(rows):
            line = []
            for step in level:
                index = step - (rows - row - 1) * len(_FILL)
                line.append(_FILL[index] if 0 <= index < len(_FILL)
                            else "|" if index >= len(_FILL) else " ")
            out.append("".join(line) + "\n")
        out.append(" " * len(part) + "\n")  # the margin above the labels
        for depth in range(max(len(labels[j]) for j in part)):
            out.append("".join(labels[j][depth] if depth < len(labels[j]) else " "
                               for j in part) + "\n")
    return "".join(out)


@command("latency|graph", arity=3, flags=_LAT, group="server",
         summary="Return a latency graph for the event.", since="2.8.13", acl=_LAT_ACL)
def cmd_latency_graph(ctx, argv):
    name = argv[2].decode("utf-8", "replace")
    ev = ctx.core.latency.get(name)
    if ev is None or not ev["samples"]:
        raise LedisError(errors.LATENCY_NO_SAMPLES.format(name))
    now = int(time.time())
    samples = ev["samples"]
    values = [ms for _t, ms in samples]
    header = (f"{name} - high {max(values)} ms, low {min(values)} ms (all time high "
              f"{ev['max']} ms)\n" + "-" * _GRAPH_COLUMNS + "\n")
    graph = sparkline(values, [_ago(now - t) for t, _ms in samples])
    return Verbatim((header + graph).encode())
