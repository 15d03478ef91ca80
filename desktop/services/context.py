"""Who is acting: every service call that changes data takes an Actor."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import CodedError


class PermissionDenied(CodedError, PermissionError):
    """The operator's role does not allow this (message in Chinese)."""

    code = "E-PERM-001"
    log_details = False


@dataclass(frozen=True)
class Actor:
    operator_id: str
    username: str
    display_name: str
    role: str  # "clerk" | "supervisor"
    service_point_id: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def require_supervisor(self, what: str) -> None:
        if not self.is_supervisor:
            raise PermissionDenied(f"{what}需要主管权限，请让主管登录后操作")
