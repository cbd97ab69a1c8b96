"""Differential fuzz from Redis's own grammar: seeded random commands of every data family
(strings, bitmaps, hashes, lists, sets, sorted sets, streams, HyperLogLog, GEO, the keyspace),
built from COMMAND DOCS' argument specs (``tests/fuzz/grammar.py``), run on ledis and on
redis-server 7.0 over the same few keys, the replies compared byte for byte in RESP2 and
RESP3. One command in ten runs through ``EVAL`` (``redis.pcall`` or ``redis.call``: the
script reply and error conversions), one in twenty inside MULTI / EXEC, one in thirty-three
first fills a key past the small encodings.

Where Redis itself leaves a reply open, it is compared as loosely as Redis promises, and no
looser:

- a command whose tips say ``nondeterministic_output_order`` (SMEMBERS, HGETALL ...): its
  reply sorted; ``nondeterministic_output`` (SRANDMEMBER, SCAN, TTL ...): only the reply's
  shape (error text, or type and length), TTLs within 2 s;
- SORT of a set, or of a sorted set Redis keeps as a skiplist, is not sent: Redis reads
  those from a hash table, and equal weights keep that order; nor SORT ... BY ... ALPHA
  ... LIMIT (a partial quicksort moves equal weights); GEO searches compare as multisets
  (equal distances come in qsort's order), and are not sent with COUNT (which of them it
  keeps is qsort's choice);
- lex ranges over members of different scores are not sent: "unspecified" in Redis's docs;
- SPOP's set is deleted after it on both servers (it popped different members);
- inside a MULTI the walk itself drew (other groups), commands compared loosely are not
  sent: EXEC's array could not be compared.

The same walks run with every keyspace event compared, as a user with restricted keys (root
rules or selectors, ACL LOG compared), with the other groups' commands (scripts, functions,
MULTI / WATCH, publishing, FLUSHDB / SWAPDB ...: ``grammar.OTHER_GROUPS``) and over three
connections per server; COMMAND GETKEYS has a walk of its own over every documented command.

A failure names the seed, the step, the command and the commands since the last FLUSHALL;
``LEDIS_GRAMMAR_STEPS`` sizes the walks (the slow tests run longer ones).
"""

from __future__ import annotations

import os
import random
import re
import shlex
import time

import hiredis
import pytest

from tests.diff import RawClient, WireClient, WirePair
from tests.fuzz import grammar

STEPS = int(os.environ.get("LEDIS_GRAMMAR_STEPS", "1500"))
FLUSH_EVERY = 200
GEO_SEARCHES = {"georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro",
                "geosearch"}
TTLS = {"ttl", "pttl", "expiretime", "pexpiretime"}
# the command as a script runs it: pcall returns an error as a table, call raises it (the
# reply is then Redis's "script: ..." error text)
SCRIPTS = (b"return redis.pcall(unpack(ARGV))", b"return redis.call(unpack(ARGV))")


def _parse(raw: bytes):
    reader = hiredis.Reader()
    reader.feed(raw)
    return reader.gets()


def _sorted(value):
    if isinstance(value, (list, set, tuple)):
        return sorted((_sorted(v) for v in value), key=repr)
    if isinstance(value, dict):
        return sorted(((_sorted(k), _sorted(v)) for k, v in value.items()), key=repr)
    return value


def _shape(value):
    if isinstance(value, Exception):
        return ("err", str(value))
    if isinstance(value, (list, set, tuple, dict)):
        return (type(value).__name__, len(value))
    return type(value).__name__


def same(name: str, got: bytes, want: bytes, in_exec: bool) -> bool:
    """Whether ledis's reply ``got`` matches Redis's ``want`` for command ``name``, as far
    as Redis defines it (the module docstring)."""
    if got == want:
        return True
    ours, theirs = _parse(got), _parse(want)
    if in_exec and isinstance(ours, list) and isinstance(theirs, list) and \
            len(ours) == len(theirs) == 1:
        ours, theirs = ours[0], theirs[0]
    tips = grammar.TIPS.get(name, set())
    if "nondeterministic_output_order" in tips or name in GEO_SEARCHES:
        return _sorted(ours) == _sorted(theirs)
    if name in TTLS:
        return isinstance(ours, int) and isinstance(theirs, int) and abs(ours - theirs) <= 2000
    if "nondeterministic_output" in tips:
        return _shape(ours) == _shape(theirs)
    return False


