"""Pictures from outside (a camera, a video file, a still image) steering the generator, two ways:

  * start mix (`input.mix`, 0..1): each frame starts from the warm start blended toward the input,
    so the optimizer repaints the input toward the prompts (what StreamDiffusion users call img2img);
  * image prompt (`input.prompt`, a weight beside the text prompts): the guide's embedding of a
    picture (its direction from featureless noise: optimizer.py, `_image`) is one more target of
    Eq. 1, as CLIP-guided painters use an image prompt.

Pictures arrive through an `InputBus` (newest wins), written by whichever thread decodes them
(vj/input/); the generator only reads it, at frame start, and never waits for it. No devices here.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Hashable

import numpy as np
import torch
import torch.nn.functional as F

from .params import Snapshot

PROMPT_VIEWS = 8  # random views averaged into an image prompt's embedding (as the frame is seen)


class InputBus:
    """The newest input picture, (H, W, 3) uint8 RGB, row 0 at the top; older ones are dropped.

    `put` never blocks on the reader and the reader never waits for a picture: `latest()` returns
    (sequence number, picture) or None when nothing has arrived (or `clear()` was called)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: tuple[int, np.ndarray] | None = None
        self.seq = 0

    def put(self, pixels: np.ndarray) -> None:
        if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
            raise ValueError(f"input pictures must be (H, W, 3) uint8 RGB, got {pixels.shape} {pixels.dtype}")
        with self._lock:
            self.seq += 1
            self._latest = (self.seq, pixels)

    def latest(self) -> tuple[int, np.ndarray] | None:
        with self._lock:
            return self._latest

    def clear(self) -> None:
        """Forget the picture (the source is gone and the show goes on without input)."""
        with self._lock:
            self._latest = None


def fit(pixels: np.ndarray, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, h, w) float32 in [0, 1] at `size` = (h, w): the centre cropped to
    the target's aspect ratio (the picture fills the frame, like a camera's view), then resized
    (bilinear, antialiased)."""
    h, w = size
    ih, iw = pixels.shape[:2]
    if iw * h > ih * w:   # wider than the target: crop the sides
        cw = max(1, round(ih * w / h))
        pixels = pixels[:, (iw - cw) // 2:(iw - cw) // 2 + cw]
    else:                 # taller: crop top and bottom
        ch = max(1, round(iw * h / w))
        pixels = pixels[(ih - ch) // 2:(ih - ch) // 2 + ch]
    x = torch.from_numpy(np.array(pixels)).to(device).permute(2, 0, 1)[None].float() / 255
    if x.shape[-2:] == (h, w):
        return x
    return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


@dataclass(frozen=True)
class ImagePrompt:
    """One picture as a target: `key` names it for the optimizer's per-frame embedding cache."""
    key: Hashable
    picture: torch.Tensor  # (1, 3, h, w) float32 in [0, 1]
    weight: float


class Inputs:
    """What the generator reads from the input buses: the start mix and the image prompt.

    `start` feeds `input.mix`; `prompt` feeds `input.prompt` (the same bus, or one holding a file's
    picture). The image prompt's picture is held for a whole frame, so its embedding is computed
    once per frame and guide, however fast the camera runs."""

    def __init__(self, start: InputBus | None = None, prompt: InputBus | None = None) -> None:
        self.start, self.prompt = start, prompt
        self._held: ImagePrompt | None = None   # this frame's image prompt (weight 1)

    # `opt` below is the generator's FrameOptimizer (not imported: optimizer.py imports this module).
    def blend_start(self, opt, snap: Snapshot) -> None:
        """Blend the newest input into the frame `opt` (a FrameOptimizer) has just started:
        start = (1 - mix) * start + mix * input. Called once per frame, right after start_frame."""
        mix = snap["input.mix"]
        got = self.start.latest() if self.start is not None else None
        if got is not None and mix > 0:
            picture = fit(got[1], opt.grid, opt.device)
            opt.restart_from(torch.lerp(opt.start, picture, float(mix)))

    def prompts(self, snap: Snapshot, opt, new_frame: bool) -> list[ImagePrompt]:
        """The image prompt of this frame ([] when its weight is 0 or there is no picture); at a
        `new_frame` the newest picture is taken and held until the next."""
        if new_frame:
            self._held = None
        weight = snap["input.prompt"]
        if weight <= 0 or self.prompt is None:
            return []
        if self._held is None:
            got = self.prompt.latest()
            if got is None:
                return []
            self._held = ImagePrompt(("input", id(self.prompt), got[0]), fit(got[1], opt.grid, opt.device), 1.0)
        return [replace(self._held, weight=float(weight))]
