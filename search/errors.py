"""Errors a caller made, worded in Japanese and English."""

from __future__ import annotations

from common.errors import UserError


class QueryError(UserError, ValueError):
    """A request that cannot be answered as asked; `field` names the culprit."""

    status, code = 422, "invalid_parameter"

    def __init__(self, field: str, ja: str, en: str) -> None:
        super().__init__(ja, en, field=field)


class IndexUnavailable(UserError):
    """The served commit point's files were damaged under the running server: refuse instead of crashing."""

    status, code = 503, "index_unavailable"

    def __init__(self, cause: BaseException) -> None:
        super().__init__(
            f"索引のファイルを読めません（{type(cause).__name__}）。`jsearch check` で確かめ、"
            "`jsearch index` で直してください",
            f"the index files cannot be read ({type(cause).__name__}); run `jsearch check`, then "
            "`jsearch index` to repair",
        )


class NotFound(UserError, LookupError):
    """A well-formed id or code that names nothing in the index or the gazetteer."""

    status, code = 404, "not_found"

    def __init__(self, field: str, ja: str, en: str) -> None:
        super().__init__(ja, en, field=field)
