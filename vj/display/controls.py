"""The display's rows of the live parameter table, its actions, and its keys.

Everything the window does on stage is a parameter or an action here, so OSC, MIDI and audio
reach it exactly like the keyboard does. Effects are applied in the shaders on the display clock,
so a flash or a zoom pulse shows within a display frame, whatever the generator is doing.
"""
from __future__ import annotations

from engine.params import Action, ParamSpec, ParamStore

SPECS: list[ParamSpec] = [
    ParamSpec("brightness", "float", 1.0, "master brightness (0: black, 1: as painted, 2: twice as bright)", lo=0, hi=2),
    ParamSpec("blackout", "bool", False, "fade the output to black (and back when released)"),
    ParamSpec("fade.time", "float", 1.0, "seconds a blackout takes to fade out or in (0: cut)", lo=0, hi=10),
    ParamSpec("freeze", "bool", False, "hold the picture on screen while the generator goes on"),
    ParamSpec("smoothing", "float", 0.5, "edge-preserving smoothing of the noisy frames (0: raw pixels)", lo=0, hi=1),
    ParamSpec("flash", "float", 0.0, "white mixed over the picture (audio or a fader rides it)", lo=0, hi=1),
    ParamSpec("zoom", "float", 0.0, "zoom into the picture (0: none, 1: twice as close)", lo=0, hi=1),
    ParamSpec("hue", "float", 0.0, "hue rotation in turns (0.5: complementary colours)", lo=-1, hi=1),
    ParamSpec("hit.decay", "float", 0.25, "seconds a flash.hit or zoom.hit takes to die away", lo=0.01, hi=5),
    ParamSpec("fill", "bool", False, "fill the window (crop) instead of letterboxing the picture"),
    ParamSpec("hud", "bool", False, "performer's overlay: rates, prompts, levels, warnings (not recorded)"),
    ParamSpec("fullscreen", "bool", False, "window fullscreen on the setup's monitor"),
]

ACTIONS: list[Action] = [
    Action("flash.hit", "one white flash that dies away over hit.decay"),
    Action("zoom.hit", "one zoom pulse that dies away over hit.decay"),
    Action("quit", "end the show (asks again: trigger twice within 3 seconds)"),
]

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
    "Q": ("action", "quit"),
    "ESCAPE": ("action", "quit"),
}

KEY_HELP = "B blackout  SPACE freeze  <-/-> prompt  UP/DOWN brightness  R record  F fullscreen  H hud  Q quit"


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
