"""FUNCTION timers across a Sentinel failover: kill -9 of the master, the promoted replica
takes the timers over; the old master, restarted and turned into a replica by Sentinel,
stops running them. Uses the harness of tests/test_sentinel.py."""

from __future__ import annotations

import shutil

import pytest

from tests.test_function_timers import tick_lib, ticks, timer
from tests.test_sentinel import NAME, group, wait_for  # noqa: F401  (group: the fixture)

pytestmark = pytest.mark.skipif(shutil.which("redis-sentinel") is None,
                                reason="redis-sentinel not installed")


def test_failover_moves_the_timers(group):  # noqa: F811
    master, replica, sentinels = group
    mc, rc = master.client(), replica.client()
    mc.function_load(tick_lib("100ms"))
    wait_for(lambda: ticks(rc) >= 3, 20, "ticks replicated")
    assert timer(rc, b"tick")[b"runs"] == 0
    s = sentinels[0].client()
    wait_for(lambda: s.sentinel_master(NAME)["num-other-sentinels"] == 2, 15,
             "the other Sentinels")
    wait_for(lambda: s.sentinel_slaves(NAME), 10, "the replica to be discovered")
    master.kill()
    wait_for(lambda: rc.info("replication")["role"] == "master", 30, "the failover")
    wait_for(lambda: timer(rc, b"tick")[b"runs"] >= 3, 10, "the promoted replica's timer")
    before = ticks(rc)
    wait_for(lambda: ticks(rc) > before + 2, 10, "ticks on the new master")
    # the old master comes back as a master (its config says so) until Sentinel demotes it
    master.start()
    old = master.client()
    wait_for(lambda: (i := old.info("replication"))["role"] == "slave"
             and i["master_link_status"] == "up", 90, "the old master to follow",
             interval=0.25)
    wait_for(lambda: timer(old, b"tick")[b"next_run_ms"] == 0, 5, "timers disarmed")
    runs = timer(old, b"tick")[b"runs"]
    n = ticks(rc)
    wait_for(lambda: ticks(old) > n, 10, "the new master's ticks on the old one")
    assert timer(old, b"tick")[b"runs"] == runs
