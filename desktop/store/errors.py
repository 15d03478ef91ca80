"""The store's own error: a Chinese message for the clerk and a code for the log."""

from __future__ import annotations

from core.errors import CodedError


class StoreError(CodedError):
    """A store problem the clerk must be told about (message in Chinese, code for the log)."""

    def __init__(self, message: str, code: str = "STORE"):
        super().__init__(message)
        self.code = code
