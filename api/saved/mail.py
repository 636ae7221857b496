"""The optional mail digest (JSEARCH_SMTP_URL): after a write, one mail listing the new matches of every saved search."""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from api.saved.store import Hit

log = logging.getLogger("jsearch.saved")


@dataclass(frozen=True)
class Digest:
    """Where the digest goes: `smtp://[user:password@]host[:port]/?from=…&to=a@x,b@y` (smtps:// for TLS)."""

    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    user: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> Digest:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                f"JSEARCH_SMTP_URL must be smtp://host[:port]/?from=…&to=…, not {url!r}"
            )
        query = parse_qs(parts.query)
        to = tuple(a for v in query.get("to", []) for a in v.split(",") if a)
        if not to:
            raise ValueError("JSEARCH_SMTP_URL needs ?to=address[,address]")
        return cls(
            parts.hostname,
            parts.port or (465 if parts.scheme == "smtps" else 25),
            query.get("from", ["jsearch@localhost"])[0],
            to,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            parts.scheme == "smtps",
        )

    def message(self, hits: list[tuple[str, Hit]], names: dict[str, str]) -> EmailMessage:
        by_search: dict[str, list[Hit]] = {}
        for sid, hit in hits:
            by_search.setdefault(sid, []).append(hit)
        lines = [
            "保存した検索に新しい事例が届きました。/ New cases answer your saved searches.",
            "",
        ]
        for sid, found in by_search.items():
            lines.append(f"■ {names.get(sid, sid)}（{len(found)} 件）")
            for hit in found:
                places = "、".join(dict.fromkeys(p["name"] for p in hit.places)) or "—"
                lines += [
                    f"・{hit.title}（{hit.published or '日付なし'}）{places}",
                    f"  {hit.url}".rstrip(),
                ]
            lines.append("")
        mail = EmailMessage()
        mail["Subject"] = f"[自治体DX検索] 新着事例 {len(hits)} 件 / {len(hits)} new cases"
        mail["From"], mail["To"] = self.sender, ", ".join(self.to)
        mail.set_content("\n".join(lines))
        return mail

    def send(self, hits: list[tuple[str, Hit]], names: dict[str, str]) -> None:
        smtp_class = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=30) as smtp:
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(self.message(hits, names))

    def sender_for(
        self, names_of: Callable[[], dict[str, str]]
    ) -> Callable[[list[tuple[str, Hit]]], None]:
        """The `announce` hook of the percolator: sends in a thread, so a write never waits for the mail server."""

        def later(hits: list[tuple[str, Hit]]) -> None:
            def run() -> None:
                try:
                    self.send(hits, names_of())
                except (OSError, smtplib.SMTPException) as exc:
                    log.warning(
                        "ダイジェストを送れませんでした / could not send the digest: %s", exc
                    )

            threading.Thread(target=run, name="jsearch-digest", daemon=True).start()

        return later
