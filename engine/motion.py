"""Camera motion between frames: the previous picture warped by a live 2D camera move.

Deforum's zoom/rotate/pan/tilt camera (the "infinite zoom" look) and Text2Video-Zero's global
motion field (the whole scene translated between frames so it moves consistently), as one
projective warp on the model's device, sampled with `grid_sample` like the augmentations.

The move is a flow with constant rates per second, written as the generator G of a one-parameter
group of homographies, so that the warp over `dt` seconds is the matrix exponential

    F(dt) = expm(dt * G),   G = [[ln zoom,   rot,     x],
                                 [ -rot,   ln zoom,   y],
                                 [   0,     -tilt,    0]]

in coordinates where the frame is 1 wide, centred on (cx, cy), y down (rot in rad/s, positive
turns counter-clockwise on screen). F(a) F(b) = F(a + b) exactly, so ten frames of 0.1 s land
where two of 0.5 s do: the look does not depend on how fast the generator runs, and the display
(vj/display) can keep applying the same flow between generator frames without a jump when the next
frame arrives. Zoom 1, rotation, translation and tilt 0 give the identity (today's behaviour).

Revealed edges (what the move brings in from beyond the frame) are read mirrored, wrapped
around, or as the colour of the nearest edge (`motion.edge`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .params import ParamSpec, Snapshot

EDGES = ("mirror", "wrap", "edge")
MAX_DT = 5.0   # seconds: after a pause the picture does not jump by the whole pause (the display stops there too)

SPECS: list[ParamSpec] = [
    ParamSpec("motion.zoom", "float", 1.0, "camera zoom per second (1: still, 1.1: 10% closer each second, "
              "below 1: away)", lo=0.25, hi=4),
    ParamSpec("motion.rotate", "float", 0.0, "camera rotation in degrees per second (positive: counter-clockwise)",
              lo=-360, hi=360),
    ParamSpec("motion.x", "float", 0.0, "picture moves right by this many frame widths per second", lo=-2, hi=2),
    ParamSpec("motion.y", "float", 0.0, "picture moves down by this many frame widths per second", lo=-2, hi=2),
    ParamSpec("motion.tilt", "float", 0.0, "perspective tilt per second (positive: the top recedes like a floor "
              "running to the horizon)", lo=-2, hi=2),
    ParamSpec("motion.cx", "float", 0.5, "centre of zoom, rotation and tilt across the frame (0: left, 1: right)",
              lo=0, hi=1),
    ParamSpec("motion.cy", "float", 0.5, "centre of zoom, rotation and tilt down the frame (0: top, 1: bottom)",
              lo=0, hi=1),
    ParamSpec("motion.edge", "enum", "mirror", "what fills the edges the camera reveals: mirror, wrap or edge "
              "(the nearest edge's colour)", choices=EDGES),
]


@dataclass(frozen=True)
class Motion:
    """A camera move in rates per second (see the module doc for the units)."""
    zoom: float = 1.0     # x per second
    rotate: float = 0.0   # degrees per second, counter-clockwise
    x: float = 0.0        # frame widths per second, right
    y: float = 0.0        # frame widths per second, down
    tilt: float = 0.0     # perspective per second
    cx: float = 0.5       # centre, 0..1 of the width
    cy: float = 0.5       # centre, 0..1 of the height
    edge: str = "mirror"

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> "Motion":
        return cls(*(snap[s.name] for s in SPECS))

    @property
    def still(self) -> bool:
        return self.zoom == 1.0 and self.rotate == 0.0 and self.x == 0.0 and self.y == 0.0 and self.tilt == 0.0

    def flow(self, dt: float) -> np.ndarray:
        """F(dt): (3, 3) float64 homography moving a point of the picture `dt` seconds forward, in
        centred frame-width coordinates."""
        w = math.radians(self.rotate)
        g = np.array([[math.log(self.zoom), w, self.x], [-w, math.log(self.zoom), self.y], [0.0, -self.tilt, 0.0]])
        return torch.linalg.matrix_exp(torch.from_numpy(g * dt)).numpy()

    def sampler(self, dt: float, size: tuple[int, int]) -> np.ndarray:
        """(3, 3) float64 map from a pixel of the moved picture to where it is read in the picture
        `dt` seconds earlier, both in normalised [-1, 1] coordinates (grid_sample's, and the display
        shader's after its own flip). `size` is (height, width) in pixels."""
        h, w = size
        a = h / w
        to_centred = np.array([[0.5, 0.0, 0.5 - self.cx], [0.0, 0.5 * a, (0.5 - self.cy) * a], [0.0, 0.0, 1.0]])
        return np.linalg.inv(to_centred) @ self.flow(-dt) @ to_centred


def warp(picture: torch.Tensor, motion: Motion, dt: float) -> torch.Tensor:
    """The picture (N, 3, H, W) on its device moved `dt` seconds forward by `motion`; same shape and
    dtype. Bilinear; revealed edges per `motion.edge`. A still camera returns `picture` itself."""
    if motion.still or dt <= 0:
        return picture
    n, _, h, w = picture.shape
    m = torch.as_tensor(motion.sampler(dt, (h, w)), dtype=torch.float32, device=picture.device)
    grid = _pixel_centres(h, w, picture.device) @ m.T
    grid = grid[..., :2] / grid[..., 2:].clamp(min=1e-6)   # a tilt past the horizon reads from far away
    if motion.edge == "wrap":
        grid = torch.remainder(grid + 1, 2) - 1
    padding = "reflection" if motion.edge == "mirror" else "border"
    grid = grid.reshape(1, h, w, 2).expand(n, -1, -1, -1).to(picture.dtype)
    return F.grid_sample(picture, grid, mode="bilinear", padding_mode=padding, align_corners=False)


def _pixel_centres(h: int, w: int, device: torch.device) -> torch.Tensor:
    """(h*w, 3) homogeneous pixel centres in [-1, 1] (align_corners=False), row-major."""
    ys = (torch.arange(h, dtype=torch.float32, device=device) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, dtype=torch.float32, device=device) + 0.5) / w * 2 - 1
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([xx, yy, torch.ones_like(xx)], -1).reshape(-1, 3)


class Camera:
    """Moves the generator's previous frame before each new frame starts, by the time since the
    last frame started (at most MAX_DT), so the stability term pulls toward the moved picture."""

    def __init__(self) -> None:
        self.last: float | None = None   # clock time the last frame started
        self.moved: tuple[Motion, float] | None = None   # the last move (motion, seconds), None: still

    def start_frame(self, prev: torch.Tensor | None, snap: Snapshot, now: float) -> torch.Tensor | None:
        """The previous picture moved from the last frame's start to `now` (seconds)."""
        dt = 0.0 if self.last is None else min(MAX_DT, max(0.0, now - self.last))
        self.last = now
        motion = Motion.from_snapshot(snap)
        self.moved = None if prev is None or motion.still or dt <= 0 else (motion, dt)
        if prev is None:
            return None
        with torch.no_grad():
            return warp(prev, motion, dt)
