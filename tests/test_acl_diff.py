"""Differential tests: ACL SETUSER / GETUSER / LIST / CAT / DRYRUN / LOG / GENPASS on ledis and a
real redis-server 7.0, compared reply by reply (RESP2 and RESP3).

Redis lists the single-command part of a selector's rules in its hash-table order (random per
process) and ledis in name order, so the command rules compare as: the category part in order,
the single commands as a set. Commands ledis does not have yet are left out of the comparison
(and categories compare on the commands both servers know).
"""

from __future__ import annotations

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.diff import Pair, outcome
from tests.helpers import LedisProcess
from tests.rawresp import RawClient

HEX = "a" * 63 + "b"

SETUSER_CASES = [
    ["on", ">p1", "~k*", "+@read", "-@dangerous", "&ch*"],
    ["on", "nopass", "%R~r*", "%W~w*", "~b*", "+@all", "-@dangerous", "+config|get",
     "(~s* +get)", "(%R~x* +@read)"],
    [],
    ["reset"],
    ["foo"], ["+@nosuch"], ["+nosuch"], ["(~x"], ["%X~x"], ["#abc"], ["+config|nosuch"],
    ["<nopw"], ["!abc"], ["!" + HEX], ["%~y"], ["%R"], ["~*", "%R~a"], ["&*", "&a"],
    ["allkeys", "~a"], ["+get|"], ["+config|get|x"], ["(", "foo)"], ["(~a", "+get)"],
    ["(~a +get) (", "~b)"],
    ["+@all", "-config|get", "+config"],
    ["-@all", "+config|get", "+client|list", "+config|set"],
    ["+@all", "-config"], ["-@all", "+acl"], ["-@all", "+select|0", "+select|1"],
    ["+@all", "-select", "+select|0"], ["-select|0"],
    ["allkeys", "allchannels", "allcommands"], ["nocommands", "resetkeys", "resetchannels"],
    ["on", "off"], ["skip-sanitize-payload"], ["sanitize-payload"], [">a", ">b", "<a"],
    ["#" + HEX, "!" + HEX], ["#" + HEX, ">x", "nopass"], ["nopass", ">x"], ["resetpass"],
    [">a", "(+get)", "clearselectors"], ["%RW~x", "%WR~z"], ["~a", "~a", "%R~a", "%W~b", "~b"],
    ["%R~*"], ["%R~*", "~*"], ["&a", "&a", "&b"],
    ["+@all", "-@write", "+set"], ["-@all", "+@hash", "-hset"], ["+@all", "-@keyspace"],
    ["-@all", "+get", "+set", "+@string"], ["-@all", "+@read", "-@read"],
    ["+@all", "-@dangerous", "+flushall", "-get"], ["-@all", "+@pubsub", "+@transaction"],
    ["-@all", "+@connection", "-ping"], ["+@all", "-@slow", "-@fast"], ["ON", "NOPASS", "~*"],
]


@pytest.fixture(scope="module")
def servers(redis_server):
    ours = LedisProcess().start()
    yield ours, redis_server
    ours.cleanup()
    ref = redis_server.client(protocol=2)
    _reset(ref)
    ref.close()


def _reset(client) -> None:
    for name in client.acl_users():
        if name not in (b"default", "default"):
            client.acl_deluser(name)
    client.execute_command("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*",
                           "+@all")
    client.acl_log_reset()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def pair(servers, request):
    """A ``tests.diff.Pair`` on this module's own ledis (ACL changes stay here)."""
    ours_proc, ref_proc = servers
    pair = Pair(ours_proc.client(protocol=request.param, driver_info=None),
                ref_proc.client(protocol=request.param, driver_info=None))
    for client in pair:
        _reset(client)
    yield pair
    pair.close()


def _known(client) -> set[str]:
    """Every command and subcommand name the server puts in some category."""
    names: set[str] = set()
    for cat in client.execute_command("ACL", "CAT"):
        names.update(_s(n) for n in client.execute_command("ACL", "CAT", cat))
    return names


