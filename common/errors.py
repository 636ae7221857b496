"""The one base of every error a user (not the code) caused: HTTP status, stable code, field, ja and en."""

from __future__ import annotations


class UserError(Exception):
    """A refusal worded in Japanese and English; the CLI prints it, the API answers it with `status`."""

    status: int = 422
    code: str = "invalid_request"
    field: str = ""

    def __init__(
        self,
        ja: str,
        en: str,
        field: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(f"{ja} / {en}")
        self.ja, self.en = ja, en
        if field is not None:
            self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def body(self) -> dict:
        """The API's one error shape."""
        return error_body(self.code, self.field, self.ja, self.en)


def error_body(code: str, field: str, ja: str, en: str) -> dict:
    """`{"error": {"code", "field", "ja", "en"}}`: the shape of every error answer."""
    return {"error": {"code": code, "field": field, "ja": ja, "en": en}}


def bilingual(exc: BaseException) -> str:
    """`エラー: …` then `Error: …` for an error that carries both wordings."""
    ja, en = getattr(exc, "ja", str(exc)), getattr(exc, "en", str(exc))
    return f"エラー: {ja}\nError: {en}"
