"""Why a URL was not indexed: a Skip carries a stable reason code and a one-line detail."""

from __future__ import annotations

REASONS = (
    "robots",  # robots.txt disallows it (or could not be read: 5xx)
    "http_status",  # 4xx/5xx, or 429/503 still after the retries
    "redirect",  # too many redirects, a loop, or to a host not allowed
    "size",  # over 10 MB compressed or decompressed
    "content_type",  # not HTML, XHTML or PDF
    "no_text",  # nothing to index in it
    "refused_address",  # link-local / cloud metadata address, or not http(s)
    "network",  # timeouts and connection errors, after the retries
    "retry_after",  # asked to come back later than the crawler waits
    "other_host",  # named by a feed or sitemap, on a host the source may not reach
    "max_pages",  # over --max-pages
    "unreadable",  # a start page that is no feed, sitemap or HTML page
)


class Skip(Exception):
    """A URL the crawler gives up on, with its reason (one of REASONS) and what happened."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail
