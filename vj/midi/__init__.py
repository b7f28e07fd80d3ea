"""MIDI control: controllers' CCs and notes mapped onto live parameters, learn, soft takeover, LEDs.

curves.py    response curves (linear, square, sqrt, exp, log) and their inverses
mapping.py   [[midi.map]] rows -> bindings (faders with soft takeover, 14-bit, relative encoders, ...)
leds.py      MIDI out: pads, buttons, motor faders and rings show the state (rate-limited, latest wins)
learn.py     MIDI learn: a moved control becomes a row saved into the setup file (tomlkit)
service.py   the service: ports watched by name, reopened when replugged, one input path, the LEDs' output
"""
from .service import MidiInput

__all__ = ["MidiInput"]
