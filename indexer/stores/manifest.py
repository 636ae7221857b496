"""The manifest of an index commit point: what built it, and the checks that refuse a mismatch."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.errors import UserError

FORMAT_VERSION = (
    2  # 2: a commit point listing segments and their deletions; 1: one whole commit point
)
FILE = "manifest.json"


class IndexMismatch(UserError):
    """An index that this code or this model must not read or extend."""

    status, code = 409, "index_mismatch"


@dataclass(frozen=True)
class Manifest:
    """Model, sizes and versions of one index commit point."""

    model: str
    dimension: int
    query_prompt: str
    passage_prompt: str
    chunker_version: int
    lexical_tokenizer: str
    faiss_index: str
    articles: int
    chunks: int
    created: str
    generation: str
    format_version: int = FORMAT_VERSION
    sources: list[str] = field(default_factory=list)
    files: dict[str, dict] = field(
        default_factory=dict
    )  # name → size and sha256, for `jsearch check`
    segments: list[dict] = field(
        default_factory=list
    )  # live segments: name, rows, articles, kind, deleted ids
    engine: str = "torch"  # what embedded the last write (indexes written before engines were recorded: torch)
    precision: str = "fp32"  # fp32 vectors from either engine are one family; int8 vectors another
    synonyms: list[list[str]] = field(
        default_factory=list
    )  # the organisation's own synonym groups, versioned with the commit point (search.expansion reads them)


class OldFormat(IndexMismatch):
    """An index written before segments: the next write migrates it, searching it is refused until then."""

    def __init__(self, found) -> None:
        super().__init__(
            f"索引の形式が古いです（{found}、必要: {FORMAT_VERSION}）。jsearch index（または jsearch add）を一度実行すると、"
            "記事を引き継いで新しい形式に移行します",
            f"the index has the old format {found}, not {FORMAT_VERSION}; run `jsearch index` (or `jsearch add`) once "
            "to migrate it, articles included",
        )


def write(manifest: Manifest, directory: Path) -> None:
    """Write manifest.json into a commit point directory."""
    (directory / FILE).write_text(
        json.dumps(asdict(manifest), ensure_ascii=False, indent=2), "utf-8"
    )


def read(directory: Path) -> Manifest:
    """Read and check the manifest of a commit point directory."""
    try:
        data = json.loads((directory / FILE).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexMismatch(
            f"索引のマニフェストを読めません: {exc}", f"cannot read the index manifest: {exc}"
        ) from None
    if data.get("format_version") == 1:
        raise OldFormat(1)
    if data.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"索引の形式が古いか新しすぎます（{data.get('format_version')}、必要: {FORMAT_VERSION}）。jsearch index で作り直してください",
            f"index format {data.get('format_version')} is not {FORMAT_VERSION}; rebuild it with `jsearch index`",
        )
    return Manifest(**{k: v for k, v in data.items() if k in Manifest.__dataclass_fields__})


def check_model(manifest: Manifest, info) -> None:
    """Refuse to use an index with a model, or a precision, other than the one that built it (vectors of two
    families are never mixed in one index)."""
    if manifest.model != info.name:
        raise IndexMismatch(
            f"索引はモデル {manifest.model} で作られています（指定: {info.name}）。同じモデルを使うか、索引を作り直してください",
            f"the index was built with model {manifest.model}, not {info.name}; use that model or rebuild the index",
        )
    if manifest.precision != info.precision:
        raise IndexMismatch(
            f"索引は精度 {manifest.precision} のベクトルでできています（指定: {info.precision}）。"
            f"JSEARCH_PRECISION={manifest.precision} にするか、jsearch index --rebuild で作り直してください",
            f"the index holds {manifest.precision} vectors, not {info.precision}; set "
            f"JSEARCH_PRECISION={manifest.precision} or rebuild it with `jsearch index --rebuild`",
        )
