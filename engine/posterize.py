"""Posterize: a finished frame in a few flat colours with clean, smooth borders (`post.colours`).

An optimized frame is grain on top of colour regions: the guide cares about the regions and does
not mind the grain, and a viewer sees mostly the grain. Posterizing keeps what the guide painted
(where each colour is) and drops the rest, the way a screen print or a cel-shaded look does:

1. the frame is resized to a working size (short side WORK pixels, so the filters below have the
   same reach on any frame) and median-filtered (5 x 5) to take the grain out;
2. k-means (Lloyd's algorithm, Lloyd 1982) finds `colours` colours, started deterministically
   from the mean and then the farthest pixels (as k-means++, Arthur & Vassilvitskii 2007, without
   the randomness); in a stream (`Posterizer`) each frame starts from the last frame's colours,
   so a colour keeps its regions and frames do not flicker;
3. every pixel takes its nearest colour, and the label map is mode-filtered (a 7 x 7 majority
   vote, `smooth` times) so borders are smooth curves, not pixel stairs;
4. the labels, softened over one pixel, are resized back to the frame and painted with their
   colours: flat regions with antialiased borders at any frame size.

It reads nothing back to the host, so a GPU does not wait for it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

WORK = 96        # short side, pixels, at which regions are found
MEDIAN = 5       # median filter side, pixels at WORK
MODE = 7         # majority-vote window side, pixels at WORK
ITERATIONS = 16  # k-means iterations (a smooth frame converges in about 10)


def _median(x: torch.Tensor, k: int) -> torch.Tensor:
    """Per-channel k x k median of (n, c, h, w), edges replicated."""
    n, c, h, w = x.shape
    p = k // 2
    cols = F.unfold(F.pad(x, (p, p, p, p), mode="replicate"), k)       # (n, c*k*k, h*w)
    return cols.view(n, c, k * k, h * w).median(2).values.view(n, c, h, w)


def _kmeans(px: torch.Tensor, k: int, start: torch.Tensor | None = None, iterations: int = ITERATIONS) -> torch.Tensor:
    """k colour centres (k, 3) of pixels px (m, 3): from `start` (k, 3) when given, else the mean and
    then the farthest pixels; then Lloyd's iterations."""
    if start is None:
        centres = [px.mean(0)]
        for _ in range(k - 1):
            d = torch.stack([((px - c) ** 2).sum(1) for c in centres]).min(0).values
            centres.append(px[d.argmax()])
        start = torch.stack(centres)
    c = start
    for _ in range(iterations):
        one = F.one_hot(torch.cdist(px, c).argmin(1), k).to(px.dtype)   # (m, k)
        count = one.sum(0)[:, None]
        c = torch.where(count > 0, one.T @ px / count.clamp(min=1), c)  # an empty colour keeps its place
    return c


def _poster(picture: torch.Tensor, colours: int, smooth: int, work: int,
            palettes: list[torch.Tensor | None]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """posterize() with each picture's k-means started from palettes[i] (or afresh where None);
    returns the pictures and their palettes (colours, 3)."""
    if colours < 2:
        raise ValueError(f"posterize needs at least 2 colours, got {colours}.")
    n, _, h, w = picture.shape
    k = work / min(h, w)
    small = F.interpolate(picture.float(), size=(max(8, round(h * k)), max(8, round(w * k))), mode="bilinear",
                          antialias=k < 1, align_corners=False)
    small = _median(small, MEDIAN)
    sh, sw = small.shape[-2:]
    out, used = [], []
    for i in range(n):
        px = small[i].flatten(1).T                                          # (sh*sw, 3)
        centres = _kmeans(px, colours, palettes[i])
        labels = torch.cdist(px, centres).argmin(1).view(1, sh, sw)
        one = F.one_hot(labels, colours).permute(0, 3, 1, 2).float()      # (1, k, sh, sw)
        for _ in range(smooth):
            p = MODE // 2
            votes = F.avg_pool2d(F.pad(one, (p, p, p, p), mode="replicate"), MODE, 1)
            one = F.one_hot(votes.argmax(1), colours).permute(0, 3, 1, 2).float()
        one = F.avg_pool2d(F.pad(one, (1, 1, 1, 1), mode="replicate"), 3, 1)  # borders soft over a pixel
        one = F.interpolate(one, size=(h, w), mode="bilinear", align_corners=False)
        out.append(torch.einsum("nkhw,kc->nchw", one, centres))
        used.append(centres)
    return torch.cat(out).clamp(0, 1).to(picture.dtype), used


def posterize(picture: torch.Tensor, colours: int, smooth: int = 2, work: int = WORK) -> torch.Tensor:
    """(n, 3, H, W) pictures in [0, 1] -> the same shape, each in `colours` flat colours (2..16)
    with smooth antialiased borders (see the module doc). `smooth`: majority-vote passes (0: the
    raw nearest-colour labels). Raises ValueError for fewer than 2 colours."""
    return _poster(picture, colours, smooth, work, [None] * len(picture))[0]


class Posterizer:
    """Posterize a stream of frames (1, 3, H, W): each frame's k-means starts from the colours the
    last frame ended with, so a colour keeps its regions from frame to frame instead of trading
    them with another (flicker), and follows the picture as it slowly changes."""

    def __init__(self) -> None:
        self.palette: torch.Tensor | None = None   # (colours, 3) of the last frame

    def __call__(self, picture: torch.Tensor, colours: int) -> torch.Tensor:
        start = self.palette if self.palette is not None and len(self.palette) == colours else None
        out, (self.palette,) = _poster(picture, colours, 2, WORK, [start])
        return out

    def reset(self) -> None:
        """Forget the colours (a new scene): the next frame picks its own."""
        self.palette = None
