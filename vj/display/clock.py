"""Clocks for the display loop, injected so that recordings and replays can run on a fixed step.

A clock gives each display frame its time (`frame_time()`, the moment the frame will be shown,
which effects and cross-fades are computed for) and, where the display gives no vsync, holds the
buffer swap until that moment (`wait()`, called after rendering, right before the swap). Pacing
the swap rather than the start of the frame keeps the intervals between swaps even when the
rendering time of a frame varies.

`LiveClock` reads `perf_counter()`; `FixedStepClock` advances exactly 1/fps per frame and never
sleeps: offline rendering and tests get the same pictures every run.
"""
from __future__ import annotations

import statistics
import time
from collections import deque
from typing import Protocol


class Clock(Protocol):
    paces: bool   # True when wait() holds the swap (no vsync to do it)

    def frame_time(self) -> float:
        """The time (seconds) at which the frame about to be rendered will be shown."""
        ...

    def wait(self) -> None:
        """Hold until the frame is due (pacing clocks); called right before the buffer swap."""
        ...


class FixedStepClock:
    """Frame n is at n/fps, and nothing waits."""

    paces = False

    def __init__(self, fps: float = 60.0) -> None:
        self.step = 1.0 / fps
        self.frames = 0

    def frame_time(self) -> float:
        return self.frames * self.step

    def wait(self) -> None:
        self.frames += 1


class LiveClock:
    """Wall time; paces the swaps to `fps` when the swap itself does not wait for vsync.

    `pace=None` decides from the first second of frames: if the swaps come much faster than the
    refresh rate, vsync is not working and the clock paces. Deadlines advance by whole periods,
    so one late frame does not shift the cadence of the rest.
    """

    def __init__(self, fps: float = 60.0, pace: bool | None = None) -> None:
        self.period = 1.0 / fps
        self.pace = pace
        self._deadline: float | None = None
        self._probe: deque[float] = deque(maxlen=61)

    @property
    def paces(self) -> bool:
        return bool(self.pace)

    def frame_time(self) -> float:
        now = time.perf_counter()
        if not self.pace:
            return now
        if self._deadline is None or self._deadline < now:  # first frame, or fell behind: new cadence
            self._deadline = now + self.period
        return self._deadline

    def wait(self) -> None:
        if self.pace is None:
            self._probe.append(time.perf_counter())
            if len(self._probe) == self._probe.maxlen:
                gaps = [b - a for a, b in zip(self._probe, list(self._probe)[1:])]
                self.pace = statistics.median(gaps) < 0.7 * self.period
            return
        if self.pace and self._deadline is not None:
            delay = self._deadline - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self._deadline += self.period
