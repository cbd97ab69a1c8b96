"""MEMORY USAGE: how many bytes a key's records take in the store.

A key is its ``meta`` record, an ``expire`` index record when it has a TTL, and for a
collection one ``data`` record per element (plus one ``zscore`` record per sorted-set member);
see ``ledis.storage.layout``. Each record is counted as its key and value bytes plus
``RECORD_OVERHEAD``, what RocksDB adds to every entry (an 8-byte sequence/type trailer and two
length varints). Compression and block overheads are not counted: this is the logical,
uncompressed size of the key, the closest on-disk analogue to Redis's in-memory estimate.

Collections are sampled like Redis's ``MEMORY USAGE ... SAMPLES n``: the first ``samples``
elements are read and their average size is multiplied by the element count (``samples <= 0``
reads them all), so the cost is O(samples), not O(size).
"""

from __future__ import annotations

from itertools import islice

from ledis.storage import layout
from ledis.storage.keyspace import Database
from ledis.storage.layout import DATA, U64, ZSET

RECORD_OVERHEAD = 10
_SCORE_BYTES = 8


def key_usage(db: Database, key: bytes, raw: bytes, samples: int) -> int:
    """Estimated bytes of the live key ``key`` whose metadata is ``raw``."""
    total = 1 + len(key) + len(raw) + RECORD_OVERHEAD  # meta: db byte | key -> metadata
    if U64.unpack_from(raw, 1)[0]:
        total += 1 + 8 + len(key) + RECORD_OVERHEAD  # expire: db | time | key -> b""
    if raw[0] == layout.STRING:
        return total
    size = U64.unpack_from(raw, 17)[0]
    if not size:
        return total
    version = U64.unpack_from(raw, 9)[0]
    prefix = layout.sub_prefix(db.index, version)
    it = db.engine.iterate(DATA, prefix, layout.prefix_end(prefix))
    if samples > 0:
        it = islice(it, samples)
    seen = 0
    sampled = 0
    zset = raw[0] == ZSET
    for sub_key, value in it:
        seen += 1
        sampled += len(sub_key) + len(value) + RECORD_OVERHEAD
        if zset:  # the score-order index record: prefix | score | member -> b""
            sampled += len(sub_key) + _SCORE_BYTES + RECORD_OVERHEAD
    if not seen:
        return total
    if seen >= size:
        return total + sampled
    return total + int(sampled / seen * size)
