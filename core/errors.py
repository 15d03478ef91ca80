"""Validation errors that carry a field and a Chinese message for the clerk."""

from __future__ import annotations


class ValidationError(ValueError):
    """Input the clerk must correct. ``errors`` maps field name → Chinese message."""

    def __init__(self, errors: dict[str, str] | str, field: str = "_"):
        if isinstance(errors, str):
            errors = {field: errors}
        self.errors = dict(errors)
        super().__init__("；".join(self.errors.values()))