def _s(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def norm_rules(text, known: set[str]) -> tuple:
    """Categories in order; single commands (known to both) as a sorted tuple; the rest in
    order (keys, channels, flags, passwords)."""
    ordered, singles = [], []
    for token in _s(text).split():
        if token[:1] in "+-" and token[1:2] != "@":
            name = token[1:].split("|")
            base = "|".join(name[:2])
            if base in known or name[0] in known and len(name) == 2 and base not in known:
                singles.append(token)
            continue
        ordered.append(token)
    return tuple(ordered), tuple(sorted(singles))


def norm_getuser(value, known):
    if value is None:
        return None
    if isinstance(value, list):  # RESP2 flat map
        value = dict(zip(value[::2], value[1::2], strict=True))
    out = {}
    for key, item in value.items():
        key = _s(key)
        if key == "commands":
            out[key] = norm_rules(item, known)
        elif key == "selectors":
            out[key] = [norm_getuser(s, known) for s in item]
        elif isinstance(item, list):
            out[key] = [_s(x) for x in item]
        else:
            out[key] = _s(item)
    return out


def norm_list_line(line, known):
    """One ACL LIST line: each ``(...)`` selector and the root normalised on their own."""
    text = _s(line)
    parts = text.split(" (")
    return [norm_rules(p.rstrip(")"), known) for p in parts]


@pytest.fixture(scope="module")
def known(servers):
    ours_proc, ref_proc = servers
    ours = ours_proc.client(protocol=2)
    ref = ref_proc.client(protocol=2)
    names = _known(ours) & _known(ref)
    ours.close()
    ref.close()
    return names


def _getuser(client, name):
    value = client.execute_command("ACL", "GETUSER", name)
    if value is None:
        return None
    value = _as_dict(value)
    value["selectors"] = [_as_dict(s) for s in value["selectors"]]
    return value


def _as_dict(value) -> dict:
    if isinstance(value, list):  # RESP2: a flat list
        value = dict(zip(value[::2], value[1::2], strict=True))
    return {_s(k): v for k, v in value.items()}


def _commands(user) -> list[str]:
    """The root's and each selector's command rules."""
    return [_s(user["commands"])] + [_s(s["commands"]) for s in user["selectors"]]


def same_commands(ours, ours_text: str, ref_text: str, known: set[str]) -> bool:
    """Redis's text equals ledis's, or (where Redis's best fit picked other categories
    because the two servers do not have the same commands) the two texts give the same
    permissions on every command both servers have: each is applied in ledis to a probe user
    with ledis-only commands then taken away, and the probes must come out identical."""
    if norm_rules(ours_text, known) == norm_rules(ref_text, known):
        return True
    mine = _known(ours)
    ledis_only = sorted(n for n in mine - known if "|" not in n)
    probes = []
    for text in (ours_text, ref_text):
        tokens = [t for t in text.split()
                  if t[1:2] == "@" or t[1:] in mine or t[1:].split("|")[0] in mine]
        ours.execute_command("ACL", "SETUSER", "__probe", "reset", *tokens,
                             *("-" + n for n in ledis_only))
        probes.append(_s(_getuser(ours, "__probe")["commands"]))
        ours.execute_command("ACL", "DELUSER", "__probe")
    return probes[0] == probes[1]


def compare_user(ours, ref, name, known):
    a = _getuser(ours, name)
    b = _getuser(ref, name)
    assert (a is None) == (b is None)
    if a is None:
        return
    assert norm_getuser(dict(a, commands="", selectors=[]), known) == \
        norm_getuser(dict(b, commands="", selectors=[]), known)
    assert len(a["selectors"]) == len(b["selectors"])
    for selector_a, selector_b in zip(a["selectors"], b["selectors"], strict=True):
        assert norm_getuser(dict(selector_a, commands=""), known) == \
            norm_getuser(dict(selector_b, commands=""), known)
    for text_a, text_b in zip(_commands(a), _commands(b), strict=True):
        assert same_commands(ours, text_a, text_b, known), (text_a, text_b)
    # ACL LIST: the same lines apart from the command rules (checked above).
    lines_a = [_without_commands(x) for x in ours.execute_command("ACL", "LIST")]
    lines_b = [_without_commands(x) for x in ref.execute_command("ACL", "LIST")]
    assert lines_a == lines_b


def _without_commands(line) -> list[str]:
    return [t for t in _s(line).split() if t.lstrip("(")[:1] not in "+-"]


@pytest.mark.parametrize("rules", SETUSER_CASES, ids=[" ".join(c) or "none" for c in
                                                      SETUSER_CASES])
def test_setuser_getuser_list(pair, known, rules):
    ours, ref = pair
    pair.same("ACL", "SETUSER", "u1", *rules)
    compare_user(ours, ref, "u1", known)
    # The same rules applied on top of an existing user (SETUSER is atomic: all or nothing).
    base = ["on", ">p", "~k*", "&c", "+@read"]
    pair.run("ACL", "SETUSER", "u2", *base)
    pair.same("ACL", "SETUSER", "u2", *rules)
    compare_user(ours, ref, "u2", known)


VOCABULARY = [
    "on", "off", "nopass", "resetpass", ">a", ">b", "<a", "~*", "~k*", "%R~r*", "%W~w*",
    "allkeys", "resetkeys", "&*", "&ch*", "allchannels", "resetchannels", "+@all", "-@all",
    "+@read", "-@read", "+@write", "-@write", "+@hash", "-@hash", "+@dangerous", "-@dangerous",
    "+@fast", "-@slow", "+@keyspace", "-@keyspace", "+get", "-get", "+set", "-set",
    "+config|get", "-config", "+config", "+client|list", "(~s* +get)", "(%R~x* +@read)",
    "clearselectors", "reset", "+select|0", "-@pubsub", "+@transaction",
]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=6), min_size=1,
                max_size=3))
