"""The MCP rate limit's token buckets, on a clock the test moves."""

from __future__ import annotations

import pytest

from api.mcp.buckets import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate_per_client():
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # one token comes every half second
    assert buckets.take("b") == 0.0  # another client has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now += 60  # refills up to the burst, no more
    assert [buckets.take("a") for _ in range(4)][-1] == pytest.approx(0.5)


def test_refused_requests_take_nothing():
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=1, clock=clock)
    assert buckets.take("a") == 0.0
    for _ in range(5):
        assert buckets.take("a") == pytest.approx(1.0)
    clock.now += 1.0
    assert buckets.take("a") == 0.0


def test_full_buckets_are_forgotten_past_the_bound():
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=2, clock=clock, keep=10)
    for i in range(10):
        buckets.take(f"client-{i}")
    clock.now += 5  # all full again
    buckets.take("late")
    assert len(buckets._buckets) == 1
    assert buckets.take("late") == 0.0 and buckets.take("late") == pytest.approx(1.0)
