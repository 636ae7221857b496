"""Fixtures of the crawler tests: fixture sites on loopback and a crawl with the delay at 0."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sitekit import Site, serve


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        yield running


@pytest.fixture
def other_site() -> Iterator[Site]:
    """A second host: 127.0.0.2 is loopback too."""
    with serve(Site(), "127.0.0.2") as running:
        yield running
