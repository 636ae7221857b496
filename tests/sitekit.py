"""Fixture web sites on loopback for the crawler's tests and benchmark: a threaded http.server serving a table
of routes (static pages answer ETag / If-None-Match with 304) and logging every request it gets."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, dict[str, str], bytes]
Route = Reply | Callable[["Hit"], Reply]


@dataclass(frozen=True)
class Hit:
    """One request the site got."""

    path: str
    at: float
    user_agent: str
    headers: dict[str, str]


@dataclass
class Site:
    """Routes by path (query included); `base` is filled once the server listens."""

    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    base: str = ""
    host: str = ""

    def page(
        self, path: str, body: bytes | str, kind: str = "text/html; charset=utf-8", **headers: str
    ) -> None:
        """A static page answered with an ETag (and 304 to a matching If-None-Match)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = (200, {"Content-Type": kind, **headers}, data)

    def count(self, path: str) -> int:
        return sum(1 for h in self.hits if h.path == path)


class _Handler(BaseHTTPRequestHandler):
    site: Site
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        hit = Hit(
            self.path, time.monotonic(), self.headers.get("User-Agent", ""), dict(self.headers)
        )
        self.site.hits.append(hit)
        route = self.site.routes.get(self.path, self.site.routes.get(self.path.split("?", 1)[0]))
        if route is None:
            status, headers, body = 404, {"Content-Type": "text/html"}, b"<p>not found</p>"
        elif callable(route):
            status, headers, body = route(hit)
        else:
            status, headers, body = route
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if status == 200 and "ETag" not in headers:
                headers = {**headers, "ETag": etag}
                if self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if (
                headers.get("Transfer-Encoding") == "chunked"
            ):  # no length given: the reader must count
                for start in range(0, len(body), 65536):
                    piece = body[start : start + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(site: Site, host: str = "127.0.0.1") -> Iterator[Site]:
    """Serve the site on a free port of `host` (127.0.0.2 is a second loopback host) until the block ends."""
    handler = type("Handler", (_Handler,), {"site": site})
    httpd = ThreadingHTTPServer((host, 0), handler)
    httpd.daemon_threads = True
    site.host = f"{host}:{httpd.server_address[1]}"
    site.base = f"http://{site.host}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.server_close()


def article_html(
    title: str,
    body: str,
    *,
    site: str = "青葉市",
    date: str = "",
    chrome: str = "",
    charset: str = "utf-8",
    canonical: str = "",
) -> str:
    """A municipal press page: header, nav and footer chrome around an <article>."""
    meta_date = f'<meta name="date" content="{date}">' if date else ""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
    return (
        f'<!doctype html><html lang="ja"><head><meta charset="{charset}"><title>{title}｜{site}</title>'
        f"{meta_date}{link}</head><body><header><a href='/'>{site}</a> {chrome}</header>"
        f"<nav><a href='/'>ホーム</a> <a href='/news/'>新着情報</a></nav>"
        f"<main><article><h1>{title}</h1>{paragraphs}</article></main>"
        f"<footer>{chrome} Copyright {site}</footer></body></html>"
    )
