"""Citations a clerk or resident can read. A policy file's ``source`` is provenance written by
whoever drafted the file; before it reaches a screen or paper, internal references (archive
file names such as ``NNN_<16 hex digits>.txt``, notes like ``（domain notes §2）`` or
``acceptance/README.md``) are taken out, leaving the document's title, number and article."""

from __future__ import annotations

import re

_FILE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b\s*")
# "004_….txt（太原日报 …《…》）": the bracket after a file name is the document itself
_FILE_THEN_DOC = re.compile(
    r"\b\d{3}_[0-9a-f]{16}\.txt\s*[（(]([^（）()]*(?:《[^》]*》[^（）()]*)?)[）)]"
)
_NOTE = re.compile(
    r"[（(]\s*(?:domain notes|acceptance(?:/README\.md| README)|SCHEMA\.md)[^）)]*[）)]"
)
_BARE_NOTE = re.compile(r"(?:domain notes §[0-9–-]+|acceptance/README\.md\s*[\w-]*|SCHEMA\.md)")
_EMPTY = re.compile(r"[（(]\s*(?:[；;，,]?\s*见)?\s*[；;，,]?\s*[）)]")


def readable(source: str) -> str:
    """``source`` without internal file names and notes (never empty if it said anything)."""
    text = _FILE_THEN_DOC.sub(r"\1", source or "")
    text = _FILE.sub("", text)
    text = _NOTE.sub("", text)
    text = _BARE_NOTE.sub("", text)
    text = _EMPTY.sub("", text)
    text = re.sub(r"[；;，,]\s*见\s*(?=[）)])", "", text)
    text = _EMPTY.sub("", text)
    text = re.sub(r"\s{2,}", " ", text).strip(" ；;，,")
    return text or "（见政策文件）"


def looks_internal(text: str) -> bool:
    """True when ``text`` still carries an internal file name or note (for tests and checks)."""
    return bool(_FILE.search(text or "") or _BARE_NOTE.search(text or ""))
