"""Asynchronous read-back of a framebuffer through a ring of pixel buffer objects.

`fbo.read()` makes the CPU wait until the GPU has finished drawing and copied the pixels out: a
stall of a frame or more, every frame. Reading into a buffer object instead only queues the copy;
mapping that buffer `lag` frames later finds the copy long done. Main thread only (GL context).

Several consumers of the same picture (the recorder, the NDI output) share one copy: readers of
one context share its buffer ring, and pushes that name the same `key` (the display frame's time)
queue one copy and map it once.
"""
from __future__ import annotations

import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any, Hashable

import moderngl
import numpy as np


@dataclass(eq=False)
class _Copy:
    """One queued copy of a framebuffer: its buffer until mapped, then its pixels."""
    buf: moderngl.Buffer | None
    size: tuple[int, int]
    key: Hashable
    users: int = 1
    pixels: np.ndarray | None = None


class _Ring:
    """A context's pixel buffer objects and its copies in flight (shared by its readers)."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.free: list[moderngl.Buffer] = []
        self.size: tuple[int, int] | None = None
        self.in_flight: dict[Hashable, _Copy] = {}

    def copy(self, fbo: moderngl.Framebuffer, key: Hashable) -> _Copy:
        shared = self.in_flight.get(key)
        if shared is not None and shared.size == tuple(fbo.size):
            shared.users += 1
            return shared
        size = tuple(fbo.size)
        if size != self.size:  # first copy, or the window was resized: buffers of the new size
            for buf in self.free:
                buf.release()
            self.free.clear()
            self.size = size
        buf = self.free.pop() if self.free else self.ctx.buffer(reserve=size[0] * size[1] * 4)
        fbo.read_into(buf, components=4, alignment=1)
        copy = self.in_flight[key] = _Copy(buf, size, key)
        return copy

    def take(self, copy: _Copy) -> np.ndarray:
        """The copy's (H, W, 4) pixels, top row first; the first taker maps it (waits if not done)."""
        if copy.pixels is None:
            w, h = copy.size
            copy.pixels = np.frombuffer(copy.buf.read(), np.uint8).reshape(h, w, 4)[::-1]
            self._recycle(copy)
        copy.users -= 1
        return copy.pixels

    def drop(self, copy: _Copy) -> None:
        copy.users -= 1
        if copy.users <= 0 and copy.buf is not None:
            self._recycle(copy)

    def _recycle(self, copy: _Copy) -> None:
        if self.in_flight.get(copy.key) is copy:
            del self.in_flight[copy.key]
        if copy.size == self.size:
            self.free.append(copy.buf)
        else:
            copy.buf.release()
        copy.buf = None


_rings: "weakref.WeakKeyDictionary[moderngl.Context, _Ring]" = weakref.WeakKeyDictionary()


class FramebufferReader:
    """`push(fbo, tag)` queues a copy; `ready()` returns the copies queued `lag` pushes ago."""

    def __init__(self, ctx: moderngl.Context, lag: int = 2) -> None:
        self.ctx = ctx
        self.lag = lag
        if ctx not in _rings:
            _rings[ctx] = _Ring(ctx)
        self._ring = _rings[ctx]
        self._pending: deque[tuple[_Copy, Any]] = deque()

    def push(self, fbo: moderngl.Framebuffer, tag: Any, key: Hashable | None = None) -> None:
        """Queue a copy of `fbo`'s colour pixels (RGBA: the format GL stores, so no per-pixel
        conversion). Readers pushing the same `key` (a display frame's time) share one copy."""
        self._pending.append((self._ring.copy(fbo, (fbo.glo, key) if key is not None else object()), tag))

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
        """Forget the queued copies (their buffers return to the context's ring)."""
        for copy, _ in self._pending:
            self._ring.drop(copy)
        self._pending.clear()

    def _take(self) -> tuple[np.ndarray, Any]:
        copy, tag = self._pending.popleft()
        return self._ring.take(copy), tag
