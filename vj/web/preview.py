"""The page's preview thumbnail: the output picture as the audience sees it, as a small JPEG.

In the live app the preview is a frame sink (vj/display/loop.py): while a page is asking for
pictures (in the last 2 s), it queues a copy of the output `fps` times a second through a pixel
buffer object and maps it on the next display frame, so the main thread never waits for the GPU
(vj/record/readback.py, as the recorder does). Without a window (headless, tests), or before the
first output picture, it shows the newest generator frame from the bus instead (before effects).
A picture is encoded at most once, so ten phones polling cost one encode per picture.
"""
from __future__ import annotations

import io
import threading
import time
from typing import Any

import numpy as np
from PIL import Image

from engine.bus import FrameBus

from ..record.readback import FramebufferReader

WIDTH = 320          # pixels: enough for a phone's thumbnail, about 10 kB a picture
WANTED_S = 2.0       # the output is read back only this long after a page last asked


class Preview:
    """`jpeg()` -> the newest picture as JPEG bytes (at most `width` pixels wide), or None before the first.

    `fps`: output read-backs per second while wanted. `on_output(fbo, t)`: the frame sink (main thread).
    """

    def __init__(self, bus: FrameBus, width: int = WIDTH, quality: int = 70, fps: float = 4.0) -> None:
        self.bus, self.width, self.quality, self.interval = bus, width, quality, 1.0 / fps
        self._key: Any = None                    # what the cached JPEG shows: ("bus", seq) or ("out", n)
        self._jpeg: bytes | None = None
        self._output: tuple[int, np.ndarray] | None = None     # (number, RGB pixels) of the newest output
        self._asked = -1e9                       # monotonic time a page last asked for a picture
        self._pushed = -1e9                      # ... and the sink last queued a read-back
        self._reader: FramebufferReader | None = None        # made on the main thread, GL context current
        self._lock = threading.Lock()

    # -- web thread ----------------------------------------------------------------------------
    def jpeg(self) -> bytes | None:
        self._asked = time.monotonic()
        with self._lock:
            output = self._output
        if output is not None:
            key, pixels = ("out", output[0]), output[1]
        else:
            frame = self.bus.latest()
            if frame is None:
                return None
            key, pixels = ("bus", frame.seq), frame.pixels
        with self._lock:
            if key != self._key:
                self._jpeg, self._key = self._encode(pixels), key
            return self._jpeg

    def _encode(self, pixels: np.ndarray) -> bytes:
        picture = Image.fromarray(pixels)
        if picture.width > self.width:
            height = max(1, round(picture.height * self.width / picture.width))
            picture = picture.resize((self.width, height), Image.BILINEAR)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=self.quality)
        return out.getvalue()

    # -- main thread (GL context current) ------------------------------------------------------
    def on_output(self, fbo: Any, t: float) -> None:
        """Frame sink: take the copy queued on the last frame, queue a new one when one is due."""
        if self._reader is not None:
            for pixels, _ in self._reader.drain():          # queued a frame ago: long copied
                with self._lock:
                    number = self._output[0] + 1 if self._output else 0
                    self._output = (number, np.ascontiguousarray(pixels[..., :3]))
        now = time.monotonic()
        if now - self._asked > WANTED_S or now - self._pushed < self.interval:
            return
        if self._reader is None:
            self._reader = FramebufferReader(fbo.ctx)
        self._reader.push(fbo, None)
        self._pushed = now

    def release(self) -> None:
        """Free the GL buffers (main thread, before the context goes)."""
        if self._reader is not None:
            self._reader.release()
            self._reader = None
