"""Redis's ASCII sparkline (LATENCY GRAPH) without a server."""

from __future__ import annotations

from ledis.commands.latency import _bucket_label, sparkline


def test_sparkline_levels_and_labels():
    # relmax 9, 12 steps: levels 0, 5, 11 -> "_" at the bottom, a bar two rows high, a full one
    assert sparkline([1, 5, 10], ["3s", "2s", "1s"]) == (
        "  #\n"
        "  |\n"
        " #|\n"
        "_||\n"
        "   \n"
        "321\n"
        "sss\n")


def test_sparkline_flat_and_wrapping():
    text = sparkline([7] * 5, ["10m", "1s", "1s", "1s", "1s"], columns=3)
    blocks = text.split("\n\n")
    assert len(blocks) == 2
    assert blocks[0].splitlines()[3] == "___"
    assert blocks[0].splitlines()[5:] == ["111", "0ss", "m  "]
    assert blocks[1].splitlines()[3] == "__"


def test_bucket_labels_match_redis():
    assert [_bucket_label(k) for k in range(8)] == [1, 2, 4, 8, 16, 33, 66, 132]
