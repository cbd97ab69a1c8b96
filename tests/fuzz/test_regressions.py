"""Regressions found by the protocol fuzzer: the minimal byte pieces, each written on its own
over a real socket, then a check that the connection still answers."""

from __future__ import annotations

import socket
import time

import pytest

from tests.fuzz.common import ping, proc_status_bytes

PING = b"*1\r\n$4\r\nPING\r\n"


def _send_pieces(port: int, pieces: list[bytes], replies: int) -> bytes:
    """Write each piece as its own segment, then PING; return ``replies`` replies (2 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in pieces:
            s.sendall(piece)
            time.sleep(0.05)  # most often one server read per piece
        s.sendall(PING)
        out = b""
        deadline = time.monotonic() + 2
        while out.count(b"\r\n") < replies and time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out


@pytest.mark.parametrize("pieces", [
    [b"*-", b"5\r\n"],
    [b"*-5", b"\r\n"],
    [b"*-5\r", b"\n"],
    [PING + b"*-", b"7\r\n" + PING],
])
def test_empty_multibulk_header_split_across_reads_is_ignored(server, pieces):
    # Redis ignores "*-N" (N > 1) as an empty request wherever the read boundaries fall;
    # split, hiredis used to see it and fail with "invalid multibulk length"
    replies = 1 + b"".join(pieces).count(PING)
    out = _send_pieces(server.port, pieces, replies)
    assert out == b"+PONG\r\n" * replies, out


def _vm_size(pid: int) -> int:
    return proc_status_bytes(pid, "VmSize")


@pytest.mark.parametrize("pieces", [
    [b"*2147483647\r\n$4\r\nPING\r\n"],
    [b"*21", b"47483647\r\n"],
    [b"*2147483647\r", b"\n$3\r\n"],
    [PING + b"*2147483", b"647\r\n$3\r\nSET\r\n", b"$1\r\nk\r\n"],
])
def test_huge_multibulk_count_allocates_nothing_and_stalls_nobody(fresh_server, pieces):
    # Found by the protocol fuzzer (LEDIS_FUZZ_SEED=3818917181): hiredis allocated the
    # 2^31-slot argument list on reading "*2147483647" (16 GB of lazily mapped address
    # space), and every full garbage collection then walked it for 12+ s, stalling every
    # client. Now the unfinished request is held until its arguments arrive.
    srv = fresh_server()
    pid = srv.proc.pid
    ping(srv.port)
    before = _vm_size(pid)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as hostile:
        hostile.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in pieces:
            hostile.sendall(piece)
            time.sleep(0.05)
        probe = srv.client(socket_timeout=3)
        probe.ping()
        grown = _vm_size(pid) - before
        assert grown < 1 << 30, f"address space grew {grown >> 20} MB"
        # enough work on another client for the collector to reach its oldest generation
        for i in range(300):
            pipe = probe.pipeline(transaction=False)
            for j in range(20):
                pipe.set(f"gc:{j}", i)
            pipe.execute()
            assert ping(srv.port, timeout=3) < 3
        assert srv.proc.poll() is None


def test_big_count_request_split_across_reads_runs_whole(server):
    # a legitimate request over HOLD_COUNT arguments, trickled: held, then run once whole
    keys = [b"big:%d" % i for i in range(3000)]
    request = b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * len(keys)) + b"".join(
        b"$%d\r\n%s\r\n$1\r\nv\r\n" % (len(k), k) for k in keys)
    pieces = [request[i:i + 4096] for i in range(0, len(request), 4096)]
    out = _send_pieces(server.port, pieces, 2)
    assert out == b"+OK\r\n+PONG\r\n", out
    assert server.client().exists(*keys) == len(keys)
    server.client().delete(*keys)


def test_held_request_counts_against_the_query_buffer_limit(fresh_server):
    srv = fresh_server()
    srv.client().config_set("client-query-buffer-limit", 1024 * 1024)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"*3000000\r\n")
        closed = False
        try:
            for _ in range(400):  # 400 x 4 KB of one-byte arguments: past the 1 MB limit
                s.sendall(b"$1\r\nx\r\n" * 585)
                time.sleep(0.001)
            s.settimeout(3)
            closed = s.recv(100) == b""
        except (ConnectionResetError, BrokenPipeError):
            closed = True
        assert closed
    assert ping(srv.port) < 3
