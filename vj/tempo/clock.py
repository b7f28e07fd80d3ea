"""The beat clock and the sources that set it, pure Python with the time passed in (seconds on one
clock, `time.perf_counter()` live), so tests and benches drive them exactly."""
from __future__ import annotations

import math
from collections import deque

PPQN = 24          # MIDI clock pulses per quarter note (MIDI 1.0 spec)
TAP_RESET_S = 2.0  # a pause this long between taps starts a new tempo
TAP_KEEP = 8       # the BPM is the mean over the last taps


class BeatClock:
    """Beats as a function of time: beat(t) = beat0 + (t - t0) x bpm / 60 while running."""

    def __init__(self, bpm: float = 120.0, t: float = 0.0) -> None:
        self.bpm, self.t0, self.beat0, self.running = bpm, t, 0.0, True

    def beat(self, t: float) -> float:
        """Beats (float) at time t: the integer part counts beats, the fraction is the phase."""
        return self.beat0 + ((t - self.t0) * self.bpm / 60.0 if self.running else 0.0)

    def time_of(self, beat: float) -> float:
        """When the clock reaches `beat` (inf when stopped)."""
        if not self.running or self.bpm <= 0:
            return math.inf
        return self.t0 + (beat - self.beat0) * 60.0 / self.bpm

    def set_bpm(self, bpm: float, t: float) -> None:
        """Change tempo at t without a jump in position."""
        self.beat0, self.t0, self.bpm = self.beat(t), t, bpm

    def place(self, t: float, beat: float) -> None:
        """The clock is at `beat` at time t (a tap, a MIDI pulse, a Link reading)."""
        self.t0, self.beat0 = t, beat

    def stop(self, t: float) -> None:
        self.beat0, self.t0, self.running = self.beat(t), t, False

    def start(self, t: float) -> None:
        self.t0, self.running = t, True


class TapTempo:
    """BPM from taps: 60 / the mean interval of the last TAP_KEEP taps; a pause of TAP_RESET_S starts over."""

    def __init__(self) -> None:
        self.taps: deque[float] = deque(maxlen=TAP_KEEP)

    def tap(self, t: float) -> float | None:
        """Record a tap at t (seconds); the BPM once there are two taps, else None."""
        if self.taps and t - self.taps[-1] > TAP_RESET_S:
            self.taps.clear()
        self.taps.append(t)
        if len(self.taps) < 2:
            return None
        return 60.0 * (len(self.taps) - 1) / (self.taps[-1] - self.taps[0])


class MidiClock:
    """Follows a MIDI clock (MIDI 1.0 spec): 24 pulses per quarter note; `start` resets to beat 0
    (the first pulse after it is beat 0), `stop` holds, `continue` resumes, `songpos` moves to a
    position in sixteenth notes. The BPM is the mean over the last beat's pulses (24 intervals),
    so it is right one beat after the clock starts, whatever the jitter of single pulses."""

    def __init__(self) -> None:
        self.pulse = -1            # pulses since start; the next pulse is pulse + 1
        self.running = False
        self.bpm: float | None = None
        self.last_t: float | None = None
        self._times: deque[float] = deque(maxlen=PPQN + 1)

    @property
    def beat(self) -> float:
        return max(0, self.pulse) / PPQN

    def message(self, kind: str, t: float, pos: int = 0) -> bool:
        """One realtime message (`clock`, `start`, `stop`, `continue`, `songpos`) at time t.
        Returns True when it was one of those."""
        if kind == "clock":
            self._times.append(t)
            if len(self._times) >= 2:
                self.bpm = 60.0 * (len(self._times) - 1) / ((self._times[-1] - self._times[0]) * PPQN)
            if self.running:
                self.pulse += 1
                self.last_t = t
        elif kind == "start":
            self.pulse, self.running, self.last_t = -1, True, None
        elif kind == "continue":
            self.running = True
        elif kind == "stop":
            self.running = False
        elif kind == "songpos":
            self.pulse = pos * (PPQN // 4) - 1
        else:
            return False
        return True
