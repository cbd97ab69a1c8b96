"""Commands built from Redis 7.0's own argument grammar, for the differential fuzz
(``tests/fuzz/test_grammar_diff.py``).

``ledis/data/redis_command_docs.json`` is Redis's COMMAND DOCS: each command's arguments with
their type (key, integer, double, string, pattern, unix-time, pure-token, oneof, block),
token and flags (optional, multiple, multiple_token). :func:`build` walks that grammar with a
seeded ``random.Random``, drawing each value from a small pool per type (and per argument
name where the name says more: a stream ID, a lex bound, a numkeys), so that commands meet
the same few keys, hit their edge values and their error paths; :func:`mutate` then drops or
inserts an argument now and then. ``redis_commands.json`` gives each command's tips, which
say where Redis itself leaves the reply's order or content open.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

_DATA = Path(__file__).resolve().parents[2] / "ledis" / "data"
DOCS = json.loads((_DATA / "redis_command_docs.json").read_text())
TIPS = {name: set(info.get("tips", []))
        for name, info in json.loads((_DATA / "redis_commands.json").read_text()).items()}

GROUPS = {"string", "bitmap", "hash", "list", "set", "sorted-set", "stream", "hyperloglog",
          "geo", "generic"}
# Left out, and why:
# - they touch the server, not the data (MIGRATE, WAIT, WAITAOF) or debug it (PFDEBUG,
#   PFSELFTEST), or list every key name (KEYS, RANDOMKEY: covered by tests/test_keys_diff.py);
# - DUMP / RESTORE: the payload is Redis's RDB encoding, covered by tests/test_serialize_diff.py;
# - OBJECT ENCODING / FREQ / IDLETIME / REFCOUNT: ledis answers what a value made fresh would
#   show (docs/redis-differences.md), and times;
# - XINFO STREAM: its FULL form shows consumers' seen-times (the commands whose replies carry
#   idle times are compared by shape, their tips say nondeterministic_output).
EXCLUDED = {
    "migrate", "wait", "waitaof", "pfdebug", "pfselftest", "keys", "randomkey", "dump",
    "restore", "restore-asking", "object|encoding", "object|freq", "object|idletime",
    "object|refcount", "object|help", "xinfo|stream", "xinfo|help", "xgroup|help",
}
LEX = {"zrangebylex", "zrevrangebylex", "zlexcount", "zremrangebylex"}
# The other groups (``commands(other=True)``): connections, scripts and functions, MULTI /
# WATCH, publishing, cluster commands (refused: no cluster) and the server's data-wide ones.
OTHER_GROUPS = {"connection", "scripting", "transactions", "pubsub", "cluster", "server"}
# Left out of them, and why:
# - they end, block, pause or mute the connection or the server, or change who it is or
#   which database it reads (SHUTDOWN, QUIT, MONITOR, the SUBSCRIBE family, CLIENT PAUSE /
#   REPLY / KILL / UNBLOCK / TRACKING / CACHING, SCRIPT DEBUG, HELLO, AUTH is kept: it only
#   fails, SELECT), or make it a replica (REPLICAOF, SLAVEOF, SYNC, PSYNC, REPLCONF, FAILOVER);
# - their replies are the server's own by nature: ids, times, memory, statistics, logs,
#   persistence (CLIENT ID / INFO / LIST, INFO, TIME, LASTSAVE, ROLE, LATENCY, SLOWLOG,
#   MEMORY, SAVE, BGSAVE, BGREWRITEAOF, FUNCTION DUMP, CLUSTER INFO / MYID / NODES), or list
#   every command (COMMAND: COMMAND GETKEYS has a test of its own); the HELP texts; DBSIZE,
#   which counts a key that expired until ledis's expiry cycle removes it, where Redis
#   removes it when a read finds it (docs/redis-differences.md);
# - ACL and CONFIG have differential tests of their own (test_acl_diff, test_config_values);
# - ledis lacks them (DEBUG, MODULE, LOLWUT, RESTORE-ASKING: docs/redis-differences.md).
OTHER_EXCLUDED = {
    "shutdown", "quit", "monitor", "subscribe", "psubscribe", "ssubscribe", "unsubscribe",
    "punsubscribe", "sunsubscribe", "client|pause", "client|reply", "client|kill",
    "client|unblock", "client|tracking", "client|caching", "script|debug", "hello", "select",
    "replicaof", "slaveof", "sync", "psync", "replconf", "failover", "client|id",
    "client|info", "client|list", "info", "time", "lastsave", "role", "latency", "slowlog",
    "memory", "save", "bgsave", "bgrewriteaof", "function|dump", "cluster|info",
    "cluster|myid", "cluster|nodes", "command", "acl", "config", "debug", "module", "lolwut",
    "restore-asking", "dbsize",
}
SCRIPTS = [b"return 1", b"return redis.call('get', KEYS[1])", b"return ARGV[1]", b"x(", b"",
           b"return {1, 2, {3}}",
           b"redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])",
           b"return redis.pcall('incr', KEYS[1])", b"#!lua flags=no-writes\nreturn 1",
           b"#!lua name=x\nreturn 1", b"return redis.status_reply('OK')", b"return 3.7",
           b"return redis.error_reply('E x')", b"return {err='bad'}", b"error('oops')",
           b"return redis.sha1hex('a')"]
SHAS = [hashlib.sha1(s).hexdigest().encode() for s in SCRIPTS[:4]] + [b"x", b"0" * 40]
LIBRARIES = [
    b"#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 1 end)",
    b"#!lua name=lib2\nredis.register_function{function_name='f2', callback=function(keys, "
    b"args) return redis.call('get', keys[1]) end, flags={'no-writes'}}",
    b"#!lua name=lib1\nredis.register_function('f3', function() return 3 end)",
    b"#!lua name=lib3\nredis.register_function('f1', function() return 2 end)",
    b"#!lua name=bad\nreturn 1", b"no shebang", b"#!lua name=e\nerror('x')",
    b"#!lua\nredis.register_function('f', function() end)",
]

KEYS = [b"k1", b"k2", b"k3", b"{t}a", b"{t}b"]
INTS = [b"0", b"1", b"2", b"3", b"-1", b"-2", b"5", b"10", b"100", b"-100", b"x", b"1.5",
        b"9223372036854775807", b"-9223372036854775808", b"99999999999999999999"]
# No "-0": a sorted set Redis keeps as a skiplist stores it as -0, ledis as 0 (a documented
# difference, ledis/commands/zsets.py)
DOUBLES = [b"0", b"1", b"1.5", b"-2", b"3", b"inf", b"-inf", b"+inf", b"(1", b"(2", b"nan",
           b"x", b"1e3", b"10", b"0.1"]
STRINGS = [b"a", b"b", b"c", b"1", b"2", b"-1", b"", b"xyz", b"3.5", b"hello"]
LEX_BOUNDS = [b"-", b"+", b"[a", b"(b", b"[c", b"(a", b"a", b"[", b"("]
STREAM_IDS = [b"1-1", b"1-2", b"2-0", b"3", b"0-1", b"0", b"-", b"+", b"$", b"(1-1", b"5-*",
              b"0-0", b"18446744073709551615-18446744073709551615", b"x"]
# Redis reads cursors as strtoul; ledis names positions it issued, so only spellings of 0 and
# refused ones compare (docs/redis-differences.md, "SCAN cursor"). No overflowing cursor here
# (tests/test_keys_diff.py has them): its strtoul leaves errno at ERANGE, and Redis's SORT,
# which tests errno after strtod without clearing it, then fails with "One or more scores
# can't be converted into double" until some other call resets errno.
CURSORS = [b"0", b"", b"+0", b"-0", b"x", b" 0", b"-"]
DURATIONS = [b"100000", b"200000000", b"0", b"-5", b"x", b"9223372036854775807"]


def commands(every: bool = False, other: bool = False) -> list[tuple[str, list[bytes], dict]]:
    """(name, the words that name it, its COMMAND DOCS entry) of every fuzzed command of the
    data groups; with ``other``, of the other groups instead; with ``every``, of every command
    Redis documents (for COMMAND GETKEYS, which runs none)."""
    out = []
    excluded = set() if every else OTHER_EXCLUDED if other else EXCLUDED
    groups = OTHER_GROUPS if other else GROUPS
    for name, doc in sorted(DOCS.items()):
        if doc.get("group") not in groups and not every:
            continue
        subs = doc.get("subcommands")
        if subs:  # a flat list: name, doc, name, doc ...
            for sub, sub_doc in zip(subs[::2], subs[1::2], strict=True):
                if sub not in excluded and not (other and (
                        name in excluded or sub.endswith("|help"))):
                    out.append((sub, [w.upper().encode() for w in sub.split("|")], sub_doc))
        elif name not in excluded:
            out.append((name, [name.upper().encode()], doc))
    return out


def _value(rng: random.Random, arg: dict, command: str) -> list[bytes]:
    kind, name = arg["type"], arg["name"]
    if kind == "key":
        return [rng.choice(KEYS)]
    if kind == "integer":
        if name == "cursor":
            return [rng.choice(CURSORS)]
        if name == "numkeys":
            return [rng.choice([b"1", b"2", b"2", b"0", b"3", b"-1"])]
        if name in ("db", "destination-db"):
            return [rng.choice([b"0", b"1", b"16", b"x"])]
        if name == "milliseconds" and command.startswith("x"):  # XREAD BLOCK: not for long
            return [rng.choice([b"1", b"5", b"-1", b"x"])]
        if name in ("milliseconds", "seconds", "ttl", "min-idle-time", "ms"):
            return [rng.choice(DURATIONS)]
        return [rng.choice(INTS)]
    if kind == "double":
        if name == "longitude":
            return [rng.choice([b"13.361389", b"15.087269", b"-200", b"0", b"180", b"x"])]
        if name == "latitude":
            return [rng.choice([b"38.115556", b"37.502669", b"86", b"0", b"x"])]
        if name == "timeout":  # blocking commands wait 10 ms at most
            return [b"0.01"]
        return [rng.choice(DOUBLES)]
    if kind == "unix-time":
        return [rng.choice([b"4102444800", b"4102444800000", b"1", b"0", b"-1", b"x"])]
    if kind == "pattern":
        return [rng.choice([b"*", b"k*", b"?", b"[a-c]", b"a*", b"*{t}*"])]
    if kind == "string":
        if name == "script":
            return [rng.choice(SCRIPTS)]
        if name == "function-code":
            return [rng.choice(LIBRARIES)]
        if name == "sha1":
            return [rng.choice(SHAS)]
        if name == "function":
            return [rng.choice([b"f1", b"f2", b"f3", b"nosuch"])]
        if name in ("library-name", "library-name-pattern"):
            return [rng.choice([b"lib1", b"lib2", b"lib*", b"x"])]
        if "id" in name or (name in ("start", "end") and command.startswith("x")):
            return [rng.choice(STREAM_IDS)]
        if name in ("min", "max") and command.startswith("z"):
            return [rng.choice(LEX_BOUNDS)]
        if name == "group":
            return [rng.choice([b"g1", b"g2"])]
        if name == "consumer":
            return [rng.choice([b"c1", b"c2"])]
        return [rng.choice(STRINGS)]
    if kind == "pure-token":
        return []
    if kind == "oneof":
        return _argument(rng, rng.choice(arg["arguments"]), command, chosen=True)
    if kind == "block":
        out: list[bytes] = []
        for sub in arg["arguments"]:
            out += _argument(rng, sub, command)
        return out
    raise ValueError(f"argument type {kind!r}")


def _argument(rng: random.Random, arg: dict, command: str, chosen: bool = False
              ) -> list[bytes]:
    flags = arg.get("flags", [])
    if "optional" in flags and not chosen and rng.random() < 0.55:
        return []
    out: list[bytes] = []
    for i in range(rng.choice([1, 1, 1, 2, 3]) if "multiple" in flags else 1):
        if arg.get("token") and (i == 0 or "multiple_token" in flags):
            out.append(arg["token"].encode())
        out += _value(rng, arg, command)
    return out


def build(rng: random.Random, name: str, words: list[bytes], doc: dict) -> list[bytes]:
    """One command following the grammar (XADD's ``*`` becomes a fixed ID: a time-based ID
    differs between the two servers)."""
    args = list(words)
    for arg in doc.get("arguments", []):
        args += _argument(rng, arg, name)
    if name == "xadd":
        args = [b"5-1" if a == b"*" else a for a in args]
    return args


def mutate(rng: random.Random, args: list[bytes]) -> list[bytes]:
    """Now and then one argument dropped or one inserted: the error paths."""
    pick = rng.random()
    if pick < 0.04 and len(args) > 1:
        del args[rng.randrange(1, len(args))]
    elif pick < 0.08:
        args.insert(rng.randrange(1, len(args) + 1),
                    rng.choice(STRINGS + INTS + [b"NX", b"COUNT", b"LIMIT"]))
    return args


def fill(rng: random.Random) -> list[bytes]:
    """A command making a key large enough for the big encodings' code paths (distinct
    scores, so GEO searches meet no ties)."""
    key = rng.choice(KEYS)
    n = rng.choice([130, 200, 600])
    return rng.choice([
        [b"RPUSH", key] + [b"e%d" % i for i in range(n)],
        [b"SADD", key] + [b"%d" % i for i in range(n)],
        [b"SADD", key] + [b"m%d" % i for i in range(n)],
        [b"HSET", key] + [b"f%d" % (i // 2) for i in range(2 * n)],
        [b"ZADD", key] + [x for i in range(n) for x in (b"%d" % i, b"m%d" % i)],
        [b"SET", key, b"v" * n],
    ])
