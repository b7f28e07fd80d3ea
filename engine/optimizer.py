"""The paper's per-frame optimization (Eq. 1-3), one iteration at a time.

    L = - sum_i w_i cos(E(views(frame)), E(prompt_i))      (Eq. 1: prompt weights from the schedule)
        + w_neg cos(E(views(frame)), E(negative))          (optional negative prompt)
        + w_c |frame - previous|_1                         (Eq. 2-3: stability, every 4th iteration)

The first frame starts from uniform noise; each next frame from the previous one plus gaussian
noise (temperature.py says how much), drawn at a coarser grid so it moves content rather than
adding grain. Adam's state is reset every frame, as in the authors' code.
Pixels are clamped to [0, 1] after each step so frames stay displayable and cannot drift.

`scale` > 1 optimizes a grid `scale` times smaller and upsamples it bilinearly: smoother pictures
and far fewer unknowns, which helps small models most. `scale` = 1 is the paper's raw pixels.
With several guides (an ensemble), iterations alternate between them, as the authors alternate
ViT-B/32 and ViT-B/16.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from .augment import random_views
from .models import Guide
from .temperature import Heat

STABILITY_EVERY = 4  # the authors apply the L1 term on every 4th iteration only
NOISE_CELL = 4       # grid cells per noise sample along each side (see _noise)


@dataclass
class StepResult:
    loss: float
    similarity: list[float]  # mean cosine per prompt of the mix, for the HUD and tests
    finite: bool


class FrameOptimizer:
    def __init__(self, guides: Sequence[Guide], width: int, height: int, scale: int = 1, seed: int = 0) -> None:
        if not guides:
            raise ValueError("at least one guide model is needed")
        self.guides = list(guides)
        self.device = self.guides[0].device
        self.width, self.height, self.scale = width, height, max(1, int(scale))
        self.grid = (max(1, round(height / self.scale)), max(1, round(width / self.scale)))
        self.rng = torch.Generator().manual_seed(seed)
        self.z: torch.Tensor | None = None     # the optimized variable, (1, 3, *grid)
        self.prev: torch.Tensor | None = None  # last finished frame, same shape
        self.start: torch.Tensor | None = None  # where the current frame started (for tests/stats)
        self.opt: torch.optim.Adam | None = None
        self.iteration = 0

    def reseed(self, seed: int) -> None:
        self.rng.manual_seed(seed)

    def reset(self) -> None:
        """Forget the past: the next frame starts from uniform noise."""
        self.z = self.prev = self.opt = None

    def start_frame(self, heat: Heat) -> None:
        if self.prev is None:
            start = torch.rand(1, 3, *self.grid, generator=self.rng)
        else:
            start = (self.prev.cpu() + self._noise() * heat.noise).clamp(0, 1)
        self.start = start.to(self.device)
        self.z = self.start.clone().requires_grad_(True)
        self.opt = torch.optim.Adam([self.z], lr=0.1)
        self.iteration = 0

    def _noise(self) -> torch.Tensor:
        """Unit-std gaussian noise over the grid, drawn NOISE_CELL times coarser and upsampled:
        it moves shapes and colours instead of sprinkling grain that 10 iterations cannot clean."""
        h, w = self.grid
        coarse = torch.randn(1, 3, max(1, h // NOISE_CELL), max(1, w // NOISE_CELL), generator=self.rng)
        noise = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)
        return noise / noise.std().clamp(min=1e-6)

    def image(self) -> torch.Tensor:
        """The current frame at full resolution, (1, 3, H, W) in [0, 1]; differentiable."""
        if self.scale == 1:
            return self.z
        return F.interpolate(self.z, size=(self.height, self.width), mode="bilinear", align_corners=False)

    def step(self, texts: Sequence[str], weights: Sequence[float], heat: Heat, lr: float, views: int,
             negative: str = "", negative_weight: float = 0.0) -> StepResult:
        """One Adam step on the pixels. Returns the loss and per-prompt similarity."""
        guide = self.guides[self.iteration % len(self.guides)]
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.opt.zero_grad(set_to_none=True)
        image = self.image()
        feats = guide.image_features(random_views(image, views, guide.size, self.rng))
        sims = (feats @ guide.text_features(texts).T).mean(0)               # (n_prompts,)
        w = torch.tensor(weights, device=sims.device, dtype=sims.dtype)
        loss = -(sims * w).sum()
        if negative and negative_weight > 0:
            loss = loss + negative_weight * (feats @ guide.text_features([negative]).T).mean()
        if self.prev is not None and heat.stability > 0 and self.iteration % STABILITY_EVERY == 0:
            loss = loss + heat.stability * (self.z - self.prev).abs().mean()
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            self.z.clamp_(0, 1)
        self.iteration += 1
        value = float(loss.detach())
        finite = bool(torch.isfinite(loss).item()) and bool(torch.isfinite(self.z).all().item())
        return StepResult(value, sims.detach().tolist(), finite)

    def finish_frame(self) -> None:
        self.prev = self.z.detach().clone()

    def restore(self) -> None:
        """Throw away the current frame (after a NaN or an error) and restart it from the last good one."""
        good = self.prev if self.prev is not None else torch.rand(1, 3, *self.grid, generator=self.rng).to(self.device)
        self.z = good.clone().requires_grad_(True)
        self.opt = torch.optim.Adam([self.z], lr=0.1)
        self.iteration = 0
