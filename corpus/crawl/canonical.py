"""The URL an article is known by: its <link rel=canonical> on an allowed host, else the fetched URL cleaned."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from courlan import normalize_url


def clean(url: str) -> str:
    """The URL without tracking parameters (utm_*, fbclid, …) or fragment, host lower-cased (courlan)."""
    try:
        return normalize_url(url, strict=True)
    except (ValueError, TypeError):
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, parts.query, ""))


def canonical(fetched: str, declared: str, hosts: frozenset[str]) -> str:
    """`declared` (rel=canonical or og:url, relative allowed) when http(s) on one of `hosts`, else `fetched`."""
    if declared:
        target = urljoin(fetched, declared.strip())
        parts = urlsplit(target)
        if parts.scheme in ("http", "https") and parts.netloc.lower() in hosts:
            return clean(target)
    return clean(fetched)
