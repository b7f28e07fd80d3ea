"""The output service: sends the output picture (what is recorded, never the HUD) to other programs.

A frame sink of the display loop (vj/display/loop.py): every display frame it queues an
asynchronous read-back of the output framebuffer (vj/record/readback.py, pixel buffer objects: the
same copy as the recorder's when both take the frame) and hands the pictures that arrived two
frames later to each open sink (vj/output/sinks.py). The
live rows `output.ndi` and `output.local` open and close the sinks; one that cannot open is one
sentence in the log and on the HUD, and its row turns off: the show goes on.
"""
from __future__ import annotations

import logging
from typing import Any

from engine.params import ParamStore

from ..record.readback import FramebufferReader
from ..setup import Setup
from .sinks import OutputUnavailable, Sink, open_sink

log = logging.getLogger(__name__)

KINDS = ("ndi", "local")  # each a live row output.KIND


class Outputs:
    """A service (`start`/`stop`) and a frame sink (`on_output`); main thread only for the sinks."""

    def __init__(self, setup: Setup, store: ParamStore, warnings: list[str] | None = None) -> None:
        self.store = store
        self.name = setup.output.name or setup.name
        self.fps = setup.output.fps or setup.display.fps
        self.rate_limited = bool(setup.output.fps)
        self.warnings = warnings if warnings is not None else []
        self.sinks: dict[str, Sink] = {}
        self.sent = 0                       # pictures handed to the sinks
        self._reader: FramebufferReader | None = None
        self._size: tuple[int, int] | None = None
        self._next = 0.0
        for kind in KINDS:
            if getattr(setup.output, kind) and f"output.{kind}" not in setup.params:
                store.set(f"output.{kind}", True, "setup")

    @classmethod
    def from_setup(cls, setup: Setup, store: ParamStore, warnings: list[str]) -> "Outputs":
        return cls(setup, store, warnings)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        """Close every sink (main thread: the read-back buffers belong to its GL context)."""
        for kind in list(self.sinks):
            self._close(kind)
        if self._reader is not None:
            self._reader.release()
            self._reader = None

    # -- the frame sink ------------------------------------------------------------------------
    def on_output(self, fbo: Any, t: float) -> None:
        """Frame sink (main thread, every display frame): `fbo` is the output framebuffer, `t` the
        display time in seconds. Opens and closes sinks as their rows say, sends what arrived."""
        snap = self.store.snapshot()
        size = tuple(fbo.size)
        if size != self._size:                    # sinks are opened for one size
            for kind in list(self.sinks):
                self._close(kind)
            self._size = size
        for kind in KINDS:
            want = snap[f"output.{kind}"]
            if want and kind not in self.sinks:
                self._open(kind, size)
            elif not want and kind in self.sinks:
                self._close(kind)
        if not self.sinks:
            return
        if self._reader is None:
            self._reader = FramebufferReader(fbo.ctx)
        for rgba, _ in self._reader.ready():
            for sink in self.sinks.values():
                sink.send(rgba)
            self.sent += 1
        if not self.rate_limited or t >= self._next:
            self._next = max(self._next + 1 / self.fps, t) if self.rate_limited else t
            self._reader.push(fbo, t, key=t)    # the recorder's copy of this frame, when it takes one

    def _open(self, kind: str, size: tuple[int, int]) -> None:
        try:
            self.sinks[kind] = open_sink(kind, self.name, size, self.fps)
            log.info("output %s: sending %dx%d as %r", kind, *size, self.name)
        except OutputUnavailable as e:
            log.warning("%s output.%s is off.", e, kind)
            self.warnings.append(f"OUTPUT {kind.upper()} UNAVAILABLE")
            self.store.set(f"output.{kind}", False, "app")

    def _close(self, kind: str) -> None:
        sink = self.sinks.pop(kind)
        try:
            sink.close()
        except Exception as e:
            log.debug("closing output %s: %s", kind, e)
        log.info("output %s closed", kind)
