"""The user errors every face reports: one base class, mapped by the CLI and the API alike."""
from __future__ import annotations

from common.errors import UserError, bilingual, error_body

USER_ERRORS = (UserError,)

__all__ = ["USER_ERRORS", "UserError", "bilingual", "error_body"]
