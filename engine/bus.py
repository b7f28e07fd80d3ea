"""The one frame handoff: the generator publishes, everyone else reads the newest.

Keeps only the last few frames, so a slow reader never holds the generator back and a fast one
never sees stale data. `wait_after` lets offline consumers (render, tests) block for the next one.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Frame:
    index: int            # generator frame number since the last reset
    iteration: int        # optimization iterations spent on this frame so far
    final: bool           # True for finished frames, False for an iteration published as it refines
    time: float           # perf_counter() at publish
    pixels: np.ndarray    # (H, W, 3) uint8 RGB, row 0 at the top
    stats: dict[str, Any] = field(default_factory=dict)
    seq: int = 0          # bus sequence number, strictly increasing


class FrameBus:
    def __init__(self, keep: int = 4) -> None:
        self._frames: deque[Frame] = deque(maxlen=keep)
        self._cond = threading.Condition()
        self._seq = 0

    def publish(self, frame: Frame) -> Frame:
        with self._cond:
            self._seq += 1
            frame = replace(frame, seq=self._seq)
            self._frames.append(frame)
            self._cond.notify_all()
        return frame

    def latest(self, final_only: bool = False) -> Frame | None:
        with self._cond:
            for f in reversed(self._frames):
                if f.final or not final_only:
                    return f
        return None

    def since(self, seq: int, final_only: bool = False) -> list[Frame]:
        """The kept frames newer than `seq`, oldest first: for consumers that want every frame."""
        with self._cond:
            return [f for f in self._frames if f.seq > seq and (f.final or not final_only)]

    def wait_after(self, seq: int, timeout: float | None = None, final_only: bool = False) -> Frame | None:
        """Block until a frame newer than `seq` is published (None on timeout)."""
        def newer() -> Frame | None:
            f = self.latest(final_only)
            return f if f is not None and f.seq > seq else None
        with self._cond:
            self._cond.wait_for(lambda: newer() is not None, timeout)
        return newer()

    @property
    def seq(self) -> int:
        return self._seq
