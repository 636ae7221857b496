"""The HTTP API's app factory: the index loaded once at start-up, the routers, error handlers and middleware."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, cast

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from api.deps import Refresher
from api.errors import install_handlers, route_methods
from api.log.past import PastQueries
from api.log.store import SearchLog, default_path
from api.mcp import http as mcp_http
from api.middleware import BodyLimit, SecurityHeaders
from api.openapi import contract
from api.routers import (
    analytics,
    articles,
    health,
    jobs,
    municipalities,
    pages,
    passages,
    saved,
    search,
    sources,
    suggest,
    synonyms,
)
from api.saved.mail import Digest
from api.saved.percolator import Percolator
from api.saved.store import SavedStore
from api.saved.store import default_path as saved_path
from api.settings import Settings
from indexer.write.group import GroupWriter
from search.batcher import QueryBatcher
from search.engine import Engine

if TYPE_CHECKING:
    from indexer.model.base import Embedder

DESCRIPTION = (
    "自治体DX記事のセマンティック検索 API。書き込みには `Authorization: Bearer <JSEARCH_API_KEY>` が必要です。"
    'エラーはすべて `{"error": {"code", "field", "ja", "en"}}` の形で返ります。\n\n'
    "Semantic search over municipal DX articles. Writes need the API key as a Bearer token; every error "
    "has the shape above."
)


def load_engine(settings: Settings) -> Engine:
    """The embedder and the current commit point, loaded once (raises the user errors if there is no index)."""
    from indexer.stores.factory import open_store

    store = settings.store_spec()
    open_store(
        store, settings.index_dir
    ).require_index()  # fails before the model takes seconds to load
    return Engine(
        settings.index_dir,
        load_embedder(settings),
        dense_weight=settings.dense_weight,
        word_evidence=settings.word_evidence,
        store=store,
        synonyms=settings.synonyms,
        cache_dir=settings.cache_dir,
    )


def load_embedder(settings: Settings) -> Embedder:
    """The model on the configured engine and threads, at the index's precision unless one is configured."""
    from indexer.model.base import Embedder
    from indexer.model.onnx_engine import serving_threads

    return Embedder.load(
        settings.model,
        settings.cache_dir,
        settings.engine,
        settings.model_precision(),
        settings.threads or serving_threads(),
    )


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The app; without an engine, the lifespan loads one from the settings at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = engine or load_engine(settings)
        batcher = None
        if not isinstance(loaded.embedder, QueryBatcher):
            batcher = QueryBatcher(
                loaded.embedder, settings.batch_max, settings.batch_window_ms / 1000
            )
            loaded.embedder = cast("Embedder", batcher)  # it answers as the embedder it wraps
        app.state.engine = loaded
        app.state.refresher = refresher = Refresher(loaded, settings.refresh_seconds)
        app.state.jobs = jobs.Jobs()
        app.state.searchlog = searchlog = SearchLog(
            settings.log_path or default_path(settings.index_dir), settings.log_days, settings.log
        )
        app.state.past_queries = PastQueries(searchlog.path, settings.log)
        loaded.prepare_suggestions()
        app.state.saved = store = SavedStore(settings.saved_path or saved_path(settings.index_dir))
        digest = Digest.from_url(settings.smtp_url) if settings.smtp_url else None
        app.state.percolator = percolator = Percolator(
            store,
            digest.sender_for(lambda: {s.id: s.name for s in store.all()}) if digest else None,
        )
        percolator.catch_up(loaded.view)  # the first look records what is there

        def after_write() -> None:
            refresher(force=True)
            loaded.prepare_suggestions()  # a new title is suggestable without waiting for a request
            percolator.catch_up(loaded.view)  # the new commit point's new articles, matched

        app.state.writer = GroupWriter(
            settings.index_dir,
            loaded.embedder,
            settings.lock_timeout,
            after=after_write,
            merging=settings.merge,
            store=settings.store_spec(),
        )
        background = await sources.start_background(app.state, settings)
        try:
            async with app.state.mcp.session_manager.run():
                yield
        finally:
            if background is not None:
                background.close()
            searchlog.close()
            store.close()
            if (
                batcher is not None
            ):  # an engine handed in may serve another app later: give it back unwrapped
                loaded.embedder = batcher.inner

    app = FastAPI(
        title="jichitai-search 自治体DX検索 API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_parameters={"validatorUrl": None, "tryItOutEnabled": True},
    )
    app.state.settings = settings
    routers = (
        search.router,
        suggest.router,
        municipalities.router,
        passages.router,
        articles.router,
        jobs.router,
        sources.router,
        health.router,
        analytics.router,
        analytics.pages,
        saved.router,
        synonyms.router,
        pages.router,
    )
    for router in routers:
        app.include_router(router)
    app.state.routes = route_methods(routers)
    app.state.mcp = mcp_http.mount(app, settings)  # /mcp for AI assistants (api/mcp/)
    app.openapi = functools.partial(contract, app)  # type: ignore[method-assign]
    pages.mount_assets(app)
    install_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Mcp-Protocol-Version",
                "Mcp-Session-Id",
            ],
            expose_headers=["Mcp-Session-Id"],
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)
    return app


def run(settings: Settings, host: str, port: int) -> None:
    """Serve with uvicorn; the index is loaded before the port opens, so a missing index fails at once."""
    import uvicorn

    app = create_app(settings, load_engine(settings))
    print(
        f"検索ページ / search page: http://{host}:{port}/  API: http://{host}:{port}/docs  "
        f"MCP: http://{host}:{port}/mcp",
        flush=True,
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        server_header=False,
        log_level="info",
        timeout_graceful_shutdown=8,
    )