def _flagged(ref: WireClient, flag: str) -> set[str]:
    """The commands with ``flag`` in the reference's COMMAND reply."""
    names = set()
    for entry in _parse(ref.call("COMMAND")):
        flags = {f.decode() if isinstance(f, bytes) else str(f) for f in entry[2]}
        if flag in flags:
            names.add(entry[0].decode().lower())
    return names


def _left_open(name: str, args: list[bytes], ref: WireClient) -> bool:
    """A command whose reply Redis leaves to its own internals here (not sent)."""
    if name in ("sort", "sort_ro") and len(args) > 1:
        # Redis loads a set, and a sorted set kept as a skiplist, from a hash table; it sorts
        # with LIMIT by a partial quicksort, which moves equal ALPHA weights (docs/sort.md)
        words = {a.upper() for a in args}
        return (_parse(ref.call("OBJECT", "ENCODING", args[1])) in (b"hashtable", b"intset",
                                                                      b"skiplist")
                or {b"ALPHA", b"BY", b"LIMIT"} <= words)
    if name.startswith("geo") and b"COUNT" in {a.upper() for a in args}:
        return True  # which of the members at an equal distance COUNT keeps is qsort's choice
    bylex = name in ("zrange", "zrangestore") and b"BYLEX" in [a.upper() for a in args]
    if (name in grammar.LEX or bylex) and len(args) > 2:
        key = args[2] if name == "zrangestore" else args[1]
        reply = _parse(ref.call("ZRANGE", key, "0", "-1", "WITHSCORES"))
        if not isinstance(reply, list):
            return False
        scores = [p[1] for p in reply] if reply and isinstance(reply[0], list) else reply[1::2]
        return len(set(scores)) > 1
    return False


def _looks(name: str) -> bool:
    """Whether ``_left_open`` looks at Redis's data for this command (its lookups count and
    may publish keymiss)."""
    return name in ("sort", "sort_ro", "zrange", "zrangestore") or name in grammar.LEX


def _run(client: WireClient, args: list[bytes], in_exec: bool) -> tuple[bytes, bytes]:
    """(what came before, the reply): in MULTI, the replies to MULTI and to the command
    (QUEUED, or the refusal that makes EXEC abort), then EXEC's."""
    if not in_exec:
        return b"", client.call(*args)
    head = client.call("MULTI") + client.call(*args)
    return head, client.call("EXEC")


def _loose(name: str) -> bool:
    """A command whose reply compares only loosely (``same``): inside a transaction the
    walk opened itself, EXEC's reply could not be compared, so it is not sent then."""
    tips = grammar.TIPS.get(name, set())
    return (name in TTLS or name in GEO_SEARCHES or name == "spop"
            or any(tip.startswith("nondeterministic_output") for tip in tips))


class Events:
    """A client subscribed to every keyspace and keyevent channel of one server; ``since``
    returns what it got since the last call, up to a marker it publishes. Without
    ``expired``: Redis publishes it when a read finds a key expired, ledis when its expiry
    cycle (or a write) removes the key (docs/redis-differences.md), and both cycles run on
    their own clocks."""

    MARKER = (b"__keyevent@0__:zzend", b"end")

    def __init__(self, port: int) -> None:
        self.sub = RawClient(port)
        self.sub.call("PSUBSCRIBE", "__key*__:*")
        self.pub = WireClient(port)  # its own: the walk's connection may be inside a MULTI

    def since(self) -> list:
        self.pub.call("PUBLISH", *self.MARKER)
        events = []
        while True:
            message = self.sub.read(5)
            assert isinstance(message, list), f"no end marker: {message!r}"
            if tuple(message[2:]) == self.MARKER:
                return events
            if message[3] != b"expired" and not message[2].endswith(b":expired"):
                events.append(tuple(message[2:]))

    def close(self) -> None:
        self.sub.close()
        self.pub.close()