def test_setuser_random(pair, known, batches):
    ours, ref = pair
    pair.run("ACL", "DELUSER", "r1")
    for rules in batches:
        pair.same("ACL", "SETUSER", "r1", *rules)
    compare_user(ours, ref, "r1", known)


DRYRUN_USERS = {
    "reader": ["on", "nopass", "~k*", "+@read", "&ch*"],
    "writer": ["on", "nopass", "%R~*", "%W~w*", "+@all", "-@dangerous", "resetchannels",
               "&ch*"],
    "subs": ["on", "nopass", "~*", "-@all", "+config|get", "+select|0", "+subscribe",
             "+psubscribe", "&ch*"],
    "sel": ["on", "nopass", "~a*", "+get", "(~b* +set)", "(%W~c* +@write)"],
}
DRYRUN_COMMANDS = [
    ["get", "k1"], ["get", "x1"], ["set", "k1", "v"], ["set", "w1", "v"],
    ["set", "w1", "v", "get"], ["set", "k1", "v", "GET"], ["publish", "ch1", "m"],
    ["publish", "x", "m"], ["config", "get", "x"], ["config", "set", "x", "y"],
    ["hset", "w1", "f", "v"], ["mset", "k1", "v", "x", "v"], ["mset", "w1", "v", "w2", "v"],
    ["eval", "return 1", "1", "k1"], ["eval", "return 1", "1", "x1"],
    ["bitfield", "r1", "get", "u8", "0"], ["bitfield", "r1", "set", "u8", "0", "1"],
    ["subscribe", "ch1", "x"], ["subscribe", "ch1"], ["psubscribe", "ch*"],
    ["psubscribe", "ch1*"], ["flushall"], ["keys", "*"], ["lmove", "k1", "w1", "left", "right"],
    ["rpoplpush", "w1", "w2"], ["zunionstore", "w1", "2", "k1", "k2"], ["select", "0"],
    ["select", "1"], ["ping"], ["auth", "a", "b"], ["nosuch"], ["get"], ["object", "encoding",
                                                                           "k1"],
    ["get", "a1"], ["get", "b1"], ["set", "b1", "v"], ["set", "a1", "v"], ["set", "c1", "v"],
    ["del", "c1"], ["get", "c1"], ["exists", "c1"], ["client", "list"],
    ["zunionstore", "x1", "0", "k1"], ["zunionstore", "w1", "1", "x1"],
    ["eval", "return 1", "3", "k1"], ["eval", "return 1", "x", "k1"],
    ["eval", "return 1", "0", "x1"], ["fcall", "f", "2", "k1", "x1"], ["lmpop", "2", "k1", "w1",
                                                                      "LEFT"],
]


def test_dryrun(pair):
    for name, rules in DRYRUN_USERS.items():
        pair.same("ACL", "SETUSER", name, *rules)
        for argv in DRYRUN_COMMANDS:
            pair.same("ACL", "DRYRUN", name, *argv)
    pair.same("ACL", "DRYRUN", "nobody", "get", "x")


