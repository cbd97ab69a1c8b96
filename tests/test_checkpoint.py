"""SAVE / BGSAVE checkpoints, LASTSAVE, retention, `ledis restore-checkpoint`."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import redis

from tests.helpers import ROOT, free_port, wait_port
from tests.test_tools_dump import ledis_cli, populate, snapshot


def checkpoints(server) -> list[str]:
    """The server's checkpoints in the default folder, ``<dir>.checkpoints`` beside its store."""
    return listing(os.path.join(server.dir, "db.checkpoints"))


def listing(root) -> list[str]:
    if not os.path.isdir(root):
        return []
    return sorted(os.path.join(root, n) for n in os.listdir(root))


def wait_bgsave(client, before: int, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if client.lastsave().timestamp() > before:
            return
        time.sleep(0.05)
    raise AssertionError("BGSAVE did not finish")


def test_save_creates_checkpoint_and_restore_brings_it_back(fresh_server, tmp_path):
    srv = fresh_server()
    c = srv.client()
    populate(c)
    at_save = snapshot(srv.port)
    assert checkpoints(srv) == []
    assert c.save() is True
    [first] = checkpoints(srv)
    assert os.path.exists(os.path.join(first, "CURRENT"))
    assert abs(c.lastsave().timestamp() - time.time()) < 5
    # later changes are not in the checkpoint
    c.set(b"after", b"1")
    c.delete(b"bighash")
    c.lpush(b"list", b"new")
    srv.stop()
    data_dir = os.path.join(srv.dir, "db")
    # refuses to clobber without --force
    proc = ledis_cli("restore-checkpoint", first, "--dir", data_dir, check=False)
    assert proc.returncode != 0 and b"--force" in proc.stderr
    proc = ledis_cli("restore-checkpoint", first, "--dir", data_dir, "--force")
    assert b"restored" in proc.stdout and b"keys stored)" in proc.stdout
    assert any(n.startswith("db.old-") for n in os.listdir(srv.dir))
    srv.start()
    assert snapshot(srv.port) == at_save
    # "gone" (PX 1) may be in the checkpoint physically, like an expired key Redis has not
    # reclaimed yet; DBSIZE counts it until active expiry removes it.
    deadline = time.time() + 5
    while srv.client().dbsize() != 12 and time.time() < deadline:
        time.sleep(0.05)
    assert srv.client().dbsize() == 12


def test_restore_refused_while_server_runs(fresh_server):
    srv = fresh_server()
    srv.client().set(b"k", b"v")
    srv.client().save()
    [cp] = checkpoints(srv)
    proc = ledis_cli("restore-checkpoint", cp, "--dir", os.path.join(srv.dir, "db"), "--force",
                     check=False)
    assert proc.returncode != 0 and b"running server" in proc.stderr
    assert srv.client().get(b"k") == b"v"


def test_bgsave_while_writes_continue_and_retention(fresh_server, tmp_path):
    config = tmp_path / "ledis.yaml"
    config.write_text("storage:\n  checkpoint_keep: 2\n")
    srv = fresh_server(config=str(config))
    c = srv.client()
    for i in range(3):
        c.set(b"round", i)
        before = int(c.lastsave().timestamp())
        time.sleep(1.05)  # LASTSAVE has a one-second resolution
        assert c.bgsave() is True
        c.set(b"during", i)  # the server keeps answering
        wait_bgsave(c, before)
    cps = checkpoints(srv)
    assert len(cps) == 2 and all(not p.endswith(".tmp") for p in cps)
    # the newest checkpoint is a complete store: serve it directly
    srv.stop()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ledis", "server", "--port", str(port),
                             "--dir", cps[-1], "--loglevel", "warning"], cwd=str(ROOT))
    try:
        wait_port(port, proc)
        assert redis.Redis(port=port).get(b"round") == b"2"
    finally:
        proc.terminate()
        proc.wait(10)


def test_bgsave_syntax(fresh_server):
    c = fresh_server().client()
    with pytest.raises(redis.ResponseError, match="syntax error"):
        c.execute_command("BGSAVE", "NOW")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        c.execute_command("SAVE", "NOW")
    assert c.execute_command("BGSAVE", "SCHEDULE") is True
    # a second BGSAVE right away is either refused as in progress or starts a new one
    try:
        c.bgsave()
    except redis.ResponseError as exc:
        assert str(exc) == "Background save already in progress"


