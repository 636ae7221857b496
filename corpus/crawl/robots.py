"""robots.txt per origin (protego): may the crawler fetch a URL, and the Crawl-delay it asks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from protego import Protego

from corpus.crawl.errors import Skip

ALLOW_ALL = Protego.parse("")
DENY_ALL = Protego.parse("User-agent: *\nDisallow: /")


class Robots:
    """The rules of each origin, read on first use: 2xx parsed, 4xx allow all, 5xx deny all (RFC 9309); a host
    that does not answer at all is a `network` skip for each of its URLs."""

    def __init__(self, read: Callable[[str], tuple[int, bytes]], user_agent: str) -> None:
        self._read, self.user_agent = read, user_agent
        self._rules: dict[str, Any] = {}

    def _for(self, url: str) -> Any:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        if origin not in self._rules:
            try:
                status, body = self._read(url)
            except Skip as skip:
                if skip.reason != "network":
                    raise
                self._rules[origin] = (
                    skip  # the host does not answer: every URL of it is skipped this pass
                )
                raise
            if 200 <= status < 300:
                rules = Protego.parse(body.decode("utf-8", "replace"))
            else:
                rules = ALLOW_ALL if 400 <= status < 500 else DENY_ALL
            self._rules[origin] = rules
        rules = self._rules[origin]
        if isinstance(rules, Skip):
            raise Skip(rules.reason, rules.detail)
        return rules

    def allowed(self, url: str) -> bool:
        return bool(self._for(url).can_fetch(url, self.user_agent))

    def crawl_delay(self, url: str) -> float | None:
        delay = self._for(url).crawl_delay(self.user_agent)
        return float(delay) if delay is not None else None
