"""Configuration from JSEARCH_* environment variables, with defaults that work on a fresh machine."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from common.errors import UserError
from corpus.crawl.config import USER_AGENT
from indexer.stores.spec import StoreSpec, parse
from search.fusion import DENSE_WEIGHT


def default_index_dir() -> Path:
    """`$XDG_DATA_HOME/jichitai-search/index`, or under ~/.local/share."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "jichitai-search" / "index"


class Settings(BaseSettings):
    """Every setting; flags on the command line override these."""

    model_config = SettingsConfigDict(env_prefix="JSEARCH_", frozen=True)

    index_dir: Path = Field(default_factory=default_index_dir)
    store: str = (
        "faiss"  # faiss, or milvus:<uri> (a Milvus server, or a Milvus Lite path ending .db)
    )
    milvus_token: str | None = (
        None  # credentials for a Milvus server ("user:password" or an API key)
    )
    milvus_collection: str = (
        "jsearch"  # prefix of the store's collections, so that several indexes share a server
    )
    model: str | None = None
    cache_dir: Path | None = None
    api_key: str | None = None
    read_key: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = 10 * 1024 * 1024
    lock_timeout: float = 30.0
    refresh_seconds: float = 0.5
    dense_weight: float = Field(DENSE_WEIGHT, ge=0.0, le=1.0)
    word_evidence: bool = (
        True  # hybrid also weighs query-word coverage, adjacent pairs and phrase (search/fusion.py)
    )
    synonyms: bool = True  # SudachiDict's synonyms and spelling variants widen queries (the own groups always do)
    merge: bool = (
        True  # merge small segments in the background (JSEARCH_MERGE=false: only `jsearch merge`)
    )
    engine: Literal["onnx", "torch"] = (
        "onnx"  # ONNX Runtime (exported once into cache_dir) or sentence-transformers
    )
    precision: Literal["fp32", "int8"] | None = (
        None  # unset: the index's own, else DEFAULT_PRECISION (int8 on ONNX Runtime, fp32 on torch) for a new index
    )
    threads: int | None = Field(
        None, ge=1, le=256
    )  # intra-op threads of the model; default: the usable cores, one fewer in a server
    mcp_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost", "[::1]"]
    )  # Host names /mcp answers to (any port unless one is given); other Host headers get 421
    mcp_max_body_bytes: int = Field(64 * 1024, ge=1024)  # one MCP message at most
    mcp_rate: float = Field(5.0, gt=0)  # MCP requests per second per client address, sustained
    mcp_burst: int = Field(60, ge=1)  # … and at once (the token bucket's size)
    batch_max: int = Field(8, ge=1, le=256)  # queries embedded in one forward pass at most
    batch_window_ms: float = Field(
        2.0, ge=0, le=100
    )  # how long to gather company, only while queries come together

    crawl: bool = (
        False  # `jsearch serve` crawls the registered sources that are due, in the background
    )
    crawl_delay: float = Field(
        1.0, ge=0, le=3600
    )  # seconds between requests to one host (Crawl-delay may ask more)
    crawl_user_agent: str = Field(
        USER_AGENT, min_length=1, max_length=300, pattern=r"^[\x20-\x7e]+$"
    )
    crawl_timeout: float = Field(20.0, gt=0, le=600)  # seconds for one request (connect, each read)
    crawl_retries: int = Field(3, ge=0, le=10)  # after a 429/503 or a network error
    crawl_retry_after_max: float = Field(60.0, ge=0, le=3600)  # a longer Retry-After skips the URL
    crawl_check_seconds: float = Field(
        60.0, ge=1, le=86400
    )  # how often the server looks for due sources
    log: bool = True  # record each GET /search in the search log (JSEARCH_LOG=false: none)
    log_path: Path | None = (
        None  # the search log (SQLite); default: beside the index, <index>.searchlog.sqlite3
    )
    log_days: int = Field(180, ge=1, le=36500)  # days the search log keeps
    saved_path: Path | None = (
        None  # saved searches and their feeds (SQLite); default: <index>.saved.sqlite3
    )
    smtp_url: str | None = (
        None  # smtp://[user:password@]host[:port]/?from=…&to=… for the saved searches' digest
    )

    def store_spec(self) -> StoreSpec:
        """The store these settings name (indexer.stores.BadStore when it names none)."""
        return parse(self.store, self.milvus_token, self.milvus_collection)

    def model_precision(
        self, index_dir: Path | None = None, spec: StoreSpec | None = None, rebuild: bool = False
    ) -> str:
        """The precision to load the model at for this index (a rebuild takes the default)."""
        from indexer.model.base import choose_precision
        from indexer.stores.factory import open_store

        built = None
        if not self.precision and not rebuild:
            try:
                store = open_store(spec or self.store_spec(), index_dir or self.index_dir)
                built = store.precision()
            except UserError:
                built = None  # unreadable here: the store's own check speaks when it is opened
        return choose_precision(self.precision, self.engine, built)

    @field_validator("cors_origins", "mcp_allowed_hosts", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """`JSEARCH_CORS_ORIGINS` as `http://a:8080,http://b` (or a JSON list), `JSEARCH_MCP_ALLOWED_HOSTS`
        as `search.example.lg.jp,10.0.0.5:8000`; trailing slashes dropped."""
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, (list, tuple)):
            return [str(v).strip().rstrip("/") for v in value if str(v).strip()]
        return value
