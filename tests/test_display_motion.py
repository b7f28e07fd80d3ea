"""Camera motion on the display clock, under Xvfb: the window read back at every display frame.

The test plays the generator: every 0.5 s of display time it publishes the next frame, whose content
is the first picture moved by the camera to the time that frame started (what the generator paints
when the optimizer changes nothing), stamped with that start time. The display must keep the zoom
running between those frames and take each new one without a jump.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.bus import Frame
from engine.motion import Motion, warp
from tests.conftest import small_setup
from vj.app import build
from vj.display import DisplayApp, FixedStepClock

W, H = 128, 96
FPS = 60
EVERY = 0.5   # seconds between generator frames


def pattern() -> torch.Tensor:
    """A smooth picture with detail everywhere, (1, 3, H, W) in [0, 1]."""
    y, x = torch.meshgrid(torch.linspace(0, 1, H), torch.linspace(0, 1, W), indexing="ij")
    r = 0.5 + 0.5 * torch.sin(23 * x + 7 * y)
    g = 0.5 + 0.5 * torch.sin(19 * y - 5 * x)
    b = 0.5 + 0.5 * torch.sin(17 * (x + y))
    return torch.stack([r, g, b])[None]


def pixels(picture: torch.Tensor) -> np.ndarray:
    return picture[0].permute(1, 2, 0).mul(255).round().clamp(0, 255).to(torch.uint8).numpy()


def test_zoom_runs_every_display_frame_and_generator_frames_land_without_a_jump(xvfb):
    setup = small_setup(width=W, height=H, **{"smoothing": 0.0, "hud": False, "motion.zoom": 1.5,
                                              "motion.rotate": 10.0})
    setup.display.width, setup.display.height = W, H
    setup.display.output_width, setup.display.output_height = W, H
    show, _ = build(setup)
    app = DisplayApp(show, clock=FixedStepClock(FPS), keep_pixels=True)
    motion, first = Motion.from_snapshot(show.store.snapshot()), pattern()
    try:
        shown, k = [], 0
        for n in range(int(3.0 * FPS)):
            t = n / FPS
            if t >= k * EVERY - 1e-9:   # frame k started at (k-1) x EVERY and is published now
                started = max(0.0, (k - 1) * EVERY)
                picture = pixels(warp(first, motion, started))
                show.bus.publish(Frame(k, 1, True, t, picture, {"started": started}))
                k += 1
            app.run_frames(1)
            shown.append(app.read_pixels().astype(np.int16))
        show.store.set("freeze", True)                  # freeze holds the camera too
        app.run_frames(1)
        held = app.read_pixels()
        app.run_frames(3)
        still = np.array_equal(held, app.read_pixels())
    finally:
        app.close()
    changes = np.array([np.abs(b - a).mean() for a, b in zip(shown[FPS // 2:], shown[FPS // 2 + 1:])])
    assert changes.min() > 0.05                          # the picture moves every display frame
    assert changes.max() <= 2 * np.median(changes), (changes.max(), np.median(changes))  # no jump at arrivals
    assert still
