"""The MIDI rows of the live parameter table."""
from __future__ import annotations

from engine.params import Action, ParamSpec

SPECS: list[ParamSpec] = [
    ParamSpec("learn", "str", "", "MIDI learn: name a parameter or action, move a control, it is mapped and saved "
              "to the setup (empty: cancel)", max_len=64),
]
ACTIONS: list[Action] = []