class Counters:
    """INFO's ``keyspace_hits`` and ``keyspace_misses`` of one server, read on a connection of
    its own (the walk's may be inside a MULTI); ``since`` returns how far each moved since the
    last call."""

    def __init__(self, port: int) -> None:
        self.client = WireClient(port)
        self.last = self._read()

    def _read(self) -> tuple[int, int]:
        info = _parse(self.client.call("INFO", "stats"))
        found = dict(re.findall(rb"(keyspace_hits|keyspace_misses):(\d+)", info))
        return int(found[b"keyspace_hits"]), int(found[b"keyspace_misses"])

    def since(self) -> tuple[int, int]:
        now = self._read()
        moved = (now[0] - self.last[0], now[1] - self.last[1])
        self.last = now
        return moved

    def close(self) -> None:
        self.client.close()


def same_values(pair: WirePair, seed: int, step: int, history: list) -> None:
    """``DEBUG DIGEST-VALUE`` of every key the walks use, on both servers (those started
    with ``enable-debug-command yes``): the data a walk left is the same, beyond what the
    replies showed (Redis's own signature of each value, ledis's is byte-identical). Read on
    connections of their own: the walk's may be inside a MULTI."""
    readers = [WireClient(client.port) for client in pair]
    try:
        got, want = (c.call("DEBUG", "DIGEST-VALUE", *grammar.KEYS) for c in readers)
        if got != want:  # a key whose TTL ran out between the two reads (each server set
            time.sleep(1.2)  # it a moment apart): both see it gone a little later
            got, want = (c.call("DEBUG", "DIGEST-VALUE", *grammar.KEYS) for c in readers)
    finally:
        for c in readers:
            c.close()
    assert got.startswith(b"*5\r\n"), got
    assert got == want, (
        f"seed {seed}, step {step}: the values differ (DEBUG DIGEST-VALUE of "
        f"{grammar.KEYS}):\n  ledis {got!r}\n  redis {want!r}\n  after:\n    "
        + "\n    ".join(repr(h) for h in history[-40:]))


