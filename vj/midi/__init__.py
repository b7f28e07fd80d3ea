"""MIDI control: controllers' CCs and notes mapped onto live parameters, learn, soft takeover.

curves.py    response curves (linear, square, sqrt, exp, log) and their inverses
mapping.py   [[midi.map]] rows -> bindings (faders with soft takeover, triggers, toggles, ...)
learn.py     MIDI learn: a moved control becomes a row saved into the setup file (tomlkit)
service.py   the input service: port watched by name, reopened when replugged, one input path
"""
from .service import MidiInput

__all__ = ["MidiInput"]
