"""The embedded Chinese font for PDFs.

reportlab's built-in ``STSong-Light`` is not embedded (a PC without Chinese fonts prints
boxes), so every document uses WenQuanYi Micro Hei from ``resources/fonts/`` (Apache-2.0,
licence beside it), loaded as a TrueType font from the ``.ttc`` with ``subfontIndex=0``;
reportlab embeds a subset of the glyphs used. No other font is ever named in a document.

Characters the font lacks (rare characters outside the BMP, e.g. 𠮷 in a name) are drawn
with a fallback TrueType font, embedded the same way, found in this order: a file named in
:data:`FALLBACK_FILES` in ``resources/fonts/``, then the PC's own fonts
(:data:`SYSTEM_FALLBACKS`: SimSun-ExtB, which every Chinese Windows has; HanaMinB from
Debian's ``fonts-hanazono``). A font whose licence flags forbid embedding is skipped. Without
any, :func:`missing_glyphs` names the characters and the document says so in a note (the
clerk writes them in by hand) instead of printing an empty box silently.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase import ttfonts as _ttfonts
from reportlab.pdfbase.ttfonts import TTFont

from desktop import paths

log = logging.getLogger(__name__)

FONT_NAME = "WQYMicroHei"
FALLBACK_NAME = "TDFallbackHan"
FALLBACK_FILES = ("HanaMinB.ttf", "BabelStoneHan.ttf")
SYSTEM_FALLBACKS = (
    Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts" / "simsunb.ttf",
    Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"),
    Path("/usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf"),
)
_lock = threading.Lock()
_registered: dict[str, bool | str] = {}


def fallback_font_path() -> str | None:
    """The file of the fallback font in use (None when there is none)."""
    register_fonts()
    value = _registered.get("fallback_path")
    return str(value) if value else None


def _to_unicode_cmap(fontname, subset):
    """reportlab's ToUnicode CMap, writing characters outside the BMP as UTF-16 surrogate
    pairs (reportlab writes ``<20BB7>``, which PDF readers reject, so copying or searching a
    name such as 𠮷祥 lost its first character). Same output for BMP characters."""

    def utf16(v: int) -> str:
        return chr(v).encode("utf-16-be", "surrogatepass").hex().upper()

    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({fontname})",
            f"/Ordering ({fontname})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{fontname} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
            *(f"<{i:02X}> <{utf16(v)}>" for i, v in enumerate(subset)),
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


if hasattr(_ttfonts, "makeToUnicodeCMap"):
    _ttfonts.makeToUnicodeCMap = _to_unicode_cmap


def register_fonts() -> str:
    """Register the document font (and a fallback, if shipped) once; returns its name."""
    with _lock:
        if not _registered:
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(paths.font_path()), subfontIndex=0))
            pdfmetrics.registerFontFamily(
                FONT_NAME, normal=FONT_NAME, bold=FONT_NAME, italic=FONT_NAME, boldItalic=FONT_NAME
            )
            _registered[FONT_NAME] = True
            candidates = [paths.resource("fonts", n) for n in FALLBACK_FILES]
            for p in [*candidates, *SYSTEM_FALLBACKS]:
                if not p.is_file():
                    continue
                try:
                    pdfmetrics.registerFont(TTFont(FALLBACK_NAME, str(p)))
                except Exception as e:  # noqa: BLE001 - unreadable or not embeddable: next
                    log.info("fallback font %s not usable: %s", p, e)
                    continue
                _registered[FALLBACK_NAME] = True
                _registered["fallback_path"] = str(p)
                break
    return FONT_NAME


@lru_cache(maxsize=1)
def _cmap() -> frozenset[int]:
    register_fonts()
    return frozenset(pdfmetrics.getFont(FONT_NAME).face.charToGlyph)


@lru_cache(maxsize=1)
def _fallback_cmap() -> frozenset[int]:
    register_fonts()
    if not _registered.get(FALLBACK_NAME):
        return frozenset()
    return frozenset(pdfmetrics.getFont(FALLBACK_NAME).face.charToGlyph)


def has_glyph(ch: str) -> bool:
    return ch in "\n\t" or ord(ch) in _cmap()


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` that no shipped font can draw."""
    main, fb = _cmap(), _fallback_cmap()
    out: list[str] = []
    for ch in text or "":
        o = ord(ch)
        if o not in main and o not in fb and not ch.isspace() and ch not in out:
            out.append(ch)
    return out


def markup(text: str) -> str:
    """Escape ``text`` for a reportlab Paragraph, switching to the fallback font for
    characters the main font lacks (when a fallback is shipped)."""
    text = text or ""
    main, fb = _cmap(), _fallback_cmap()
    if all(ord(ch) in main for ch in text):
        return escape(text)
    parts: list[str] = []
    for ch in text:
        o = ord(ch)
        if o not in main and o in fb:
            parts.append(f'<font name="{FALLBACK_NAME}">{escape(ch)}</font>')
        else:
            parts.append(escape(ch))
    return "".join(parts)
