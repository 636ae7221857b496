"""Request dependencies of the HTTP API: settings, the engine (refreshed at most every few tenths of a second), keys."""

from __future__ import annotations

import hmac
import logging
import threading
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.settings import Settings
from common.errors import UserError
from search.engine import Engine

log = logging.getLogger("jsearch.api")


class ApiError(UserError):
    """A refusal only the HTTP face makes (keys, forms, media types), with its status and headers."""

    def __init__(
        self,
        status: int,
        code: str,
        field: str,
        ja: str,
        en: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(ja, en, field=field, status=status, code=code)
        self.headers = headers


class Refresher:
    """Switches the engine to a newer commit point, at most every `seconds` unless forced."""

    def __init__(self, engine: Engine, seconds: float) -> None:
        self.engine, self.seconds = engine, seconds
        self._lock = threading.Lock()
        self._last = time.monotonic()

    def due(self) -> bool:
        """Whether a look at `current` is due (cheap: no file is touched)."""
        return time.monotonic() - self._last >= self.seconds

    def __call__(self, force: bool = False) -> None:
        if not force and not self.due():
            return
        if not self._lock.acquire(blocking=force):
            return  # another request is refreshing; this one keeps the commit point it has
        try:
            if force or time.monotonic() - self._last >= self.seconds:
                self._last = time.monotonic()
                self.engine.refresh()
        except Exception as exc:  # noqa: BLE001 - a broken newer commit point: keep serving the loaded one
            log.warning("索引の切り替えに失敗しました / could not switch generations: %s", exc)
        finally:
            self._lock.release()


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    """The engine, on the newest commit point published at most `refresh_seconds` ago.

    Dependencies that never block are `async`: each sync one costs a trip through the thread pool. The look at
    `current` (file system, and loading a newer commit point) runs in a worker thread, and only when due.
    """
    refresher = request.app.state.refresher
    if refresher.due():
        await run_in_threadpool(refresher)
    return request.app.state.engine


_bearer = HTTPBearer(
    auto_error=False, description="JSEARCH_API_KEY（書き込み）か JSEARCH_READ_KEY（閲覧）"
)


def _matches(given: str, expected: str | None) -> bool:
    return bool(expected) and hmac.compare_digest(
        given.encode("utf-8"), str(expected).encode("utf-8")
    )


def _unauthorized(what_ja: str, what_en: str) -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        "Authorization",
        f"{what_ja}が必要です（Authorization: Bearer …）",
        f"{what_en} is required (Authorization: Bearer …)",
        {"WWW-Authenticate": "Bearer"},
    )


async def require_write_key(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Writes need JSEARCH_API_KEY; with no key configured they are refused, never open."""
    if not settings.api_key:
        raise ApiError(
            403,
            "writes_disabled",
            "Authorization",
            "書き込みは無効です。サーバーに JSEARCH_API_KEY を設定してください",
            "writes are disabled; set JSEARCH_API_KEY on the server",
        )
    if credentials is None or not _matches(credentials.credentials, settings.api_key):
        raise _unauthorized("書き込み用の API キー", "the write API key")


def read_allowed(settings: Settings, given: str) -> bool:
    """Reads are open unless JSEARCH_READ_KEY is set; then the read key or the write key is needed."""
    if not settings.read_key:
        return True
    return _matches(given, settings.read_key) or _matches(given, settings.api_key)


def read_refused() -> ApiError:
    """The 401 a read without the read key gets (the HTTP routes and the MCP endpoint alike)."""
    return _unauthorized("閲覧用のキー", "the read key")


async def require_read_key(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Reads are open unless JSEARCH_READ_KEY is set; then the read key or the write key is needed."""
    if not read_allowed(settings, credentials.credentials if credentials else ""):
        raise read_refused()


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
WriteKeyDep = Annotated[None, Depends(require_write_key)]
ReadKeyDep = Annotated[None, Depends(require_read_key)]
