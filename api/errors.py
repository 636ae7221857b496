"""The user errors every face reports, and their two-language wording."""
from __future__ import annotations

from corpus.loaders import LoadError
from indexer.build import NoArticles
from indexer.layout import IndexMissing, WriterBusy
from indexer.manifest import IndexMismatch
from search.errors import QueryError

USER_ERRORS = (QueryError, IndexMissing, IndexMismatch, NoArticles, WriterBusy, LoadError)


def bilingual(exc: Exception) -> str:
    """`エラー: …` then `Error: …` for an error that carries both wordings."""
    ja, en = getattr(exc, "ja", str(exc)), getattr(exc, "en", str(exc))
    return f"エラー: {ja}\nError: {en}"
