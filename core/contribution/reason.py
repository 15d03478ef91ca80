"""What decided a figure of the contribution rules, with its source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """What decided a figure: the rule in words (Chinese) and its source."""

    rule: str
    source: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "source": self.source}
