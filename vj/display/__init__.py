"""The live window: GLFW + ModernGL, the display clock, shaders from shaders/, effects, HUD.

    keys.py       the keys: key -> parameter or action
    window.py     GLFW window, monitors, fullscreen, keys -> store
    glsl.py       shader files -> programs, errors with file and line
    effects.py    cross-fade timing and live effects on the display clock (no GL)
    renderer.py   the ModernGL pipeline: frames -> output framebuffer -> window
    hud.py        font atlas and the performer's overlay
    clock.py      live (paced) and fixed-step clocks
    loop.py       DisplayApp: the main loop and its hooks (frame sinks, clock, test driving)
"""
from .clock import FixedStepClock, LiveClock
from .glsl import ShaderError
from .loop import DisplayApp, FrameSink
from .window import DisplayUnavailable, list_monitors

__all__ = ["DisplayApp", "DisplayUnavailable", "FixedStepClock", "FrameSink", "LiveClock", "ShaderError",
           "list_monitors"]
