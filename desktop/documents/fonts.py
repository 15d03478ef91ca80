"""The embedded Chinese font for PDFs.

reportlab's built-in ``STSong-Light`` is not embedded (a PC without Chinese fonts prints
boxes), so every document uses WenQuanYi Micro Hei from ``resources/fonts/`` (Apache-2.0,
licence beside it), loaded as a TrueType font from the ``.ttc`` with ``subfontIndex=0``;
reportlab embeds a subset of the glyphs used. No other font is ever named in a document.

Characters the font lacks (rare characters outside the BMP, e.g. 𠮷 in a name) are drawn
with an optional fallback TrueType font when one is shipped in ``resources/fonts/`` (see
:data:`FALLBACK_FILES`); without one they are listed by :func:`missing_glyphs` so the
service can warn the clerk instead of printing an empty box silently.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from desktop import paths

FONT_NAME = "WQYMicroHei"
FALLBACK_NAME = "TDFallbackHan"
FALLBACK_FILES = ("HanaMinB.ttf", "BabelStoneHan.ttf")
_lock = threading.Lock()
_registered: dict[str, bool] = {}


def register_fonts() -> str:
    """Register the document font (and a fallback, if shipped) once; returns its name."""
    with _lock:
        if not _registered:
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(paths.font_path()), subfontIndex=0))
            pdfmetrics.registerFontFamily(
                FONT_NAME, normal=FONT_NAME, bold=FONT_NAME, italic=FONT_NAME, boldItalic=FONT_NAME
            )
            _registered[FONT_NAME] = True
            for name in FALLBACK_FILES:
                p = paths.resource("fonts", name)
                if p.is_file():
                    pdfmetrics.registerFont(TTFont(FALLBACK_NAME, str(p)))
                    _registered[FALLBACK_NAME] = True
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
