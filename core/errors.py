"""Errors that carry a code for the log and a Chinese message for the clerk.

Every exception the desk shows a clerk derives from :class:`CodedError` (or is classified
by :func:`desktop.errors.classify`): ``code`` is what the clerk reads out to a technician,
``str(exc)`` the Chinese message.
"""

from __future__ import annotations


class CodedError(Exception):
    """An error with a code (``E-…``) and a Chinese message."""

    code = "E-APP-001"
    log_details = True  # False for problems the clerk fixes (input, permissions)


class ValidationError(CodedError, ValueError):
    """Input the clerk must correct. ``errors`` maps field name → Chinese message."""

    code = "E-INPUT-001"
    log_details = False

    def __init__(self, errors: dict[str, str] | str, field: str = "_"):
        if isinstance(errors, str):
            errors = {field: errors}
        self.errors = dict(errors)
        super().__init__("；".join(self.errors.values()))
