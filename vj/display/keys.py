"""The window's keys: each key is a row that sets a parameter or triggers an action, so the keyboard
reaches the show exactly as OSC and MIDI do (the rows themselves are in vj/tables.py)."""
from __future__ import annotations

from engine.params import ParamStore

# Keyboard: GLFW key name -> (what, parameter or action[, step]). One row per key.
KEYS: dict[str, tuple] = {
    "B": ("toggle", "blackout"),
    "SPACE": ("toggle", "freeze"),
    "F": ("toggle", "fullscreen"),
    "H": ("toggle", "hud"),
    "I": ("toggle", "show_iterations"),
    "R": ("toggle", "record"),
    "RIGHT": ("action", "next"),
    "LEFT": ("action", "prev"),
    "UP": ("step", "brightness", 0.1),
    "DOWN": ("step", "brightness", -0.1),
    "ENTER": ("action", "flash.hit"),
    "Z": ("action", "zoom.hit"),
    "T": ("action", "tap"),
    "Q": ("action", "quit"),
    "ESCAPE": ("action", "quit"),
}

KEY_HELP = "B blackout  SPACE freeze  T tap  <-/-> prompt  UP/DOWN brightness  R record  F fullscreen  H hud  Q quit"


def press(store: ParamStore, key: str) -> bool:
    """Apply the row of `key` to the store; False for a key without a row."""
    row = KEYS.get(key)
    if row is None:
        return False
    what, name = row[0], row[1]
    if what == "action":
        return store.trigger(name, "key")
    if what == "toggle":
        return store.set(name, not store.base(name), "key")
    spec = store.specs[name]
    return store.set(name, spec.clamp(store.base(name) + row[2]), "key")
