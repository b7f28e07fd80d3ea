"""Asynchronous read-back of a framebuffer through a ring of pixel buffer objects.

`fbo.read()` makes the CPU wait until the GPU has finished drawing and copied the pixels out: a
stall of a frame or more, every frame. Reading into a buffer object instead only queues the copy;
mapping that buffer `lag` frames later finds the copy long done. Main thread only (GL context).
"""
from __future__ import annotations

from collections import deque
from typing import Any

import moderngl
import numpy as np


class FramebufferReader:
    """`push(fbo, tag)` queues a copy; `ready()` returns the copies queued `lag` pushes ago."""

    def __init__(self, ctx: moderngl.Context, lag: int = 2) -> None:
        self.ctx = ctx
        self.lag = lag
        self._free: list[moderngl.Buffer] = []
        self._pending: deque[tuple[moderngl.Buffer, tuple[int, int], Any]] = deque()
        self._size: tuple[int, int] | None = None

    def push(self, fbo: moderngl.Framebuffer, tag: Any) -> None:
        """Queue a copy of `fbo`'s colour pixels (RGBA: the format GL stores, so no per-pixel conversion)."""
        size = tuple(fbo.size)
        if size != self._size:  # first push, or the window was resized: buffers of the new size
            for buf in self._free:
                buf.release()
            self._free.clear()
            self._size = size
        buf = self._free.pop() if self._free else self.ctx.buffer(reserve=size[0] * size[1] * 4)
        fbo.read_into(buf, components=4, alignment=1)
        self._pending.append((buf, size, tag))

    def ready(self) -> list[tuple[np.ndarray, Any]]:
        """(H, W, 4) RGBA pictures queued at least `lag` pushes ago, oldest first, top row first."""
        out = []
        while len(self._pending) > self.lag:
            out.append(self._take())
        return out

    def drain(self) -> list[tuple[np.ndarray, Any]]:
        """Every queued picture (waits for the GPU: for the end of a recording, not every frame)."""
        out = []
        while self._pending:
            out.append(self._take())
        return out

    def release(self) -> None:
        for buf, _, _ in self._pending:
            buf.release()
        for buf in self._free:
            buf.release()
        self._pending.clear()
        self._free.clear()

    def _take(self) -> tuple[np.ndarray, Any]:
        buf, (w, h), tag = self._pending.popleft()
        pixels = np.frombuffer(buf.read(), np.uint8).reshape(h, w, 4)[::-1]
        if (w, h) == self._size:
            self._free.append(buf)
        else:
            buf.release()
        return pixels, tag
