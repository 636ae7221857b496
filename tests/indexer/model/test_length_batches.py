"""Batches of similar length: every index once, none over the size, the longest within the spread of the shortest."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indexer.model.onnx_engine import length_batches


@given(st.lists(st.integers(1, 512), max_size=80), st.integers(1, 32))
def test_length_batches_cover_every_text_once_within_size_and_spread(lengths, size):
    batches = length_batches(lengths, size, spread=1.6)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert 1 <= len(batch) <= size
        assert max(lengths[i] for i in batch) <= 1.6 * min(lengths[i] for i in batch)


def test_equal_lengths_fill_whole_batches():
    assert [len(b) for b in length_batches([20] * 10, 4)] == [4, 4, 2]
    assert length_batches([10, 40, 11], 8) == [[1], [2, 0]]