def walk(pair: WirePair, seed: int, steps: int, events: tuple[Events, Events] | None = None,
         runners: WirePair | None = None, other: bool = False, connections: int = 1,
         counters: tuple[Counters, Counters] | None = None, digests: bool = False) -> None:
    """``steps`` random commands on both servers, each reply compared (and with ``events``,
    the keyspace notifications each command published; with ``counters``, how many key
    lookups each counted as hits and misses; with ``digests``, the values of every key
    before each FLUSHALL and at the end: ``same_values``). ``runners``: the connections that
    send them (another user's), ``pair``'s otherwise. ``other``: the other groups' commands
    (scripts, functions, MULTI / WATCH, publishing ...) drawn too, six times as often.
    ``connections``: that many connections to each server, each command sent on one drawn at
    random (one client's writes against another's WATCH and MULTI)."""
    rng = random.Random(seed)
    first = runners or pair
    conns = [first] + [WirePair(WireClient(first.ours.port, first.ours.protocol),
                                WireClient(first.ref.port, first.ref.protocol))
                       for _ in range(connections - 1)]
    ours, ref = first
    # looks at Redis's data for _left_open as the default user, outside any MULTI
    admin = WireClient(pair.ref.port)
    commands = grammar.commands()
    if other:
        commands += grammar.commands(other=True) * 6
        for client in pair:
            client.call("FUNCTION", "FLUSH")
            client.call("SCRIPT", "FLUSH")
    unscriptable = _flagged(admin, "noscript")  # scripts may not run these
    blocking = _flagged(admin, "blocking")  # not mutated: an inserted "0" may be a timeout
    history: list[list[bytes]] = []
    queuing = [False] * connections  # inside a MULTI the walk drew (other groups)
    index = 0
    for step in range(steps):
        if step % FLUSH_EVERY == 0:
            if digests and step:
                same_values(pair, seed, step, history)
            for client in pair:
                client.call("FLUSHALL")
            history.clear()
        if connections > 1:
            index = rng.randrange(connections)
            ours, ref = conns[index]
        name, words, doc = rng.choice(commands)
        args = grammar.build(rng, name, words, doc)
        if name not in blocking:
            args = grammar.mutate(rng, args)
        pick = rng.random()
        if pick < 0.03:
            setup = grammar.fill(rng)
            for client in pair:
                client.call(*setup)
            history.append(setup)
        left_open = _left_open(name, args, admin)
        if events is not None and _looks(name):  # the admin's lookups published keymiss
            for subscriber in events:
                subscriber.since()
        if left_open or (queuing[index] and _loose(name)):
            continue
        if counters is not None:  # from here (the admin's lookups count too)
            for counter in counters:
                counter.since()
        in_exec = 0.13 <= pick < 0.18
        sent = args
        if 0.03 <= pick < 0.13 and name.split("|")[0] not in unscriptable:
            sent = [b"EVAL", rng.choice(SCRIPTS), b"0", *args]
        (got_head, got), (want_head, want) = _run(ours, sent, in_exec), _run(ref, sent, in_exec)
        history.append(sent if index == 0 else [b"(connection %d)" % index, *sent])
        if in_exec or (sent is args and name in ("exec", "discard", "reset")):
            queuing[index] = False
        elif sent is args and name == "multi" and want == b"+OK\r\n":
            queuing[index] = True
        assert got_head == want_head and same(name, got, want, in_exec), (
            f"seed {seed}, step {step}: {sent!r}\n  ledis: {got[:400]!r}\n  redis: "
            f"{want[:400]!r}\n  after (since the last FLUSHALL):\n    "
            + "\n    ".join(repr(h) for h in history[-40:-1]))
        if events is not None:
            got_events, want_events = events[0].since(), events[1].since()
            if name in ("sort", "sort_ro"):
                # the BY / GET lookups (keymiss) of a sorted set's members come in the order
                # of Redis's hash table
                got_events, want_events = sorted(got_events), sorted(want_events)
            assert got_events == want_events, (
                f"seed {seed}, step {step}: {sent!r} (reply {want[:100]!r})\n  ledis "
                f"published {got_events!r}\n  redis published {want_events!r}\n  after:\n    "
                + "\n    ".join(repr(h) for h in history[-40:-1]))
        if counters is not None:
            got_counts, want_counts = counters[0].since(), counters[1].since()
            # (SCAN ... TYPE counts the keys it checks: which ones Redis's hash table order
            # decides, tests/test_keyspace_stats_diff.py has the cases where that is all)
            assert got_counts == want_counts or name == "scan", (
                f"seed {seed}, step {step}: {sent!r} (reply {want[:100]!r})\n  ledis "
                f"counted {got_counts!r} (hits, misses)\n  redis counted {want_counts!r}\n"
                "  after:\n    " + "\n    ".join(repr(h) for h in history[-40:-1]))
        if name == "spop" and len(args) > 1:
            for client in pair:
                client.call("DEL", args[1])
    if digests:
        same_values(pair, seed, steps, history)
    admin.close()
    for extra in conns[1:]:
        extra.close()


@pytest.mark.parametrize("seed", range(500, 502))
def test_getkeys_match_redis(wire_pair, seed):
    """COMMAND GETKEYS and GETKEYSANDFLAGS of grammar-built calls of every command Redis
    documents and ledis has (key specs, Redis's getkeys procedures and their atoi, keyword
    searches, the flags of SET and BITFIELD), sometimes mutated."""
    rng = random.Random(seed)
    have = {name.decode().lower() for name in _parse(wire_pair.ours.call("COMMAND", "LIST"))}
    for name, words, doc in grammar.commands(every=True):
        if name.split("|")[0] not in have:
            continue  # a command ledis lacks answers "Invalid command specified"
        for _ in range(6):
            args = grammar.mutate(rng, grammar.build(rng, name, words, doc))
            for sub in (b"GETKEYS", b"GETKEYSANDFLAGS"):
                wire_pair.same(b"COMMAND", sub, *args)


