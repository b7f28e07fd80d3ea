"""Tempo: one beat clock from one source, changes quantized to the beat, LFOs in beats.

    clock.py     pure: BeatClock (beats as a function of time), TapTempo, MidiClock (24 ppqn)
    link.py      Ableton Link peers through LinkPython-extern
    lfo.py       pure: LFO waveforms and the beat pulse (modulation sources)
    quantize.py  the store's gate: changes held until the next beat, bar, 2 or 4 bars
    service.py   TempoService: the thread tying them together, publishing the tempo.* rows
"""
from .clock import PPQN, BeatClock, MidiClock, TapTempo
from .service import TempoService

__all__ = ["PPQN", "BeatClock", "MidiClock", "TapTempo", "TempoService"]