def test_info_persistence_reports_checkpoints(fresh_server):
    c = fresh_server().client()
    c.set(b"k", b"v")
    c.save()
    info = c.info("persistence")
    assert info["rdb_saves"] == 1 and info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_bgsave_in_progress"] == 0
    assert info["rdb_last_save_time"] == int(c.lastsave().timestamp())
    assert os.path.isdir(info["ledis_last_checkpoint"])


def _save_rounds(clients, rounds: int) -> None:
    """Interleaved SAVEs, each after a write naming the store and round."""
    for i in range(rounds):
        for name, client in clients.items():
            client.set(b"round", f"{name}{i}")
            assert client.save() is True


def _round_in(checkpoint: str) -> bytes:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ledis", "server", "--port", str(port),
                             "--dir", checkpoint, "--loglevel", "warning"], cwd=str(ROOT))
    try:
        wait_port(port, proc)
        return redis.Redis(port=port).get(b"round")
    finally:
        proc.terminate()
        proc.wait(10)


def test_sibling_stores_keep_their_own_checkpoints(fresh_server, tmp_path):
    config = tmp_path / "ledis.yaml"
    config.write_text("storage:\n  checkpoint_keep: 2\n")
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    # the later --dir wins over the helper's own
    a = fresh_server("--dir", str(a_dir), config=str(config))
    b = fresh_server("--dir", str(b_dir), config=str(config))
    _save_rounds({"a": a.client(), "b": b.client()}, 4)
    a_cps, b_cps = listing(f"{a_dir}.checkpoints"), listing(f"{b_dir}.checkpoints")
    assert len(a_cps) == 2 and len(b_cps) == 2
    assert all(os.path.basename(p).startswith("a-") for p in a_cps)
    assert all(os.path.basename(p).startswith("b-") for p in b_cps)
    # nothing in the shared parent (the old default) nor inside the stores
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["a", "a.checkpoints", "b", "b.checkpoints", "ledis.yaml"])
    assert not any(n.endswith("checkpoints") for n in os.listdir(a_dir))
    assert a.client().info("persistence")["ledis_last_checkpoint"] == a_cps[-1]
    assert _round_in(a_cps[-1]) == b"a3" and _round_in(b_cps[0]) == b"b2"


def test_shared_checkpoint_dir_prunes_only_own(fresh_server, tmp_path):
    shared = tmp_path / "shared"
    # checkpoints of other stores/older ledis versions and an operator's folder: never pruned
    foreign = ["20250101-000000-000000", "data-00000000-20250101-000000-000000", "keep-me"]
    for name in foreign:
        (shared / name).mkdir(parents=True)
    config = tmp_path / "ledis.yaml"
    config.write_text(f"checkpoints:\n  checkpoint_dir: {shared}\n  checkpoint_keep: 2\n")
    # same basename "data", different paths: told apart by the path hash
    x = fresh_server("--dir", str(tmp_path / "x" / "data"), config=str(config))
    y = fresh_server("--dir", str(tmp_path / "y" / "data"), config=str(config))
    _save_rounds({"x": x.client(), "y": y.client()}, 4)
    names = os.listdir(shared)
    for name in foreign:
        assert name in names
    ours = sorted(set(names) - set(foreign))
    assert len(ours) == 4 and all(n.startswith("data-") for n in ours)
    tags = {n.rsplit("-", 3)[0] for n in ours}
    assert len(tags) == 2  # two stores, two of each kept
    rounds = sorted(_round_in(str(shared / n)) for n in ours)
    assert rounds == [b"x2", b"x3", b"y2", b"y3"]


def test_restore_refuses_a_checkpoint_inside_the_target(tmp_path):
    target = tmp_path / "db"
    inside = target / "cps" / "cp"
    inside.mkdir(parents=True)
    (inside / "CURRENT").write_text("MANIFEST-000001\n")
    proc = ledis_cli("restore-checkpoint", str(inside), "--dir", str(target), "--force",
                     check=False)
    assert proc.returncode != 0 and b"inside" in proc.stderr
    assert inside.exists()