@pytest.mark.parametrize("args", [
    "EVAL s 1.5 a b", "EVAL s 4294967297 a b", "EVAL s 9223372036854775807 a", "EVAL s 01 a",
    "FCALL f ' 2' a b", "ZUNIONSTORE d 1x a b", "BLMPOP 0 1.5 a LEFT",
    "MIGRATE h p '' 0 1 KEYS a b", "MIGRATE h p k 0 1 AUTH x KEYS a", "GEORADIUS k 1 2 3 m STORE",
    "SET k v", "SET k v get", "BITFIELD k GET u8 0", "BITFIELD k GET u8", "COMMAND 2 HELP",
    "CONFIG", "XREAD STREAMS a b c", "SORT k BY x STORE d STORE e",
])
def test_getkeys_cases(wire_pair, args):
    """Calls where the key specs give up and Redis's getkeys procedure answers."""
    for sub in (b"GETKEYS", b"GETKEYSANDFLAGS"):
        wire_pair.same(b"COMMAND", sub, *(w.encode() for w in shlex.split(args)))


# A user who may read k1, write k2, do both on k3 and {t}a, and nothing on k2's read or on {t}b
LIMITED = ["fuzz", "on", "nopass", "+@all", "%R~k1", "%W~k2", "~k3", "%R~{t}a", "%W~{t}a"]
# The same through selectors: SORT only by the first (which reads every key, so BY and GET are
# allowed where it allows the call), reads of {t}a and {t}b by the second
SELECTORS = ["fuzz", "on", "nopass", "+@all", "-sort", "-sort_ro", "%R~k1", "%W~k2", "~k3",
             "(+sort +sort_ro %R~* %W~k2)", "(+@read ~{t}*)"]


def _acl_log(client: WireClient) -> list:
    """ACL LOG's entries without their times and client details."""
    entries = _parse(client.call("ACL", "LOG", "200"))
    out = []
    for entry in entries:
        fields = dict(entry.items()) if isinstance(entry, dict) else dict(
            zip(entry[::2], entry[1::2], strict=True))
        out.append(tuple(fields[k] for k in (b"count", b"reason", b"context", b"object",
                                             b"username")))
    return out


def walk_as_limited_user(pair: WirePair, seed: int, steps: int, rules: list[str],
                         other: bool = False) -> None:
    """``walk`` run by a user of these ``rules``: every key check of the ACL (read / write
    patterns, selectors, key specs, getkeys procedures, scripts, MULTI) against Redis's, and
    ACL LOG at the end."""
    for client in pair:
        client.call("ACL", "SETUSER", *rules)
        client.call("ACL", "LOG", "RESET")
    runners = WirePair(*(WireClient(client.port, client.protocol) for client in pair))
    try:
        for client in runners:
            client.call("AUTH", "fuzz", "x")
        walk(pair, seed, steps, runners=runners, other=other)
        assert _acl_log(pair.ours) == _acl_log(pair.ref)
    finally:
        runners.close()
        for client in pair:
            client.call("ACL", "DELUSER", "fuzz")


@pytest.mark.parametrize("seed", range(400, 402))
def test_random_commands_as_a_limited_user(wire_pair, seed):
    walk_as_limited_user(wire_pair, seed, STEPS, LIMITED)


@pytest.mark.parametrize("seed", range(410, 412))
def test_random_commands_as_a_user_with_selectors(wire_pair, seed):
    walk_as_limited_user(wire_pair, seed, STEPS, SELECTORS)


@pytest.mark.parametrize("seed", range(6))
def test_random_commands_match_redis(wire_pair, seed):
    walk(wire_pair, seed, STEPS)


