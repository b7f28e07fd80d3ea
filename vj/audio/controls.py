"""The audio rows of the live parameter table.

Read-only rows are the analysis, published by the audio service at block rate (about 100 Hz);
OSC, the HUD and routes read them like any other parameter. The writable rows are the performer's
knobs: how much the music drives the picture, and how the analysis listens.

Bands: bass 20-250 Hz, mid 250-4000 Hz, high 4000-16000 Hz (vj/audio/analysis.py).
"""
from __future__ import annotations

from engine.params import Action, ParamSpec

# Analysis outputs a route may use as its source, as named in [[audio.route]] source = "...".
FEATURES = ("energy", "bass", "mid", "high", "onset")

SPECS: list[ParamSpec] = [
    # published by the service (read-only)
    ParamSpec("audio.energy", "float", 0.0, "overall loudness, auto-gained, 0..1 (drives the noise by default)",
              lo=0, hi=1, readonly=True),
    ParamSpec("audio.bass", "float", 0.0, "level of 20-250 Hz (kick, bass line), auto-gained, 0..1", lo=0, hi=1,
              readonly=True),
    ParamSpec("audio.mid", "float", 0.0, "level of 250-4000 Hz (voice, snare, most instruments), 0..1", lo=0, hi=1,
              readonly=True),
    ParamSpec("audio.high", "float", 0.0, "level of 4-16 kHz (hats, cymbals), auto-gained, 0..1", lo=0, hi=1,
              readonly=True),
    ParamSpec("audio.onset", "float", 0.0, "1 at each hit (onset), dying away over audio.release", lo=0, hi=1,
              readonly=True),
    ParamSpec("audio.onsets", "int", 0, "hits counted since the input opened", lo=0, hi=2**31 - 1, readonly=True),
    ParamSpec("audio.db", "float", -120.0, "input level in dBFS (RMS after audio.gain; a full-scale sine is -3)",
              lo=-120, hi=20, readonly=True),
    ParamSpec("audio.active", "bool", False, "an audio input is running (false: no device, file ended)",
              readonly=True),
    # the performer's knobs
    ParamSpec("audio.amount", "float", 1.0, "how much the music drives the picture: scales every audio route "
              "(0: let go, base values return)", lo=0, hi=2),
    ParamSpec("audio.noise.depth", "float", 1.0, "noise added at full energy (noise = base + offset + depth x energy)",
              lo=0, hi=4),
    ParamSpec("audio.noise.offset", "float", 0.0, "noise added while audio runs, whatever the energy", lo=-4, hi=4),
    ParamSpec("audio.gain", "float", 0.0, "input trim in dB, before the analysis", lo=-24, hi=48),
    ParamSpec("audio.auto_gain", "bool", True, "automatic gain: quiet rooms and loud clubs both reach full range"),
    ParamSpec("audio.attack", "float", 5.0, "ms the levels take to rise (63% of a step)", lo=0, hi=1000),
    ParamSpec("audio.release", "float", 200.0, "ms the levels and the hit pulse take to fall (to 37%)",
              lo=0, hi=5000),
    ParamSpec("audio.sensitivity", "float", 0.5, "onset sensitivity: 1 finds every rise, 0 only big hits",
              lo=0, hi=1),
]

ACTIONS: list[Action] = []
