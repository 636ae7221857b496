"""One polite HTTP GET: http(s) only, no link-local address, at most 5 redirects to allowed hosts, robots.txt,
one request at a time per host, conditional requests, 429/503 retries, 10 MB compressed and decompressed."""

from __future__ import annotations

import email.utils
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from corpus.crawl import politeness
from corpus.crawl.address import check_url
from corpus.crawl.config import MAX_CRAWL_DELAY, MAX_REDIRECTS, CrawlConfig
from corpus.crawl.errors import Skip
from corpus.crawl.robots import Robots

ARTICLE_TYPES = ("text/html", "application/xhtml+xml", "application/pdf")
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Validators:
    """What the server said identifies this version of a URL (sent back as If-None-Match / If-Modified-Since)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """A response: 200 with its body, or 304 (not modified) without one."""

    url: str  # after redirects
    status: int
    body: bytes
    media_type: str  # `text/html`, lower-case, no parameters ('' when the server sent none)
    charset: str | None  # as the Content-Type header names it
    validators: Validators


def host_of(url: str) -> str:
    """The host (and port) a URL names, lower-case: what politeness and the allowed hosts compare."""
    return urlsplit(url).netloc.lower().rsplit("@", 1)[-1]


def media_type(header: str) -> tuple[str, str | None]:
    """`text/html; charset=Shift_JIS` as ('text/html', 'Shift_JIS')."""
    kind, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return kind.strip().lower(), charset


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def inflate(data: bytes, limit: int, what: str = "response") -> bytes:
    """gzip/zlib data decompressed, refusing (Skip size) as soon as the output would pass `limit` bytes."""
    decoder = zlib.decompressobj(wbits=47)  # gzip or zlib header, detected
    try:
        out = decoder.decompress(data, limit + 1)
    except zlib.error as exc:
        raise Skip("size", f"the {what} is not valid gzip/deflate data: {exc}") from None
    if len(out) > limit or decoder.unconsumed_tail:
        raise Skip("size", f"the {what} is over {limit:,} bytes once decompressed")
    return out


class Fetcher:
    """An httpx client with the crawler's rules; robots.txt is read once per host and pass."""

    def __init__(self, config: CrawlConfig) -> None:
        self.config = config
        self.client = httpx.Client(
            timeout=config.timeout,
            follow_redirects=False,
            trust_env=False,  # no proxy or netrc from the environment
            headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self.robots = Robots(self._robots_text, config.user_agent)

    def close(self) -> None:
        self.client.close()

    def get(
        self,
        url: str,
        hosts: frozenset[str],
        accept: tuple[str, ...] | None = ARTICLE_TYPES,
        validators: Validators | None = None,
    ) -> Fetched:
        """GET `url`, following at most 5 redirects within `hosts`; Skip when it cannot be had."""
        current, seen = url, {url}
        headers = {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        for hop in range(MAX_REDIRECTS + 1):
            check_url(current)
            if host_of(current) not in hosts:
                raise Skip("redirect", f"redirected to another host: {current[:200]}")
            if not self.robots.allowed(current):
                raise Skip("robots", f"robots.txt disallows {current[:200]}")
            status, response_headers, body = self._request(current, headers, accept)
            if status in REDIRECTS and response_headers.get("location"):
                target = urljoin(current, response_headers["location"].strip()).split("#", 1)[0]
                if target in seen:
                    raise Skip("redirect", f"redirect loop at {target[:200]}")
                if hop == MAX_REDIRECTS:
                    break
                seen.add(target)
                current = target
                continue
            kind, charset = media_type(response_headers.get("content-type", ""))
            found = Validators(response_headers.get("etag"), response_headers.get("last-modified"))
            if status == 304:
                return Fetched(current, 304, b"", kind, charset, found)
            if status != 200:
                raise Skip("http_status", f"HTTP {status}")
            return Fetched(current, 200, body, kind, charset, found)
        raise Skip("redirect", f"more than {MAX_REDIRECTS} redirects")

    def _gap(self, url: str) -> float:
        delay = self.robots.crawl_delay(url)
        return max(self.config.delay, min(delay or 0.0, MAX_CRAWL_DELAY))

    def _request(
        self, url: str, headers: dict[str, str], accept: tuple[str, ...] | None
    ) -> tuple[int, httpx.Headers, bytes]:
        """One URL with retries: 429/503 wait Retry-After (bounded) or back off; network errors back off."""
        config = self.config
        for attempt in range(config.retries + 1):
            backoff = min(config.backoff * 2**attempt, config.retry_after_max)
            try:
                status, got, body = self._once(url, headers, accept)
            except httpx.HTTPError as exc:
                if attempt == config.retries or isinstance(exc, httpx.UnsupportedProtocol):
                    raise Skip("network", f"{type(exc).__name__}: {str(exc)[:160]}") from None
                time.sleep(backoff)
                continue
            if status not in (429, 503):
                return status, got, body
            wait = retry_after(got.get("retry-after"))
            if wait is not None and wait > config.retry_after_max:
                raise Skip(
                    "retry_after",
                    f"HTTP {status} with Retry-After {wait:.0f} s (over {config.retry_after_max:.0f} s)",
                )
            if attempt == config.retries:
                raise Skip("http_status", f"HTTP {status} after {config.retries} retries")
            time.sleep(backoff if wait is None else wait)
        raise AssertionError("unreachable")

    def _once(
        self, url: str, headers: dict[str, str], accept: tuple[str, ...] | None
    ) -> tuple[int, httpx.Headers, bytes]:
        with politeness.turn(host_of(url), self._gap(url)):
            with self.client.stream("GET", url, headers=headers) as response:
                if response.status_code != 200:
                    return response.status_code, response.headers, b""
                kind, _ = media_type(response.headers.get("content-type", ""))
                if accept is not None and kind and kind not in accept:
                    raise Skip("content_type", f"{kind} is not HTML, XHTML or PDF")
                return 200, response.headers, self._read(response)

    def _read(self, response: httpx.Response) -> bytes:
        """The body, decompressed by us (gzip/deflate), never more than max_bytes either way."""
        limit = self.config.max_bytes
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise Skip("size", f"Content-Length {int(length):,} is over {limit:,} bytes")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise Skip("content_type", f"unsupported Content-Encoding {encoding[:40]}")
        decoder = zlib.decompressobj(wbits=47) if encoding not in ("identity", "") else None
        raw, out = 0, bytearray()
        for chunk in response.iter_raw():
            raw += len(chunk)
            if raw > limit:
                raise Skip("size", f"over {limit:,} bytes")
            if decoder is None:
                out += chunk
                continue
            try:
                out += decoder.decompress(chunk, limit + 1 - len(out))
            except zlib.error as exc:
                raise Skip("size", f"broken {encoding} data: {exc}") from None
            if len(out) > limit or decoder.unconsumed_tail:
                raise Skip("size", f"over {limit:,} bytes once decompressed")
        return bytes(out)

    def _robots_text(self, url: str) -> tuple[int, bytes]:
        """robots.txt of the URL's origin: (status, body); a redirect is followed on its own host only."""
        parts = urlsplit(url)
        current = f"{parts.scheme}://{parts.netloc}/robots.txt"
        for _hop in range(MAX_REDIRECTS + 1):
            check_url(current)
            try:
                with politeness.turn(host_of(current), self.config.delay):
                    with self.client.stream("GET", current) as response:
                        status = response.status_code
                        location = response.headers.get("location", "")
                        body = self._read(response) if status == 200 else b""
            except httpx.HTTPError as exc:
                raise Skip(
                    "network", f"robots.txt: {type(exc).__name__}: {str(exc)[:160]}"
                ) from None
            if status in REDIRECTS and location:
                target = urljoin(current, location)
                if host_of(target) != host_of(current):
                    return 404, b""  # robots.txt elsewhere does not apply here
                current = target
                continue
            return status, body
        return 404, b""
