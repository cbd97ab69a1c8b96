"""stdlib/queue.lua: push/reserve/ack/nack, visibility timeout redelivery, backoff,
dead-letter, stats; racing workers lose no job and never get one twice at once."""

from __future__ import annotations

import threading
import time

import pytest

from tests.stdlib_helpers import load_stdlib


@pytest.fixture
def c(r):
    load_stdlib(r, "queue")
    yield r


def stats(c, q="Q"):
    flat = c.fcall("q_stats", 1, q)
    return {k.decode(): v for k, v in zip(flat[::2], flat[1::2], strict=True)}


def test_push_reserve_ack(c):
    assert c.fcall("q_push", 1, "Q", "job1") == b"1"
    assert c.fcall("q_push", 1, "Q", "job2") == b"2"
    assert c.fcall("q_reserve", 1, "Q", 5000) == [b"1", b"job1", 1]
    assert stats(c)["inflight"] == 1
    assert c.fcall("q_ack", 1, "Q", 1, 1) == 1
    assert c.fcall("q_ack", 1, "Q", 1, 1) == 0
    assert c.fcall("q_reserve", 1, "Q", 5000) == [b"2", b"job2", 1]
    assert c.fcall("q_ack", 1, "Q", 2, 1) == 1
    assert c.fcall("q_reserve", 1, "Q", 5000) is None
    s = stats(c)
    assert (s["pushed"], s["acked"], s["ready"], s["inflight"]) == (2, 2, 0, 0)
    assert c.hlen("Q:jobs") == 0  # acked payloads are gone


def test_visibility_timeout_redelivers(c):
    c.fcall("q_push", 1, "Q", "job")
    assert c.fcall("q_reserve", 1, "Q", 100) == [b"1", b"job", 1]
    assert c.fcall("q_reserve", 1, "Q", 100) is None
    time.sleep(0.2)  # the worker "crashed": no ack before the deadline
    assert c.fcall("q_reserve", 1, "Q", 5000) == [b"1", b"job", 2]
    assert c.fcall("q_ack", 1, "Q", 1, 1) == 0  # the stale reservation cannot ack
    assert c.fcall("q_ack", 1, "Q", 1, 2) == 1
    assert stats(c)["expired"] == 1


def test_nack_backoff_then_dead_letter(c):
    c.fcall("q_push", 1, "Q", "bad")
    assert c.fcall("q_reserve", 1, "Q", 5000, 2) == [b"1", b"bad", 1]
    assert c.fcall("q_nack", 1, "Q", 1, 1, 150, 2) == b"retry"
    assert c.fcall("q_reserve", 1, "Q", 5000, 2) is None  # backing off
    assert stats(c)["delayed"] == 1
    time.sleep(0.2)
    assert c.fcall("q_reserve", 1, "Q", 5000, 2) == [b"1", b"bad", 2]
    assert c.fcall("q_nack", 1, "Q", 1, 2, 150, 2) == b"dead"
    assert c.fcall("q_nack", 1, "Q", 1, 2, 150, 2) is None
    s = stats(c)
    assert (s["dead"], s["dead_total"], s["retried"], s["ready"]) == (1, 1, 1, 0)
    assert c.fcall("q_dead", 1, "Q") == [b"1", b"bad"]
    assert c.fcall("q_requeue_dead", 1, "Q") == 1
    assert c.fcall("q_reserve", 1, "Q", 5000, 2) == [b"1", b"bad", 1]


def test_expired_reservations_dead_letter_after_max_attempts(c):
    c.fcall("q_push", 1, "Q", "crashy")
    for attempt in (1, 2):
        assert c.fcall("q_reserve", 1, "Q", 50, 2)[2] == attempt
        time.sleep(0.1)
    assert c.fcall("q_reserve", 1, "Q", 50, 2) is None
    assert stats(c)["dead"] == 1


def test_delayed_push(c):
    c.fcall("q_push", 1, "Q", "later", 150)
    assert c.fcall("q_reserve", 1, "Q", 1000) is None
    time.sleep(0.2)
    assert c.fcall("q_reserve", 1, "Q", 1000)[1] == b"later"


def test_racing_workers_lose_nothing(c, server):
    """6 workers drain 300 jobs; some 'crash' (skip the ack) and their jobs come back."""
    total = 300
    pipe = c.pipeline(transaction=False)
    for i in range(total):
        pipe.fcall("q_push", 1, "RQ", f"job-{i}")
    pipe.execute()
    done: list[bytes] = []
    holding: dict[bytes, int] = {}
    overlap = []
    lock = threading.Lock()
    stop = time.time() + 40

    def worker(wid):
        cl = server.client()
        n = 0
        idle = 0
        while time.time() < stop:
            job = cl.fcall("q_reserve", 1, "RQ", 300, 10)
            if job is None:
                idle += 1
                if idle > 30:
                    break
                time.sleep(0.02)
                continue
            idle = 0
            job_id, payload, attempt = job
            with lock:
                if holding.get(job_id):
                    overlap.append(job_id)
                holding[job_id] = wid
            n += 1
            if n % 37 == 0:  # crash: never ack, the job must come back
                with lock:
                    holding.pop(job_id, None)
                continue
            with lock:
                holding.pop(job_id, None)
            if cl.fcall("q_ack", 1, "RQ", job_id, attempt) == 1:
                with lock:
                    done.append(payload)
        cl.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert overlap == []
    assert sorted(done) == sorted(f"job-{i}".encode() for i in range(total))
    s = stats(c, "RQ")
    assert (s["acked"], s["ready"], s["inflight"], s["dead"]) == (total, 0, 0, 0)
    assert s["expired"] >= 1
