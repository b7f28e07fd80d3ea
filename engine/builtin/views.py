"""The views the builtin models train on: pictures in [0, 1] -> normalized, distorted crops, some made to
look half-optimized, as the guide and the judge see paintings (used by train.py, train_post.py, probe.py)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MEAN = torch.tensor((0.48145466, 0.4578275, 0.40821073)).view(1, 3, 1, 1)  # OpenAI CLIP's, open_clip's default
STD = torch.tensor((0.26862954, 0.26130258, 0.27577711)).view(1, 3, 1, 1)


def _homographies(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    n = src.shape[0]
    x, y, u, v = src[..., 0], src[..., 1], dst[..., 0], dst[..., 1]
    z, o = torch.zeros_like(x), torch.ones_like(x)
    A = torch.cat([torch.stack([x, y, o, z, z, z, -u * x, -u * y], -1),
                   torch.stack([z, z, z, x, y, o, -v * x, -v * y], -1)], 1)
    h = torch.linalg.solve(A, torch.cat([u, v], 1))
    return torch.cat([h, torch.ones(n, 1)], 1).reshape(n, 3, 3)


def views(x: torch.Tensor, gen: torch.Generator, distortion: float = 0.5) -> torch.Tensor:
    """Per picture: a random resized crop (area 0.7..1, ratio 3/4..4/3) warped by a random
    perspective (each corner moves inward up to distortion/2 of the side), grey outside; the same
    distributions as engine/augment.py, one view per picture."""
    n, _, size, _ = x.shape
    rand = lambda *s: torch.rand(*s, generator=gen)  # noqa: E731
    area = 0.7 + 0.3 * rand(n)
    log_r = math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * rand(n)
    cw = torch.sqrt(area * torch.exp(log_r)).clamp(max=1.0)
    ch = torch.sqrt(area / torch.exp(log_r)).clamp(max=1.0)
    cx = (1 - cw) * rand(n) + cw / 2
    cy = (1 - ch) * rand(n) + ch / 2
    signs = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    half = torch.stack([cw, ch], -1)[:, None, :] / 2
    corners = torch.stack([cx, cy], -1)[:, None, :] + signs * (half - rand(n, 4, 2) * distortion * half)
    H = _homographies(signs.expand(n, 4, 2), corners * 2 - 1)
    t = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    pts = torch.stack([xx, yy, torch.ones_like(xx)], -1).reshape(-1, 3)
    m = pts @ H.transpose(1, 2)
    grid = (m[..., :2] / m[..., 2:]).reshape(n, size, size, 2)
    return F.grid_sample(x - 0.5, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + 0.5


def half_optimized(x: torch.Tensor, gen: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """Make about 60% (times `strength`) of pictures look like frames part way through
    optimization from noise."""
    n, _, s, _ = x.shape
    rand = lambda *sh: torch.rand(*sh, generator=gen)  # noqa: E731
    kind = (rand(n) * 5).long()  # 0, 1: clean; 2: noise blend; 3: speckle; 4: low resolution
    kind[rand(n) >= strength] = 0
    out = x.clone()
    blend = (kind == 2).float().view(n, 1, 1, 1) * rand(n, 1, 1, 1) * 0.6
    out = out * (1 - blend) + rand(n, 3, s, s) * blend
    speckle = (kind == 3).float().view(n, 1, 1, 1) * (rand(n, 1, s, s) < rand(n, 1, 1, 1) * 0.5).float()
    out = out * (1 - speckle) + rand(n, 3, s, s) * speckle
    low = kind == 4
    if low.any():
        # Half resolution only: the optimizer's `scale` blocks are frame pixels, far smaller than a
        # view's pixels, and a quarter-resolution small shape is a blob no one could name.
        small = F.avg_pool2d(out[low], 2)
        small = small + torch.randn(small.shape, generator=gen) * 0.1  # blocky noise, like a coarse grid
        out[low] = F.interpolate(small, size=(s, s), mode="bilinear", align_corners=False).clamp(0, 1)
    return out


def augment(x: torch.Tensor, gen: torch.Generator, strength: float = 1.0, clean: float = 0.0) -> torch.Tensor:
    """Pictures in [0, 1] -> normalized views the model trains on. `strength` < 1 (early in
    training) makes fewer pictures look half-optimized and the noise weaker; views apply to all but
    a `clean` fraction, which stay exactly as drawn (a view zooms in by about 10% on average, so a
    model that only ever saw views takes whole pictures' small shapes for smaller than any it knows)."""
    out = views(half_optimized(x, gen, strength), gen)
    sigma = torch.rand(len(x), 1, 1, 1, generator=gen) * 0.12 * strength
    out = out + torch.randn(x.shape, generator=gen) * sigma
    keep = (torch.rand(len(x), generator=gen) < clean).view(-1, 1, 1, 1)
    return (torch.where(keep, x, out) - MEAN) / STD
