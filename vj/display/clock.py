"""Clocks for the display loop, injected so that recordings and replays can run on a fixed step.

`LiveClock` reads `perf_counter()` and, where the display gives no vsync (Xvfb, some drivers),
paces the loop to the refresh rate itself. `FixedStepClock` advances exactly 1/fps per frame and
never sleeps: offline rendering and tests get the same picture every run.
"""
from __future__ import annotations

import statistics
import time
from collections import deque
from typing import Protocol


class Clock(Protocol):
    def tick(self) -> float:
        """Wait (if this clock paces) until the next display frame is due; return its time in seconds."""
        ...


class FixedStepClock:
    """Time advances 1/fps per tick and nothing waits: frame n is at n/fps."""

    def __init__(self, fps: float = 60.0) -> None:
        self.step = 1.0 / fps
        self.frames = 0

    def tick(self) -> float:
        t = self.frames * self.step
        self.frames += 1
        return t


class LiveClock:
    """Wall time; paces to `fps` when the buffer swap does not wait for vsync.

    Pacing starts on at once when the monitor reports no refresh rate (Xvfb), and switches on by
    itself if the first frames come much faster than the refresh (vsync refused by the driver).
    Deadlines advance by whole periods, so one late frame does not shift the cadence of the rest.
    """

    def __init__(self, fps: float = 60.0, pace: bool | None = None) -> None:
        self.period = 1.0 / fps
        self.pace = pace            # None: decide from the first frames
        self._deadline = 0.0
        self._probe: deque[float] = deque(maxlen=61)

    def tick(self) -> float:
        now = time.perf_counter()
        if self.pace is None:
            self._probe.append(now)
            if len(self._probe) == self._probe.maxlen:
                gaps = [b - a for a, b in zip(self._probe, list(self._probe)[1:])]
                self.pace = statistics.median(gaps) < 0.7 * self.period
        if self.pace:
            if now < self._deadline:
                time.sleep(self._deadline - now)
                now = time.perf_counter()
            self._deadline += self.period
            if self._deadline < now:  # fell behind by more than a frame: start a fresh cadence
                self._deadline = now + self.period
        return now
