"""Glyphs for the HUD: any Unicode text, rasterized by FreeType (through Pillow) from a shipped font.

The font is DejaVu Sans 2.37 (fonts/DejaVuSans.ttf, Bitstream Vera licence with public-domain
DejaVu changes: fonts/DejaVuSans-LICENSE.txt, from Debian's fonts-dejavu-core): Latin, Greek,
Cyrillic, Armenian, Georgian, Hebrew, Arabic letters and many symbols, so performers' prompts
show as typed. Glyphs are rendered into a single-channel atlas the first time they are laid out
(a shelf packer: one row after another), so a HUD of a few hundred characters stays one draw call.
A character the font lacks is drawn as one visible fallback glyph (a hollow box), never as "?",
and counted in `missing`. Text is NFC-normalized (a decomposed "é" becomes one glyph); invisible
format characters (zero-width joiners, emoji variation selectors) take no room. There is no
shaping: Arabic shows in isolated forms and right-to-left runs are laid out left to right.
"""
from __future__ import annotations

import logging
import math
import unicodedata
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

FONT = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"
ATLAS_SIZE = (1024, 1024)   # pixels; at 14 px about 4000 glyphs fit, far more than a show types
BLOCK = "\x00block"         # a solid cell, used for the panel behind the text
FALLBACK = "\x00fallback"   # the box drawn for characters the font lacks
_NO_GLYPH = "\U0010fffd"    # a private-use code point no font maps: renders the font's .notdef


def _invisible(char: str) -> bool:
    """Format and control characters (ZWJ, BOM, ...) and variation selectors (emoji vs text style)."""
    code = ord(char)
    return unicodedata.category(char) in ("Cf", "Cc") or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


class GlyphAtlas:
    """Glyph cells of one font in a growing single-channel image.

    `uv[key]` is (u0, v0, u1, v1) in the image, `width[key]` the cell width in pixels and
    `advance[key]` the pen advance; `cell_height` is the same for every cell. `dirty` is True after
    new glyphs were added (the texture must be uploaded again). Raises OSError when the font file
    cannot be read.
    """

    def __init__(self, size: int = 14, font: Path = FONT) -> None:
        self.font = ImageFont.truetype(str(font), size)
        ascent, descent = self.font.getmetrics()
        self.cell_height = ascent + descent
        self.image = Image.new("L", ATLAS_SIZE, 0)
        self._draw = ImageDraw.Draw(self.image)
        self.uv: dict[str, tuple[float, float, float, float]] = {}
        self.width: dict[str, int] = {}
        self.advance: dict[str, float] = {}
        self.missing: set[str] = set()     # characters shown as the fallback box
        self._pen = [0, 0]                 # next free cell: x, y of the current shelf
        self._notdef = self._mask(_NO_GLYPH)
        self.dirty = True
        self._add(BLOCK, 1.0, lambda x, y, w, h: self._draw.rectangle((x, y, x + w - 1, y + h - 1), fill=255))
        em = self.font.getlength("M")
        self._add(FALLBACK, em, lambda x, y, w, h: self._draw.rectangle(
            (x + 2, y + h // 5, x + w - 3, y + h - h // 5 - 1), outline=255))
        for code in range(32, 127):
            self.glyph(chr(code))
        self.dirty = True

    def glyph(self, char: str) -> str:
        """The atlas key that draws `char`: itself (rendered now if new), or FALLBACK."""
        if char in self.uv:
            return char
        if char in self.missing:
            return FALLBACK
        if self._lacks(char):
            self.missing.add(char)
            log.debug("the HUD font has no glyph for U+%04X %s; a box stands in", ord(char),
                      unicodedata.name(char, "(unnamed)"))
            return FALLBACK
        advance = self.font.getlength(char)
        if not self._add(char, advance, lambda x, y, w, h: self._draw.text((x + 1, y), char, font=self.font,
                                                                           fill=255)):
            return FALLBACK
        return char

    def keys(self, text: str) -> list[str]:
        """Atlas keys for a line of text (NFC; invisible format characters dropped)."""
        text = unicodedata.normalize("NFC", text)
        return [self.glyph(c) for c in text if not _invisible(c)]

    def _lacks(self, char: str) -> bool:
        """FreeType draws a font's .notdef for characters it does not map; compare with that."""
        return self._mask(char) == self._notdef

    def _mask(self, char: str) -> tuple:
        mask = self.font.getmask(char)
        return mask.size, bytes(mask)

    def _add(self, key: str, advance: float, paint) -> bool:
        """Place a cell for `key` on the current shelf (or a new one) and paint it; False when full."""
        w, h = math.ceil(max(advance, 1.0)) + 2, self.cell_height
        x, y = self._pen
        if x + w > self.image.width:
            x, y = 0, y + h
        if y + h > self.image.height:
            log.warning("the HUD's glyph atlas is full; new characters show as boxes")
            self.missing.add(key)
            return False
        paint(x, y, w, h)
        self._pen = [x + w, y]
        iw, ih = self.image.size
        self.uv[key] = (x / iw, y / ih, (x + w) / iw, (y + h) / ih)
        self.width[key] = w
        self.advance[key] = advance
        self.dirty = True
        return True