def test_cat(pair, known):
    ours, ref = pair
    assert ours.execute_command("ACL", "CAT") == ref.execute_command("ACL", "CAT")
    ours_all = _known(ours)
    ref_all = _known(ref)
    for cat in ref.execute_command("ACL", "CAT"):
        a = {_s(n) for n in ours.execute_command("ACL", "CAT", cat)}
        b = {_s(n) for n in ref.execute_command("ACL", "CAT", cat)}
        assert a & ref_all == b & ours_all, cat
    for args in (["nosuch"], ["READ"], ["a", "b"]):
        a, b = pair.run("ACL", "CAT", *args)
        if a[0] == "ok":
            assert {_s(n) for n in a[1]} & ref_all == {_s(n) for n in b[1]} & ours_all
        else:
            assert a == b


def test_misc_replies(pair):
    ours, ref = pair
    for args in (["WHOAMI"], ["USERS"], ["GETUSER", "nobody"], ["DELUSER", "default"],
                 ["DELUSER", "nobody", "x"], ["LOG", "x"], ["LOG", "1", "2"], ["LOG", "-1"],
                 ["LOG", "0"], ["LOG", "RESET"], ["GENPASS", "0"], ["GENPASS", "-1"],
                 ["GENPASS", "4097"], ["GENPASS", "x"], ["GENPASS", "1", "2"], ["HELP"],
                 ["NOSUCH"], ["SAVE"], ["LOAD"]):
        pair.same("ACL", *args)
    for bits in (1, 4, 5, 255, 256, 4096):
        assert len(ours.acl_genpass(bits)) == len(ref.acl_genpass(bits))
    assert len(ours.acl_genpass()) == len(ref.acl_genpass())


def test_log_entries(pair):
    ours, ref = pair
    entries = []
    for client in (ours, ref):
        client.execute_command("ACL", "SETUSER", "lg", "on", ">p", "~k*", "+@read", "&c",
                               "+publish", "+multi", "+exec")
        user = redis.Redis(port=client.connection_pool.connection_kwargs["port"], protocol=2,
                           username="lg", password="p", driver_info=None)
        for argv in (["GET", "x"], ["GET", "x"], ["SET", "k", "v"], ["PUBLISH", "d", "m"]):
            outcome(user, *argv)
        user.execute_command("MULTI")
        outcome(user, "GET", "y")
        outcome(user, "EXEC")
        with pytest.raises(redis.AuthenticationError):
            client.execute_command("AUTH", "lg", "wrong")
        user.close()
        log = client.execute_command("ACL", "LOG")
        rows = []
        for entry in log:
            if isinstance(entry, list):
                entry = dict(zip(entry[::2], entry[1::2], strict=True))
            entry = {_s(k): v for k, v in entry.items()}
            assert isinstance(entry.pop("age-seconds"), (float, bytes, str))
            info = _s(entry.pop("client-info"))
            assert "user=" in info and "cmd=" in info
            rows.append({k: _s(v) if not isinstance(v, int) else v for k, v in entry.items()})
        entries.append(rows)
        assert len(client.execute_command("ACL", "LOG", "2")) == 2
    assert entries[0] == entries[1]


@pytest.mark.parametrize("change, queued", [
    (["-set"], ["SET", "k", "v"]),
    (["resetkeys", "~a*"], ["SET", "k", "v"]),
    (["resetchannels", "&a*"], ["PUBLISH", "ch", "m"]),
    (["-config|get"], ["CONFIG", "GET", "maxmemory"]),
])
def test_rules_changed_between_queueing_and_exec(pair, change, queued):
    """EXEC checks each queued command again (Redis's execCommand): one the rules no longer
    allow gets Redis's own NOPERM text in EXEC's reply, the others run, and ACL LOG says
    ``multi``."""
    ours, ref = pair
    transcripts = []
    for client in (ours, ref):
        port = client.connection_pool.connection_kwargs["port"]
        client.execute_command("ACL", "SETUSER", "u", "reset", "on", ">p", "~*", "&*", "+@all")
        user = RawClient(port)
        out = [user.call("AUTH", "u", "p"), user.call("MULTI"), user.call(*queued),
               user.call("GET", "k"), client.execute_command("ACL", "SETUSER", "u", *change),
               user.call("EXEC"), user.call("GET", "k")]
        user.close()
        entry = client.execute_command("ACL", "LOG", "1")[0]
        if isinstance(entry, list):
            entry = dict(zip(entry[::2], entry[1::2], strict=True))
        entry = {_s(k): _s(v) for k, v in entry.items() if _s(k) in ("reason", "context",
                                                                      "object", "username")}
        transcripts.append((out, entry))
        client.execute_command("ACL", "DELUSER", "u")
        client.delete("k")
    assert transcripts[0] == transcripts[1]
    assert transcripts[0][0][5][0][0] == "err"  # the denied command's entry in EXEC's reply


