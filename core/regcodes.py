"""The one-time codes the county issues for registering a PC (and recovering one):
their form, shared by the desk (checked before the county is asked) and the county."""

from __future__ import annotations

# One-time registration and recovery codes the county issues: 12 characters of this
# alphabet (no 0/O, 1/I/L, which are misread), written in three groups of four.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


def normalize_code(code: str) -> str:
    """A code as typed (any case, spaces or dashes anywhere) in its written form."""
    s = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return f"{s[0:4]}-{s[4:8]}-{s[8:12]}" if len(s) == CODE_LENGTH else s


def code_well_formed(code: str) -> bool:
    """Whether ``code`` can be a code the county issued (checked on the desk before the
    county is asked, so a mistyped code is said beside its box)."""
    s = normalize_code(code).replace("-", "")
    return len(s) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in s)
