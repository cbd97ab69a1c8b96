"""Damaged store files (issue #21, docs/reliability.md "Corruption"): real servers, real files.

Each test writes through a real server, stops it (a clean stop flushes the memtables, so the
data is in SST files) or kills it (the data stays in the WAL), damages one file the way a bad
disk or a careless operator would, and then checks what the server, ``ledis check`` and
``ledis repair`` do: a damaged block is an error reply or a one-line refusal to start, never
wrong data, never a traceback; check names the damage and exits 1; repair rebuilds the store
from what RocksDB can read, and the server starts on it.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from tests.helpers import ROOT, LedisProcess, free_port

MARKER = b"MARKER-0123456789abcdef" * 4


def _ledis(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ledis", *args], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=60, check=False)


def _fill(server: LedisProcess) -> dict[bytes, bytes]:
    r = server.client()
    written = {b"big": os.urandom(20_000) + MARKER + os.urandom(20_000)}
    written.update({b"k%d" % i: b"v%d" % i for i in range(100)})
    for key, value in written.items():
        r.set(key, value)
    return written


def _store(server: LedisProcess) -> str:
    return os.path.join(server.dir, "db")


def _start_fails(server: LedisProcess) -> subprocess.CompletedProcess:
    """Start a server on ``server``'s store in the foreground; it must exit (not serve)."""
    return subprocess.run(
        [sys.executable, "-m", "ledis", "server", "--port", str(free_port()), "--dir",
         _store(server)], cwd=str(ROOT), capture_output=True, text=True, timeout=60,
        check=False)


def _assert_one_line_refusal(done: subprocess.CompletedProcess, store: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert lines[0].startswith(f"ledis: cannot open the store ({store}): ")
    assert f"ledis check {store}" in lines[0]


def _assert_no_wrong_values(r: redis.Redis, written: dict[bytes, bytes]) -> int:
    """Every key the server returns has the value written; returns how many are there."""
    present = 0
    for key, value in written.items():
        got = r.get(key)
        if got is not None:
            assert got == value, key
            present += 1
    return present


def test_store_opens_with_paranoid_checks_and_block_checksums(fresh_server):
    """The options RocksDB writes beside the store (OPTIONS-*) are what ledis opened with."""
    server = fresh_server()
    server.client().set("k", "v")
    server.stop()
    latest = max(glob.glob(os.path.join(_store(server), "OPTIONS-*")),
                 key=lambda p: int(p.rsplit("-", 1)[1]))
    text = Path(latest).read_text()
    assert "paranoid_checks=true" in text
    checksums = [line.split("=", 1)[1] for line in text.splitlines()
                 if line.strip().startswith("checksum=")]
    assert checksums and all(c != "kNoChecksum" for c in checksums), checksums
    # And reads verify them (ReadOptions are not in the OPTIONS file): see the flipped-byte
    # test below, where a read of the damaged block is an error, not the damaged value.


def test_flipped_byte_in_an_sst_is_an_error_reply_and_repair_recovers(fresh_server):
    server = fresh_server()
    written = _fill(server)
    server.stop()
    store = _store(server)
    damaged = []
    for path in glob.glob(os.path.join(store, "*.sst")):
        data = bytearray(Path(path).read_bytes())
        at = data.find(MARKER)
        if at >= 0:
            data[at + 10] ^= 0x01
            Path(path).write_bytes(bytes(data))
            damaged.append(path)
    assert damaged, "the value never reached an SST file"

    # RocksDB finds nothing wrong at open (the damage is inside a data block): the server
    # starts, and the read of that block is an error reply, on a connection that goes on.
    server.start()
    r = server.client()
    with pytest.raises(redis.ResponseError) as exc:
        r.get("big")
    assert str(exc.value).startswith("the store is damaged (Corruption: ")  # "ERR " stripped
    assert "ledis check" in str(exc.value)
    assert r.ping() is True
    assert server.proc.poll() is None
    server.stop()

    done = _ledis("check", store)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[corrupt] column family " in done.stdout
    assert "Corruption" in done.stdout and "Traceback" not in done.stderr

    done = _ledis("repair", store)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rebuilt the store with RocksDB's repair" in done.stdout
    assert _ledis("check", store).returncode == 0

    server.start()
    r = server.client()
    present = _assert_no_wrong_values(r, written)
    assert r.dbsize() == present
    r.set("after", "repair")
    assert r.get("after") == b"repair"


def test_truncated_wal_keeps_the_longest_valid_prefix(fresh_server):
    """A WAL cut short (a torn last write) is what RocksDB's point-in-time recovery is for,
    as Redis's ``aof-load-truncated yes``: the server starts with the writes before the cut,
    every one intact, and none after it."""
    server = fresh_server("--appendfsync", "always")
    r = server.client()
    for i in range(300):
        r.set(b"seq:%d" % i, b"value-%d" % i * 20)
    server.kill()  # no flush: everything is in the WAL only
    store = _store(server)
    wal = max(glob.glob(os.path.join(store, "*.log")), key=os.path.getsize)
    size = os.path.getsize(wal)
    assert size > 50_000
    with open(wal, "r+b") as f:
        f.truncate(size // 2 + 7)  # inside a record

    server.start()
    r = server.client()
    present = [r.get(b"seq:%d" % i) for i in range(300)]
    kept = present.index(None) if None in present else 300
    assert 0 < kept < 300
    assert all(v == b"value-%d" % i * 20 for i, v in enumerate(present[:kept]))
    assert not any(present[kept:])  # a prefix: nothing after the cut
    assert r.dbsize() == kept
    server.stop()
    done = _ledis("check", store)
    assert done.returncode == 0, done.stdout  # the store RocksDB recovered is consistent


@pytest.mark.parametrize("victim", ["CURRENT", "MANIFEST"])
def test_missing_current_or_manifest_refuses_to_start_and_repair_rebuilds(fresh_server,
                                                                           victim):
    server = fresh_server()
    written = _fill(server)
    server.stop()
    store = _store(server)
    names = glob.glob(os.path.join(store, "CURRENT" if victim == "CURRENT" else "MANIFEST-*"))
    assert names
    for name in names:
        os.remove(name)

    done = _start_fails(server)
    _assert_one_line_refusal(done, store)
    if victim == "CURRENT":  # not taken for a new, empty store
        assert "CURRENT is missing" in done.stderr
        assert not os.path.exists(os.path.join(store, "CURRENT"))

    done = _ledis("check", store)
    assert done.returncode == 1
    assert "[corrupt] RocksDB cannot open the store" in done.stdout

    done = _ledis("repair", store)
    assert done.returncode == 0, done.stdout + done.stderr
    server.start()
    r = server.client()
    assert _assert_no_wrong_values(r, written) == len(written)  # nothing was damaged
    assert r.dbsize() == len(written)
