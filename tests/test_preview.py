"""The performer's preview under Xvfb: two windows open, the show window's pixels carry no HUD, the
preview's do, both show the picture, keys work in both."""
from __future__ import annotations

import time

import glfw
import numpy as np

from engine.bus import Frame
from tests.conftest import small_setup
from tests.test_output import pattern
from vj.display import DisplayApp, FixedStepClock
from vj.show import build_show


def test_two_windows_the_hud_only_on_the_preview(xvfb):
    import open_clip  # noqa: F401  (before any GL context: triton's LLVM clashes with llvmpipe's)
    setup = small_setup(**{"smoothing": 0.0})
    setup.display.width, setup.display.height = 320, 240
    setup.display.preview = True
    setup.display.preview_width, setup.display.preview_height = 320, 240
    show = build_show(setup)
    show.bus.publish(Frame(0, 1, True, time.perf_counter(), pattern()))
    app = DisplayApp(show, clock=FixedStepClock(60), keep_pixels=True, preview=True)
    try:
        assert app.store.get("hud")               # the preview brings the HUD on by default
        app.store.set("hud", False)
        app.run_frames(2)
        while not app.renderer.settled:           # the cross-fade reaches the still frame
            app.run_frames(1)
        app.run_frames(1)
        clean_main, clean_preview = app.read_pixels(), app.preview_pixels.copy()
        app.store.set("hud", True)
        app.run_frames(2)
        main, preview = app.read_pixels(), app.preview_pixels
        assert main.shape == (240, 320, 3) and preview.shape == (240, 320, 3)
        assert np.array_equal(main, clean_main)                       # the show window: no HUD
        assert clean_main.std() > 30 and clean_preview.std() > 30    # both show the picture
        changed = np.abs(preview.astype(int) - clean_preview.astype(int)).max(axis=2) > 40
        assert changed[:120, :200].mean() > 0.2                       # the HUD's panel, from the top left
        app.preview.window._key(None, glfw.KEY_B, 0, glfw.PRESS, 0)   # a key in the preview
        assert app.store.get("blackout")
        app.window._key(None, glfw.KEY_B, 0, glfw.PRESS, 0)           # and in the show window
        assert not app.store.get("blackout")
    finally:
        app.close()
