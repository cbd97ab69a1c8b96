"""Scale test of issue 3: big hash / sorted set / list through a real server, bounded memory.

Slow (skipped unless LEDIS_SLOW=1). Size from LEDIS_SCALE_ELEMENTS (default 1,000,000 per
collection); the full 5,000,000 run is ``python benchmarks/scale.py`` (docs/scale.md).
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow

N = int(os.environ.get("LEDIS_SCALE_ELEMENTS", "1000000"))
RSS_LIMIT = 300 * 1024 * 1024


def _scale_module():
    path = ROOT / "benchmarks" / "scale.py"
    spec = importlib.util.spec_from_file_location("ledis_bench_scale", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def scale_result():
    mod = _scale_module()
    return mod.run(N, calls=200, budget_s=10.0, spots=300, rank_spots=6, progress=False)


def test_every_element_readable(scale_result):
    # HLEN/ZCARD/LLEN exact, HGET/ZSCORE/LINDEX spot checks, ZRANK at both ends and middle
    assert scale_result["problems"] == []


def test_peak_rss_bounded(scale_result):
    assert scale_result["vmhwm"] > 0, "could not read VmHWM of the server"
    assert scale_result["peak_rss"] < RSS_LIMIT, f"peak RSS {scale_result['peak_rss'] >> 20} MB"


def test_point_reads_do_not_degrade_with_size(scale_result):
    # O(1)/O(log n) reads on the big collections stay within a small factor of the 100-element ones
    big, small = scale_result["latency_big"], scale_result["latency_small"]
    for op in ("HGET", "LINDEX (middle)", "ZRANGE 0 9", "ZRANGE BYSCORE LIMIT 0 10"):
        assert big[op]["median_us"] < 10 * small[op]["median_us"] + 1000, (op, big[op], small[op])


def test_data_is_on_disk(scale_result):
    # 3 * N elements of >= 4 bytes each must be somewhere on disk (not only in memory)
    assert scale_result["du_end"] > 3 * N * 4