def walk_with_events(pair: WirePair, seed: int, steps: int, other: bool = False) -> None:
    """``walk`` with every keyspace event class on (KEAnm: ``A`` is all but ``new`` and
    ``keymiss``): each command's events compared too."""
    subscribers = (Events(pair.ours.port), Events(pair.ref.port))
    for client in pair:
        client.call("CONFIG", "SET", "notify-keyspace-events", "KEAnm")
    try:
        walk(pair, seed, steps, subscribers, other=other)
    finally:
        for client in pair:
            client.call("CONFIG", "SET", "notify-keyspace-events", "")
        for events in subscribers:
            events.close()


def walk_counting(pair: WirePair, seed: int, steps: int, other: bool = False) -> None:
    """``walk`` with INFO's ``keyspace_hits`` / ``keyspace_misses`` compared after each
    command: which key lookups Redis counts (its read lookups: a key found, WRONGTYPE
    included, is a hit; a key missing or expired a miss), command by command."""
    counters = (Counters(pair.ours.port), Counters(pair.ref.port))
    try:
        walk(pair, seed, steps, other=other, counters=counters)
    finally:
        for counter in counters:
            counter.close()


@pytest.mark.parametrize("seed", range(700, 703))
def test_random_commands_count_hits_as_redis(wire_pair, seed):
    walk_counting(wire_pair, seed, STEPS)


@pytest.mark.parametrize("seed", range(710, 712))
def test_other_groups_count_hits_as_redis(wire_pair, seed):
    """Scripts', functions' and EXEC's lookups counted as Redis counts them."""
    walk_counting(wire_pair, seed, STEPS, other=True)


@pytest.mark.parametrize("seed", range(600, 603))
def test_other_groups_match_redis(wire_pair, seed):
    """Scripts, functions, MULTI / EXEC / WATCH, publishing, cluster commands and SWAPDB /
    FLUSHDB, drawn among the data commands (grammar.OTHER_GROUPS), replies compared."""
    walk(wire_pair, seed, STEPS, other=True)


@pytest.mark.parametrize("seed", range(640, 643))
def test_other_groups_on_three_connections(wire_pair, seed):
    """The other groups' walk over three connections to each server: one client's writes,
    FLUSHDB, SWAPDB and scripts against another's WATCH and queued MULTI."""
    walk(wire_pair, seed, STEPS, other=True, connections=3)


@pytest.mark.parametrize("seed", range(620, 622))
def test_other_groups_notify_as_redis(wire_pair, seed):
    """The other groups' walk with every keyspace event compared (FLUSHDB / SWAPDB, scripts'
    and functions' writes, EXEC's queued writes)."""
    walk_with_events(wire_pair, seed, STEPS, other=True)


@pytest.mark.parametrize("seed", range(630, 632))
def test_other_groups_as_a_user_with_selectors(wire_pair, seed):
    """The other groups' walk by a user with selectors: the ACL inside scripts, functions and
    MULTI, and ACL LOG."""
    walk_as_limited_user(wire_pair, seed, STEPS, SELECTORS, other=True)


@pytest.mark.parametrize("seed", range(200, 203))
def test_random_commands_notify_as_redis(wire_pair, seed):
    walk_with_events(wire_pair, seed, STEPS)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 120))
def test_random_commands_match_redis_long(wire_pair, seed):
    walk(wire_pair, seed, 10 * STEPS)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(610, 620))
def test_other_groups_match_redis_long(wire_pair, seed):
    walk(wire_pair, seed, 10 * STEPS, other=True)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(650, 656))
def test_other_groups_on_three_connections_long(wire_pair, seed):
    walk(wire_pair, seed, 10 * STEPS, other=True, connections=3)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(300, 310))
def test_random_commands_notify_as_redis_long(wire_pair, seed):
    walk_with_events(wire_pair, seed, 10 * STEPS)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(720, 730))
def test_random_commands_count_hits_as_redis_long(wire_pair, seed):
    walk_counting(wire_pair, seed, 10 * STEPS, other=seed % 2 == 1)
