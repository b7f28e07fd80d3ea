"""Temperature: the one knob that trades stability for change (the paper's T in 0..100).

The paper: temperature sets "the weight of the video stability loss and the standard deviation
of the noise". We build that reading, in pixel units (frames live in [0, 1]):

    x = T / 100
    stability weight  w_c   = 4 * (1 - x)          # the authors' numbers: 4 at T=0, 0 at T=100
    noise std         sigma = 0.01 + 0.99 * x**2   # added to the previous frame before optimizing
    step              s     = 0.05 + 0.95 * x      # multiplies the learning rate of later frames

So at T=0 a frame starts from the previous one plus a trace of noise and is held to it by a strong
L1 pull: frames barely move. At T=100 the noise (std 1 on a [0,1] image) drowns the previous frame
and nothing holds it: the scene changes completely. The square gives a knob fine control where
performers spend most of their time (T 10..50). The live `noise` parameter (and audio energy
through it) scales sigma.

Why a step factor too: Adam moves every pixel by about the learning rate at each step, whatever
the size of its gradient, so a loss weight alone cannot hold a frame still (at lr 0.17 the first
step alone moves each pixel by 0.17). Scaling the step with temperature is what makes T=0 calm.
The first frame after a reset paints from noise at the full learning rate.
"""
from __future__ import annotations

from dataclasses import dataclass

STABILITY_MAX = 4.0
NOISE_FLOOR = 0.01
STEP_FLOOR = 0.05


@dataclass(frozen=True)
class Heat:
    stability: float  # w_c, weight of the L1 loss to the previous frame
    noise: float      # std of the gaussian noise added to the previous frame
    step: float       # learning-rate multiplier for frames after the first


def heat(temperature: float, noise_scale: float = 1.0) -> Heat:
    """Map temperature 0..100 (and the live noise multiplier) to loss weight, noise std and step."""
    x = min(100.0, max(0.0, float(temperature))) / 100.0
    return Heat(stability=STABILITY_MAX * (1.0 - x),
                noise=(NOISE_FLOOR + (1.0 - NOISE_FLOOR) * x * x) * max(0.0, noise_scale),
                step=STEP_FLOOR + (1.0 - STEP_FLOOR) * x)
