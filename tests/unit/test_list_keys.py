"""The sub-keys LRANGE reads from the cache (``list._element_keys``): built per run of 256
sequence numbers, a run asked for twice kept whole in ``_RUNS`` (bounded, emptied when full)."""

from __future__ import annotations

import random

import pytest

from ledis.storage.types import list as lst


@pytest.mark.parametrize("cap", [1, 3, 256])
def test_element_keys_match_packed_sequence_numbers(cap, monkeypatch):
    monkeypatch.setattr(lst, "_RUNS", {})
    monkeypatch.setattr(lst, "_RUNS_MAX", cap)
    rng = random.Random(cap)
    prefixes = [b"\x00" + bytes([i]) * 8 for i in range(4)]
    kept = 0
    for _ in range(400):
        prefix = rng.choice(prefixes)
        lo = lst.START - 700 + rng.randrange(1400)
        hi = lo + rng.randrange(0, 600)
        want = [prefix + (seq).to_bytes(8, "big") for seq in range(lo, hi)]
        assert lst._element_keys(prefix, lo, hi) == want
        assert len(lst._RUNS) <= cap
        kept += any(run is not None and len(run) == 256 for run in lst._RUNS.values())
    assert kept  # runs asked for more than once were kept whole
