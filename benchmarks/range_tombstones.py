"""What a RocksDB range tombstone costs the reads of its column family (rocksdict alone).

    python benchmarks/range_tombstones.py
    python benchmarks/range_tombstones.py --counts 100,1000,10000,50000 --write-buffer-mb 8

A store of 100k keys flushed to an SST; then range tombstones are added in batches of 50
(over keys that do not exist, as a retired collection's version prefix), and at each count it
measures: a point get, steady (2,000 random keys); the write of one more range tombstone; the
first get after that write. RocksDB rebuilds the fragmented list of the memtable's range
tombstones at the first read after a write that added one, so that get grows with the count
until the memtable flushes: why ledis retires small collections key by key
(``Engine.delete_few``, docs/PERFORMANCE.md "Range tombstones").
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time

import rocksdict


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", default="100,1000,10000,50000")
    ap.add_argument("--write-buffer-mb", type=int, default=8)  # ledis's default
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="range-tombstones-") as path:
        opt = rocksdict.Options(raw_mode=True)
        opt.create_if_missing(True)
        opt.set_write_buffer_size(args.write_buffer_mb << 20)
        db = rocksdict.Rdict(path, opt)
        for i in range(100_000):
            db[b"x%08d" % i] = b"v"
        db.flush()
        rnd = random.Random(1)
        wo = rocksdict.WriteOptions()
        n = 0
        print("| range tombstones | get, steady (us) | write of one more (us) "
              "| first get after it (us) |")
        print("|---|---|---|---|")
        for target in (int(c) for c in args.counts.split(",")):
            while n < target:
                batch = rocksdict.WriteBatch(raw_mode=True)
                for _ in range(50):
                    key = b"d%016d" % n
                    n += 1
                    batch.delete_range(key, key + b"\xff")
                db.write(batch, wo)
            db.get(b"x%08d" % 0)  # the rebuild after the last batch, outside the timing
            t0 = time.perf_counter()
            for _ in range(2000):
                db.get(b"x%08d" % rnd.randrange(100_000))
            steady = (time.perf_counter() - t0) / 2000
            batch = rocksdict.WriteBatch(raw_mode=True)
            key = b"e%016d" % n
            batch.delete_range(key, key + b"\xff")
            t1 = time.perf_counter()
            db.write(batch, wo)
            t2 = time.perf_counter()
            db.get(b"x%08d" % 5)
            t3 = time.perf_counter()
            print(f"| {target:,} | {steady * 1e6:.1f} | {(t2 - t1) * 1e6:.1f} "
                  f"| {(t3 - t2) * 1e6:.1f} |")
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
