"""A clean copy of the set: every finished generator frame, lossless, before any display effect.

`png` writes NAME.frames/frame_000000.png, ...; `ffv1` writes one lossless Matroska file NAME.frames.mkv
whose timestamps are the frames' times on the recording's clock. Runs on its own thread, reading the
frame bus, so the generator never waits; frames it could not keep up with are counted in `missed`.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from engine.bus import Frame, FrameBus

from .encoder import VideoFile, VideoFormat
from .oserrors import cause

log = logging.getLogger(__name__)

KINDS = ("off", "png", "ffv1")
MS = 1000  # the FFV1 file's time base: milliseconds, so frames keep their real spacing


class GeneratorFrameWriter:
    def __init__(self, bus: FrameBus, path: Path, kind: str, clock: Callable[[], float], t0: float,
                 on_fault: Callable[[str], None] = lambda s: None) -> None:
        if kind not in ("png", "ffv1"):
            raise ValueError(f"generator frames are saved as png or ffv1, not {kind!r}")
        self.bus, self.path, self.kind = bus, path, kind
        self.clock, self.t0 = clock, t0
        self.on_fault = on_fault
        self.saved = 0
        self.missed = 0
        self.error: str | None = None
        self._seq = bus.seq
        self._last_index: int | None = None
        self._last_pts = -1
        self._file: VideoFile | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="generator-frames", daemon=True)
        self._thread.start()

    def finish(self) -> None:
        self._stopping.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            while True:
                stopping = self._stopping.is_set()
                for frame in self.bus.since(self._seq, final_only=True):
                    self._save(frame)
                self._seq = max(self._seq, self.bus.seq)
                if stopping:
                    break
                self.bus.wait_after(self._seq, timeout=0.05, final_only=True)
        except OSError as e:
            what, remedy = cause(e, self.path.parent, self.path.name)
            self.error = f"Saving generator frames stopped: {what}; the video goes on without them; {remedy}."
            log.error(self.error)
            self.on_fault(self.error)
        finally:
            if self._file is not None:
                self._file.close()
        if self.missed:
            log.warning("%d generator frames were published too fast to be saved to %s", self.missed, self.path)

    def _save(self, frame: Frame) -> None:
        if self._last_index is not None and frame.index > self._last_index + 1:
            self.missed += frame.index - self._last_index - 1  # fell off the bus before we looked
        self._last_index = frame.index
        self._seq = frame.seq
        if self.kind == "png":
            self.path.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.ascontiguousarray(frame.pixels)).save(self.path / f"frame_{self.saved:06d}.png")
        else:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                h, w = frame.pixels.shape[:2]
                self._file = VideoFile(self.path, VideoFormat(w, h, rate=MS, codec="ffv1"))
            pts = max(self._last_pts + 1, round((self.clock() - self.t0) * MS))
            self._file.write_picture(frame.pixels, pts)
            self._last_pts = pts
        self.saved += 1
