"""Adam that never waits on the device.

torch.optim.Adam keeps its step count in a tensor and reads it back on every step; here the step
count is a Python int and the bias corrections and per-group learning-rate multipliers are Python
floats, so a step only queues device work. The update is Adam's (Kingma & Ba 2015, Algorithm 1),
with the paper's defaults.
"""
from __future__ import annotations

from typing import Sequence

import torch


class Adam:
    """Adam over `groups`: (leaf tensor, learning-rate multiplier) pairs. `step(lr)` moves each
    tensor by about lr * multiplier per element; `reset()` forgets the moments (a new frame)."""

    def __init__(self, groups: Sequence[tuple[torch.Tensor, float]], betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params = [p for p, _ in groups]
        self.rates = [float(r) for _, r in groups]
        self.betas, self.eps = betas, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def reset(self) -> None:
        for m, v in zip(self.m, self.v):
            m.zero_()
            v.zero_()
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, lr: float) -> None:
        """One update with learning rate `lr` (a float) times each group's multiplier."""
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t
        for p, rate, m, v in zip(self.params, self.rates, self.m, self.v):
            if p.grad is None:
                continue
            g = p.grad
            m.mul_(b1).add_(g, alpha=1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            denom = v.sqrt().div_(c2 ** 0.5).add_(self.eps)
            p.addcdiv_(m, denom, value=-lr * rate / c1)
