"""Which URLs the crawler may connect to: http(s) only, never a link-local or cloud-metadata address."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from corpus.crawl.errors import Skip

LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


def refused(address: str) -> bool:
    """Whether an IP address is link-local (169.254.0.0/16, fe80::/10; IPv4-mapped too)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in net for net in LINK_LOCAL if ip.version == net.version)


def check_url(url: str) -> None:
    """Refuse a URL that is not http(s) or whose host resolves to a refused address (checked on every hop)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Skip("refused_address", f"only http and https URLs are crawled: {url[:200]}")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError, UnicodeError) as exc:
        raise Skip("network", f"cannot resolve {host}: {exc}") from None
    for info in infos:
        if refused(str(info[4][0])):
            raise Skip("refused_address", f"{host} is a link-local address ({info[4][0]})")