def _log_rows(client) -> list[tuple]:
    rows = []
    for entry in client.execute_command("ACL", "LOG", "200"):
        fields = _as_dict(entry)
        rows.append(tuple(_s(fields[k]) if not isinstance(fields[k], int) else fields[k]
                          for k in ("count", "reason", "context", "object", "username")))
    return rows


def _as_user(client, rules: list[str]) -> redis.Redis:
    client.execute_command("ACL", "SETUSER", "lim", "reset", "on", ">p", *rules)
    return redis.Redis(port=client.connection_pool.connection_kwargs["port"], protocol=2,
                       username="lim", password="p", driver_info=None)


def test_log_groups_with_the_ten_newest_entries_only(pair):
    """A denial like an entry older than the ten newest starts an entry of its own."""
    rows = []
    for client in pair:
        client.execute_command("ACL", "LOG", "RESET")
        user = _as_user(client, ["+@all", "~k0"])
        for key in [f"k{i}" for i in range(1, 13)] + ["k1", "k12", "k1"]:
            outcome(user, "GET", key)
        user.close()
        rows.append(_log_rows(client))
    assert rows[0] == rows[1]
    assert sum(1 for row in rows[0] if row[3] == "k1") == 2  # the first k1 was too old


@pytest.mark.parametrize("argv", [
    ["SORT", "l", "BY", "w_*"], ["SORT", "l", "GET", "#"], ["SORT", "l", "BY", "nosort"],
    ["SORT_RO", "l", "GET", "h_*->f"], ["SORT", "l", "LIMIT", "0", "1", "GET", "#", "BY", "w*"],
    ["SORT", "l", "BY", "w_*", "STORE", "dst"], ["SORT", "l", "BADWORD", "GET", "#"],
])
@pytest.mark.parametrize("rules", [
    ["+@all", "~l", "~dst"],  # may read l and dst only
    ["+@all", "%R~*", "%W~dst"],  # reads every key
    ["+@all", "~l", "(+sort +sort_ro %R~* %W~dst)"],  # a selector that reads every key
    ["+@all", "~l", "(+sort_ro ~*)"],  # ... for SORT_RO only
])
def test_sort_by_and_get_need_a_user_who_reads_every_key(pair, argv, rules):
    """Redis refuses a BY pattern or a GET to a user who may not read every key (they read
    keys the command's key specs cannot name); SORT_RO too, and from scripts."""
    replies = []
    for client in pair:
        client.execute_command("ACL", "LOG", "RESET")
        client.execute_command("DEL", "l", "dst")
        client.execute_command("RPUSH", "l", "3", "1", "2")
        user = _as_user(client, rules)
        replies.append([outcome(user, *argv),
                        outcome(user, "EVAL", "return redis.pcall(unpack(ARGV))", "0", *argv),
                        _log_rows(client)])
        user.close()
    assert replies[0] == replies[1]


def test_denied_key_logged_is_the_last_any_selector_denies(pair):
    """Of equal denials from several selectors, Redis logs the key at the highest position."""
    rows = []
    for client in pair:
        client.execute_command("ACL", "LOG", "RESET")
        user = _as_user(client, ["+@all", "~a", "(+@read ~b)", "(+mget ~c)"])
        for argv in (["MGET", "a", "b", "x"], ["MGET", "x", "a", "c"], ["MGET", "c", "y", "b"],
                     ["EXISTS", "a", "z", "c"]):
            outcome(user, *argv)
        user.close()
        rows.append(_log_rows(client))
    assert rows[0] == rows[1]


def test_shard_channels_are_channels_not_keys(pair):
    """SPUBLISH / SSUBSCRIBE name a shard channel (a ``not_key`` key spec): the ACL checks it
    against the channel patterns only, and logs a channel denial."""
    replies = []
    for client in pair:
        client.execute_command("ACL", "LOG", "RESET")
        user = _as_user(client, ["+@all", "~k*", "&ok*"])
        replies.append([outcome(user, "SPUBLISH", "ch", "m"), outcome(user, "SPUBLISH", "k1", "m"),
                        outcome(user, "SPUBLISH", "ok1", "m"),
                        outcome(user, "EVAL", "return redis.pcall('spublish', 'ch', 'm')", "0"),
                        _log_rows(client)])
        user.close()
    assert replies[0] == replies[1]
