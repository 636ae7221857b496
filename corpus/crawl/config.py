"""What a crawl pass is allowed to do: user agent, delays, timeouts, retries, size cap, extra hosts."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_BYTES = 10 * 1024 * 1024  # a response over this, compressed or decompressed, is skipped
MAX_REDIRECTS = 5
MAX_CRAWL_DELAY = 60.0  # a robots.txt asking for more is held to this
USER_AGENT = (
    "jichitai-search-crawler/0.1 (municipal DX search; +https://github.com/jichitai-search)"
)


@dataclass(frozen=True)
class CrawlConfig:
    """The crawler's limits; the API layer fills them from the JSEARCH_CRAWL_* settings."""

    user_agent: str = USER_AGENT
    delay: float = 1.0  # seconds between two requests to one host (a larger Crawl-delay wins)
    timeout: float = 20.0
    retries: int = 3  # after a 429/503 or a network error
    backoff: float = 1.0  # first wait when no Retry-After is given; doubled each retry
    retry_after_max: float = 60.0  # a longer Retry-After is not waited for: the URL is skipped
    max_bytes: int = MAX_BYTES
    allow_hosts: frozenset[str] = field(default_factory=frozenset)
