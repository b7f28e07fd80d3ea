"""LFO waveforms and the beat pulse: modulation sources for the matrix (vj/modulation.py)."""
from __future__ import annotations

import math
import random


def wave(shape: str, cycles: float) -> float:
    """The LFO's level, -1..1, after `cycles` periods. sine, triangle and square start rising at 0
    (square: +1 for the first half), saw rises from -1 to 1, random holds a new level each period
    (the same level for the same period, so replays agree)."""
    f = cycles % 1.0
    if shape == "sine":
        return math.sin(2 * math.pi * f)
    if shape == "triangle":
        return 4.0 * abs((f - 0.25) % 1.0 - 0.5) - 1.0
    if shape == "saw":
        return 2.0 * f - 1.0
    if shape == "square":
        return 1.0 if f < 0.5 else -1.0
    if shape == "random":
        return random.Random(math.floor(cycles)).uniform(-1.0, 1.0)
    raise ValueError(f"unknown LFO shape {shape!r}")


def pulse(since_beat: float, decay: float) -> float:
    """The beat pulse, 0..1: 1 on the beat, falling to 1/e after `decay` seconds."""
    return math.exp(-max(0.0, since_beat) / decay)
