"""The page's preview thumbnail: the newest generator frame from the bus, as a small JPEG.

Encoded at most once per frame (the newest frame's JPEG is kept), so ten phones polling four times a
second cost one encode per generator frame. It shows the generator's picture before the display's
effects (blackout, hue...), which the page shows as its own controls.
"""
from __future__ import annotations

import io
import threading

from PIL import Image

from engine.bus import FrameBus

WIDTH = 320          # pixels: enough for a phone's thumbnail, about 10 kB a picture


class Preview:
    """`jpeg()` -> the newest frame as JPEG bytes (at most WIDTH pixels wide), or None before the first."""

    def __init__(self, bus: FrameBus, width: int = WIDTH, quality: int = 70) -> None:
        self.bus, self.width, self.quality = bus, width, quality
        self._seq = -1
        self._jpeg: bytes | None = None
        self._lock = threading.Lock()

    def jpeg(self) -> bytes | None:
        frame = self.bus.latest()
        if frame is None:
            return None
        with self._lock:
            if frame.seq != self._seq:
                picture = Image.fromarray(frame.pixels)
                if picture.width > self.width:
                    picture = picture.resize((self.width, max(1, round(picture.height * self.width / picture.width))),
                                             Image.BILINEAR)
                out = io.BytesIO()
                picture.save(out, "JPEG", quality=self.quality)
                self._seq, self._jpeg = frame.seq, out.getvalue()
            return self._jpeg
