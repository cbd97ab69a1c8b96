"""The dump file format and the offline decoder, without sockets (memory backend)."""

from __future__ import annotations

import io
import struct

import pytest

from ledis.config import Config
from ledis.server.compose import build, load_commands
from ledis.storage import layout
from ledis.tools import dumpfile
from ledis.tools.dump import CommandStream, decode_score, offline_records
from ledis.tools.dumpfile import KEY, MORE, SYS, DumpError, DumpReader, DumpWriter


def write(records, codec="zlib"):
    buf = io.BytesIO()
    writer = DumpWriter(buf, {"test": True}, codec=codec)
    for record in records:
        writer.write(record)
    writer.close()
    return buf.getvalue()


def read(data):
    reader = DumpReader(io.BytesIO(data))
    return reader.info, list(reader)


@pytest.mark.parametrize("codec", ["zlib", "none"])
def test_round_trip_many_frames(codec):
    records = [[KEY, i % 16, b"key\x00%d" % i, "string", i, b"v" * (i % 3000)]
               for i in range(3000)]
    records += [[KEY, 0, b"h", "hash", 0, [b"f", b"v"]], [MORE, [b"g", b"w"]],
                [KEY, 1, b"z", "zset", 0, [b"m", float("inf"), b"n", -0.5]],
                [SYS, b"script:abc", b"return 1"]]
    data = write(records, codec)
    assert data.count(b"LEDISDMP") == 1
    info, back = read(data)
    assert info == {"test": True}
    assert back == records


def test_corruption_is_located():
    data = bytearray(write([[KEY, 0, b"k%d" % i, "string", 0, b"x" * 500]
                            for i in range(5000)]))
    data[-100] ^= 0xFF
    with pytest.raises(DumpError, match=r"checksum mismatch in the frame at byte \d+"):
        read(bytes(data))


def test_truncation_newer_format_and_foreign_files():
    data = write([[KEY, 0, b"k", "string", 0, b"v"]])
    for cut in (len(data) - 1, len(data) - 17, 30):
        with pytest.raises(DumpError, match="truncated"):
            read(data[:cut])
    newer = data[:8] + bytes([dumpfile.FORMAT + 1]) + data[9:]
    with pytest.raises(DumpError, match="newer than this ledis reads"):
        read(newer)
    with pytest.raises(DumpError, match="not a ledis dump"):
        read(b"REDIS0009" + data[9:])
    # an end marker that disagrees with the records read
    bad_end = data[:-16] + struct.pack(">QQ", 2, 1)
    with pytest.raises(DumpError, match="says 2 records, read 1"):
        read(bad_end)


def test_score_decoding_matches_the_zset_layout():
    from ledis.storage.types.zset import encode_score

    for score in (0.0, -0.0, 1.5, -2.25, 1e-300, -1e300, float("inf"), float("-inf")):
        assert decode_score(encode_score(score)) == score


@pytest.fixture
def core(tmp_path):
    load_commands()
    config = Config()
    config.backend = "memory"
    config.dir = str(tmp_path / "db")
    core = build(config)
    yield core
    core.close()


def run(core, ctx, *argv):
    return core.dispatch(ctx, [a if isinstance(a, bytes) else str(a).encode() for a in argv])


def test_offline_records_decode_every_type(core):
    ctx = core.new_context()
    run(core, ctx, "SET", b"s\x00", b"bin\xff")
    run(core, ctx, "HSET", "h", "a", "1", "b", "2")
    run(core, ctx, "RPUSH", "l", *[b"e%d" % i for i in range(2500)])
    run(core, ctx, "LPUSH", "l", "first")
    run(core, ctx, "SADD", "st", "x", "y")
    run(core, ctx, "ZADD", "z", "1.5", "a", "-inf", "b")
    run(core, ctx, "PEXPIRE", "h", "100000")
    run(core, ctx, "SET", "gone", "x", "PX", "1")
    run(core, ctx, "SELECT", "5")
    run(core, ctx, "SADD", "in5", "m")
    run(core, ctx, "SCRIPT", "LOAD", "return 7")
    core.commit()
    import time

    time.sleep(0.01)
    records = list(offline_records(core.engine))
    keys = {}
    current = None
    for record in records:
        if record[0] == KEY:
            current = (record[1], record[2])
            keys[current] = [record[3], record[4] > 0, list(record[5])
                             if not isinstance(record[5], bytes) else record[5]]
        elif record[0] == MORE:
            keys[current][2] += record[1]
    assert keys[(0, b"s\x00")] == ["string", False, b"bin\xff"]
    assert keys[(0, b"h")] == ["hash", True, [b"a", b"1", b"b", b"2"]]
    assert keys[(0, b"l")][2] == [b"first"] + [b"e%d" % i for i in range(2500)]
    assert keys[(0, b"st")][2] == [b"x", b"y"]
    assert keys[(0, b"z")][2] == [b"a", 1.5, b"b", float("-inf")] or \
        keys[(0, b"z")][2] == [b"b", float("-inf"), b"a", 1.5]
    assert keys[(5, b"in5")] == ["set", False, [b"m"]]
    assert (0, b"gone") not in keys
    assert [r for r in records if r[0] == SYS][0][1].startswith(b"script:")
    # orphan sub-keys (a version no metadata points to) are not dumped
    core.engine.put(layout.DATA, layout.sub_prefix(0, 1) + b"f", b"v")
    core.commit()
    assert list(offline_records(core.engine)) == records
    # and the command stream rebuilds the same keys
    stream = CommandStream()
    commands = [argv for r in records for argv in stream.commands(r)]
    assert [b"PEXPIREAT", b"h"] == commands[[c[:2] for c in commands].index(
        [b"PEXPIREAT", b"h"])][:2]
    assert [b"SELECT", b"5"] in commands
