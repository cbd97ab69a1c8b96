"""Regressions found by the protocol fuzzer: the minimal byte pieces, each written on its own
over a real socket, then a check that the connection still answers."""

from __future__ import annotations

import socket
import time

import pytest

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
