"""Random views of a frame for CLIP, all views of an iteration in one batched call.

The authors augment each view separately (resize the short side to 224, random perspective with
distortion 0.5, random resized crop with scale 0.7..0.999). We compose the same two transforms
into one projective map per view and sample every view with a single `grid_sample`, on the
frame's device, after one antialiased resize of the frame. Any frame size or aspect ratio works:
crops are taken in pixel-proportional coordinates, so a 300x900 frame gives square views of its
content, not squashed ones.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

FILL = 0.5  # grey where the perspective warp looks outside the frame (no gradient flows there)


def random_views(frame: torch.Tensor, n: int, size: int, generator: torch.Generator | None = None,
                 scale: tuple[float, float] = (0.7, 0.999), ratio: tuple[float, float] = (3 / 4, 4 / 3),
                 distortion: float = 0.5) -> torch.Tensor:
    """(1, 3, H, W) frame -> (n, 3, size, size) views, differentiable w.r.t. the frame."""
    _, _, h, w = frame.shape
    # One antialiased resize so sampling does not alias: the short side to about the view size.
    short = min(h, w)
    if short > size * 1.25:
        k = size * 1.25 / short
        frame = F.interpolate(frame, size=(max(1, round(h * k)), max(1, round(w * k))),
                              mode="bilinear", antialias=True, align_corners=False)
    grid = _grids(n, size, h / w, frame.device, generator, scale, ratio, distortion)
    return F.grid_sample(frame.expand(n, -1, -1, -1) - FILL, grid, mode="bilinear",
                         padding_mode="zeros", align_corners=False) + FILL


def _grids(n: int, size: int, aspect: float, device: torch.device, gen: torch.Generator | None,
           scale: tuple[float, float], ratio: tuple[float, float], distortion: float) -> torch.Tensor:
    """Sampling grids (n, size, size, 2) in grid_sample's [-1, 1] frame coordinates."""
    rand = lambda *shape: torch.rand(*shape, generator=gen, device="cpu")  # noqa: E731  (cpu: generator lives there)
    # Random resized crop, in units where the frame is 1 wide and `aspect` tall.
    area = aspect * (scale[0] + (scale[1] - scale[0]) * rand(n))
    log_r = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * rand(n)
    cw = torch.sqrt(area * torch.exp(log_r)).clamp(max=1.0)
    ch = torch.sqrt(area / torch.exp(log_r)).clamp(max=aspect)
    cx = (1.0 - cw) * rand(n) + cw / 2
    cy = (aspect - ch) * rand(n) + ch / 2
    # Perspective: each corner of the crop moves inward by up to distortion/2 of the crop size.
    signs = torch.tensor([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=torch.float32)
    half = torch.stack([cw, ch], -1)[:, None, :] / 2                         # (n, 1, 2)
    jitter = rand(n, 4, 2) * distortion / 2 * 2 * half                       # up to distortion/2 of the side
    corners = torch.stack([cx, cy], -1)[:, None, :] + signs * (half - jitter)  # (n, 4, 2)
    # To grid_sample coordinates: x in [-1, 1] across the width, y across the height.
    corners = corners / torch.tensor([1.0, aspect]) * 2 - 1
    H = _homographies(signs.expand(n, 4, 2), corners)                        # view square -> frame
    t = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    pts = torch.stack([xx, yy, torch.ones_like(xx)], -1).reshape(-1, 3)      # (size*size, 3)
    mapped = pts @ H.transpose(1, 2)                                         # (n, size*size, 3)
    grid = mapped[..., :2] / mapped[..., 2:]
    return grid.reshape(n, size, size, 2).to(device)


def _homographies(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Batched 3x3 homographies mapping 4 src points to 4 dst points (direct linear transform)."""
    n = src.shape[0]
    x, y = src[..., 0], src[..., 1]
    u, v = dst[..., 0], dst[..., 1]
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    rows_u = torch.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], -1)
    rows_v = torch.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], -1)
    A = torch.cat([rows_u, rows_v], 1)                                      # (n, 8, 8)
    b = torch.cat([u, v], 1)                                                # (n, 8)
    h = torch.linalg.solve(A, b)
    return torch.cat([h, torch.ones(n, 1)], 1).reshape(n, 3, 3)
