"""API errors: every 4xx/5xx body is ``{"code", "message" (中文), "details"}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: Any = None, headers: dict | None = None
    ):
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}
        super().__init__(message)

    def body(self) -> dict:
        d = {"code": self.code, "message": self.message}
        if self.details is not None:
            d["details"] = self.details
        return d
