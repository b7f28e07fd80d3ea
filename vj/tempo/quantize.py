"""Quantized changes: the store's gate (engine/params.py) holds a change until the beat.

With `quantize` at beat, bar, 2bars or 4bars, a prompt change (next, prev, prompt.select, a
prompt's text) or a hit (reseed, flash.hit, zoom.hit) from a performer is held and re-issued by
the tempo thread when the clock reaches the next grid line minus the lookahead (so that what the
generator then paints shows on the beat). `next` is also held, whatever `quantize` says, while
`crossfade.beats` is set: the tempo thread then fades to the next prompt over that many beats.
Changes from the setup, the replay and the tempo thread itself pass straight through, and so does
everything while the clock is stopped (a MIDI clock's stop): nothing waits for a beat that is not coming.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Callable

from engine.controls import SLOTS
from engine.params import ParamStore

SOURCE = "tempo"                                     # what the tempo thread's own writes say
# Sources never held: the tempo thread's own, loading and replaying, and what an action writes
# (next's prompt.select: the action itself was the change to hold).
PASS = {SOURCE, "setup", "replay", "app", "render", "action"}
ACTIONS = {"next", "prev", "reseed", "flash.hit", "zoom.hit"}
PARAMS = {"prompt.select", *(f"prompt.{i}" for i in range(1, SLOTS + 1))}
BARS = {"beat": 0, "bar": 1, "2bars": 2, "4bars": 4}  # grid in bars (beat: one beat)


@dataclass(frozen=True)
class Held:
    name: str
    value: Any          # None: an action
    beat: float         # the grid line it waits for
    held_at: float      # the beat when it was held


def grid_beats(quantize: str, beats_per_bar: int) -> float:
    """The grid in beats; 0 when off (fire at once)."""
    if quantize not in BARS:
        return 0.0
    return float(BARS[quantize] * beats_per_bar) if BARS[quantize] else 1.0


class Quantizer:
    """Holds changes for the grid; `due(beat)` hands back those whose line `beat` has reached.

    `beat_now()` is the clock's position now (the tempo thread's), None while it is stopped; it is
    read in the writer's thread."""

    def __init__(self, store: ParamStore, beat_now: Callable[[], float | None]) -> None:
        self.store, self.beat_now = store, beat_now
        self._held: list[Held] = []
        self._lock = threading.Lock()

    def install(self) -> None:
        self.store.gate = self.gate

    def uninstall(self) -> None:
        if self.store.gate == self.gate:
            self.store.gate = None
        self.flush()

    def gate(self, name: str, value: Any, source: str) -> bool:
        if source in PASS or not (name in ACTIONS if value is None else name in PARAMS):
            return False
        snap = self.store.snapshot()
        grid = grid_beats(snap["quantize"], snap["tempo.beats_per_bar"])
        fade = name == "next" and snap["crossfade.beats"] > 0
        if grid == 0 and not fade:
            return False
        beat = self.beat_now()
        if beat is None:
            return False
        line = math.floor(beat / grid + 1e-9) * grid + grid if grid else beat
        with self._lock:
            self._held.append(Held(name, value, line, beat))
        return True

    def due(self, beat: float) -> list[Held]:
        """The held changes whose grid line is at or before `beat`, oldest first, taken out."""
        with self._lock:
            ready = [h for h in self._held if h.beat <= beat]
            self._held = [h for h in self._held if h.beat > beat]
        return ready

    @property
    def held(self) -> list[Held]:
        with self._lock:
            return list(self._held)

    def flush(self) -> list[Held]:
        """Everything held, taken out (quantize switched off, service stopping)."""
        with self._lock:
            held, self._held = self._held, []
        return held
