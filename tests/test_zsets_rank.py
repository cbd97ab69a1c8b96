"""The zset rank index (issue #19) through real servers: rank commands on zsets big enough to
have the index, against redis-server after random writes of every kind (one at a time and
pipelined, so many writes share one group commit), on a replica, through COPY/RENAME/MOVE,
DUMP/RESTORE and ZUNIONSTORE, and in ``ledis check``. The unit model with tiny nodes is
tests/unit/test_zset_rank_index.py; the timing of 1k vs 5M members is the slow test below."""

from __future__ import annotations

import os
import random
import statistics
import time

import pytest

from ledis.storage import layout
from ledis.storage.engine import Engine
from ledis.storage.layout import META, U64, ZSCORE
from ledis.storage.types import zset
from tests.test_replication import assert_same, replica_of, servers  # noqa: F401 (fixture)
from tests.test_tools_dump import ledis_cli

BIG = 3000  # members: above zset_rank.INDEX_MIN, so the zsets below have the index


def fill(client, key: str, n: int, seed: int = 0, chunk: int = 500) -> None:
    rng = random.Random(seed)
    for base in range(0, n, chunk):
        client.zadd(key, {f"m{i}": rng.randrange(-n // 4, n // 4)
                          for i in range(base, min(n, base + chunk))})


def rank_reads(rng: random.Random, key: str, members: int) -> list:
    kind = rng.randrange(9)
    member = f"m{rng.randrange(members + 50)}"
    a, b = rng.randint(-members - 20, members + 20), rng.randint(-members - 20, members + 20)
    if kind == 0:
        return ["ZRANK", key, member]
    if kind == 1:
        return ["ZREVRANK", key, member]
    if kind == 2:
        return ["ZRANGE", key, a, a + rng.randrange(30), "WITHSCORES"]
    if kind == 3:
        return ["ZREVRANGE", key, a, a + rng.randrange(30)]
    if kind == 4:
        return ["ZRANGE", key, a, b if abs(b - a) < 40 else a + 5, "REV"]
    # Scores of ``fill`` lie in [-members / 4, members / 4): bounds around them.
    lo, hi = sorted(rng.randint(-members // 3, members // 3) for _ in range(2))
    lo, hi = rng.choice([f"({lo}", str(lo), "-inf"]), rng.choice([f"({hi}", str(hi), "+inf"])
    if kind == 6:
        return ["ZCOUNT", key, lo, hi]
    if kind == 7:  # offsets past 1,024 seek by rank
        return ["ZRANGEBYSCORE", key, lo, hi, "WITHSCORES", "LIMIT",
                rng.randrange(members + 10), rng.choice([-1, 1, 7])]
    if kind == 8:
        return ["ZREVRANGEBYSCORE", key, hi, lo, "LIMIT", rng.randrange(members + 10),
                rng.choice([-1, 2, 9])]
    return ["ZRANGE", key, -rng.randrange(1, 20), -1]


def writes(rng: random.Random, key: str, members: int) -> list:
    member = f"m{rng.randrange(members + 200)}"
    score = rng.randrange(-members // 4, members // 4)
    kind = rng.randrange(14)
    if kind == 0:
        return ["ZADD", key, score, member]
    if kind == 1:
        return ["ZADD", key, rng.choice(["NX", "XX", "GT", "LT"]), score, member]
    if kind == 2:
        return ["ZADD", key, "INCR", rng.randrange(-50, 50), member]
    if kind == 3:
        return ["ZINCRBY", key, rng.randrange(-50, 50), member]
    if kind == 4:
        return ["ZREM", key, member, f"m{rng.randrange(members)}"]
    if kind == 5:
        return ["ZREMRANGEBYSCORE", key, score, score + rng.randrange(3)]
    if kind == 6:
        start = rng.randrange(-members, members)
        return ["ZREMRANGEBYRANK", key, start, start + rng.randrange(4)]
    if kind == 7:
        return ["ZPOPMIN", key, rng.randrange(1, 4)]
    if kind == 8:
        return ["ZPOPMAX", key]
    if kind == 9:
        return ["ZMPOP", 1, key, rng.choice(["MIN", "MAX"]), "COUNT", rng.randrange(1, 3)]
    if kind == 10:
        return ["ZADD", key, *[x for i in range(40) for x in (score + i, f"n{rng.randrange(400)}")]]
    if kind == 11:  # (not ZREMRANGEBYLEX: over unequal scores Redis's answer is its own)
        return ["ZADD", key, "XX", "CH", score, member]
    if kind == 12:
        moved = [x for i in range(20) for x in (score - i, f"m{rng.randrange(members)}")]
        return ["ZADD", key, "CH", *moved]
    return ["BZPOPMIN", key, 0.01]


def test_rank_commands_match_redis_after_random_writes(pair):
    pair.raw()
    for client in pair:
        fill(client, "z", BIG)
    rng = random.Random(19)
    for step in range(1500):
        pair.same(*(writes(rng, "z", BIG) if step % 2 else rank_reads(rng, "z", BIG)))
    for _ in range(200):
        pair.same(*rank_reads(rng, "z", BIG))


def test_rank_commands_match_redis_after_pipelined_writes(pair):
    """Many writes in one group commit: the index's per-batch state across commands."""
    pair.raw()
    for client in pair:
        fill(client, "z", BIG, seed=1)
    rng = random.Random(7)
    for _ in range(30):
        batch = [writes(rng, "z", BIG) for _ in range(60)] + [rank_reads(rng, "z", BIG)
                                                             for _ in range(20)]

        def run(client, batch=batch):
            pipe = client.pipeline(transaction=rng.random() < 0.5)
            for args in batch:
                pipe.execute_command(*args)
            return pipe.execute(raise_on_error=False)

        got, want = run(pair.ours), run(pair.ref)
        assert [str(x) if isinstance(x, Exception) else x for x in got] == \
            [str(x) if isinstance(x, Exception) else x for x in want]
    for _ in range(100):
        pair.same(*rank_reads(rng, "z", BIG))


def test_copied_renamed_moved_and_stored_zsets_keep_a_right_index(pair):
    pair.raw()
    for client in pair:
        fill(client, "src", BIG, seed=2)
        client.execute_command("COPY", "src", "copy")
        client.execute_command("RENAME", "copy", "renamed")
        client.execute_command("MOVE", "renamed", 3)
        client.execute_command("ZUNIONSTORE", "union", 2, "src", "src", "WEIGHTS", 1, 2)
        client.execute_command("ZRANGESTORE", "part", "src", 100, 2500)
        client.execute_command("RESTORE", "restored", 0, client.execute_command("DUMP", "src"))
    rng = random.Random(3)
    for key in ("src", "union", "part", "restored"):
        for step in range(150):
            pair.same(*(writes(rng, key, BIG) if step % 3 == 0 else rank_reads(rng, key, BIG)))
    for client in pair:
        client.execute_command("SELECT", 3)
    for step in range(150):
        pair.same(*(writes(rng, "renamed", BIG) if step % 3 == 0
                    else rank_reads(rng, "renamed", BIG)))


def test_lex_reads_of_a_one_score_zset_match_redis(pair):
    """ZLEXCOUNT counts by rank where every member has one score (autocomplete indexes)."""
    pair.raw()
    rng = random.Random(11)
    words = [f"{rng.choice('abcdef')}{rng.randrange(10**6):06d}" for _ in range(BIG)]
    for client in pair:
        for base in range(0, BIG, 500):
            client.zadd("words", {w: 0 for w in words[base:base + 500]})
    bounds = ["-", "+", "[a", "(a5", "[b123", "(c", "[c9", "(d000100", "[f", "(g"]
    for step in range(300):
        lo, hi = rng.choice(bounds), rng.choice(bounds)
        pair.same("ZLEXCOUNT", "words", lo, hi)
        pair.same("ZRANGEBYLEX", "words", lo, hi, "LIMIT", rng.randrange(BIG), 5)
        if step % 10 == 0:
            word = f"{rng.choice('abcdef')}{rng.randrange(10**6):06d}"
            pair.same("ZADD", "words", 0, word)
            pair.same("ZREM", "words", rng.choice(words))


def test_zrandmember_of_an_indexed_zset_draws_every_rank(fresh_server):
    """ZRANDMEMBER reads random ranks through the index: members that exist with their
    scores, distinct for a positive count, and every part of the zset drawn about evenly."""
    client = fresh_server().client()
    fill(client, "z", BIG, seed=9)
    members = client.zrange("z", 0, -1, withscores=True)
    rank = {m: i for i, (m, _) in enumerate(members)}
    scores = dict(members)
    tenths = [0] * 10
    for _ in range(150):
        flat = client.zrandmember("z", 20, withscores=True)  # member, score, member...
        picked = list(zip(flat[::2], flat[1::2], strict=True))
        assert len({m for m, _ in picked}) == 20
        for member, score in picked:
            assert scores[member] == float(score)
            tenths[rank[member] * 10 // BIG] += 1
        repeated = client.zrandmember("z", -30)
        assert len(repeated) == 30 and all(m in rank for m in repeated)
        assert client.zrandmember("z") in rank
    # 3,000 draws, 300 expected per tenth (sd ~16): a pick biased to block starts, one group
    # or one end of the zset would leave whole tenths short.
    assert min(tenths) > 200 and max(tenths) < 400, tenths


def test_replica_follows_index_writes_and_its_store_checks_clean(servers):  # noqa: F811
    master = servers()
    mc = master.client()
    fill(mc, "z", BIG, seed=4)
    replica = replica_of(servers, master)
    rc = replica.client()
    rng = random.Random(5)
    for _ in range(20):
        pipe = mc.pipeline(transaction=False)
        for _ in range(50):
            pipe.execute_command(*writes(rng, "z", BIG))
        pipe.execute(raise_on_error=False)
    mc.execute_command("PEXPIRE", "z", 60_000)
    assert_same(mc, rc)
    size = mc.zcard("z")
    members = mc.zrange("z", 0, -1)
    for i in rng.sample(range(size), 50):
        assert rc.zrank("z", members[i]) == i
        assert rc.zrange("z", i, i + 3) == members[i:i + 4]
    data_dir = os.path.join(replica.dir, "db")
    replica.stop()
    assert b"0 problem(s)" in ledis_cli("check", data_dir).stdout


def test_check_finds_a_wrong_index_count_and_repair_rebuilds_it(fresh_server):
    srv = fresh_server()
    client = srv.client()
    fill(client, "z", BIG, seed=6)
    members = client.zrange("z", 0, -1)
    srv.stop()
    data_dir = os.path.join(srv.dir, "db")
    engine = Engine(data_dir, fsync="no")
    raw = engine.get(META, layout.meta_key(0, b"z"))
    assert zset.indexed(raw)
    prefix = layout.sub_prefix(0, U64.unpack_from(raw, 9)[0])
    block = next(engine.iterate(ZSCORE, prefix + b"\xff\xff\x00", prefix + b"\xff\xff\x01"))[0]
    engine.put(ZSCORE, block, U64.pack(7))
    engine.close()
    proc = ledis_cli("check", data_dir, check=False)
    assert b"rank index block 0 counts 7 members" in proc.stdout
    ledis_cli("repair", data_dir, check=False)
    assert b"0 problem(s)" in ledis_cli("check", data_dir).stdout
    srv.start()
    client = srv.client()
    for i in random.Random(8).sample(range(BIG), 30):
        assert client.zrank("z", members[i]) == i


# --- timing (slow): rank ops on 5M members cost about what they cost on 1k -----------------

SLOW_MEMBERS = int(os.environ.get("LEDIS_RANK_MEMBERS", "5000000"))


def _timed(client, command: list, repeat: int = 40) -> float:
    """Median seconds of one command over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        client.execute_command(*command)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@pytest.mark.slow
def test_rank_ops_on_5m_members_take_about_what_they_take_on_1k(fresh_server):
    srv = fresh_server()
    client = srv.client()
    fill(client, "small", 1000)
    # ZADD of 1,000 members a command, 10 commands per round trip: a few minutes for 5M.
    pipe = client.pipeline(transaction=False)
    for base in range(0, SLOW_MEMBERS, 1000):
        pipe.zadd("big", {f"m{i}": i * 7919 % SLOW_MEMBERS
                          for i in range(base, min(SLOW_MEMBERS, base + 1000))})
        if len(pipe) == 10:
            pipe.execute()
    pipe.execute()
    assert client.zcard("big") == SLOW_MEMBERS
    mid = next(i for i in range(SLOW_MEMBERS) if i * 7919 % SLOW_MEMBERS == SLOW_MEMBERS // 2)
    report = {}
    for name, n, member in (("small", 1000, "m500"), ("big", SLOW_MEMBERS, f"m{mid}")):
        report[name] = {
            "ZRANK": _timed(client, ["ZRANK", name, member]),
            "ZREVRANK": _timed(client, ["ZREVRANK", name, member]),
            "ZRANGE mid 10": _timed(client, ["ZRANGE", name, n // 2, n // 2 + 9]),
            "ZRANGE REV mid 10": _timed(client, ["ZRANGE", name, n // 2, n // 2 + 9, "REV"]),
            # a quarter (big) to a half (small) of the members in range, not walked
            "ZCOUNT": _timed(client, ["ZCOUNT", name, 0, n // 4]),
            "ZRANDMEMBER 5": _timed(client, ["ZRANDMEMBER", name, 5]),
            "ZRANGEBYSCORE LIMIT mid 10": _timed(
                client, ["ZRANGEBYSCORE", name, "-inf", "+inf", "LIMIT", n // 2, 10]),
            "ZREVRANGEBYSCORE LIMIT mid 10": _timed(
                client, ["ZREVRANGEBYSCORE", name, "+inf", "-inf", "LIMIT", n // 2, 10]),
        }
    print(f"rank timings (median s, round trip included): {report}")
    assert client.zrank("big", f"m{mid}") == SLOW_MEMBERS // 2
    for op, seconds in report["big"].items():
        # A round trip included: a few ms at most, never the O(rank) walk (~0.6 s at 5M).
        assert seconds < 0.005 + 4 * report["small"][op], (op, report)
    # ZREMRANGEBYRANK of 10 members in the middle, and the ranks after it.
    t0 = time.perf_counter()
    assert client.zremrangebyrank("big", SLOW_MEMBERS // 2, SLOW_MEMBERS // 2 + 9) == 10
    took = time.perf_counter() - t0
    print(f"ZREMRANGEBYRANK of 10 in the middle: {took * 1000:.2f} ms")
    assert took < 0.05
    assert client.zrank("big", f"m{mid}") is None
