"""`GET /health`: is the index loaded, and which one."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.schemas import Health, errors

router = APIRouter(tags=["状態 / health"])


@router.get(
    "/health", summary="稼働状態 / health", responses={200: {"model": Health}, **errors(503)}
)
def health(engine: EngineDep) -> dict:
    """索引の世代・記事数・文章数・モデル・セグメント数（閲覧キー不要）/ commit point, counts, model, segments (no key)."""
    served = engine.view
    info = served.manifest
    return {
        "status": "ok",
        "generation": served.name,
        "articles": info.articles,
        "chunks": info.chunks,
        "model": info.model,
        "created": info.created,
        "segments": len(served.parts),
        "deleted_chunks": sum(s.get("deleted_rows", 0) for s in info.segments),
        "embedding": embedding(engine.embedder),
    }


def embedding(embedder) -> dict:
    """Engine, precision and how queries have been batched so far."""
    model = embedder.info
    stats = embedder.stats() if hasattr(embedder, "stats") else {}
    return {"engine": model.engine, "precision": model.precision, **stats}
