"""The recorder's rows of the live parameter table.

`record` is an ordinary parameter, so a key, an OSC message, a MIDI note or `vj run --record`
start and stop a recording the same way. The read-only rows are published by the recorder for
the HUD and OSC feedback.
"""
from __future__ import annotations

from engine.params import Action, ParamSpec

SPECS: list[ParamSpec] = [
    ParamSpec("record", "bool", False, "record the output (picture as shown, sound, control timeline) to disk"),
    ParamSpec("record.dropped", "int", 0, "pictures of this recording dropped because the encoder fell behind",
              lo=0, hi=2**31 - 1, readonly=True),
    ParamSpec("record.error", "str", "", "why the last recording stopped on its own (empty: it did not)",
              max_len=1000, readonly=True),
]

ACTIONS: list[Action] = []
