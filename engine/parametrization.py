"""How the optimized tensors make the picture: pixels, a Laplacian pyramid, or a Fourier spectrum.

Every parametrization turns its tensors into a picture (1, 3, h, w) in [0, 1] at the optimizer's
grid (frame size / scale), and back: `load(picture)` sets the tensors so that `image()` gives that
picture. Warm starts go through `load`: the next frame starts from the previous frame's picture
plus noise, in picture space, so temperature means the same whatever the parametrization.

- `pixels`: the grid itself (the paper's raw pixels).
- `pyramid`: the sum of `levels` grids at 1, 1/2, 1/4, ... of the grid, each upsampled
  bilinearly; coarse levels learn faster (`level_lr ** level`), so broad shapes and colours
  settle before fine detail. A Laplacian-pyramid parameterization (Mordvintsev et al. 2018).
- `fourier`: a real-FFT spectrum scaled by 1/frequency (decay power 1), as lucid's `fft_image`
  (Mordvintsev et al. 2018, "Differentiable Image Parameterizations", Distill): every frequency
  moves at a rate matched to natural pictures' 1/f spectrum, instead of fine grain first.

Colour heads: `rgb` is the picture as it is, kept in [0, 1] by clamping after every step (see
`constrain`); `decorrelated` mixes three decorrelated channels through lucid's colour matrix
(Olah et al. 2017, "Feature Visualization", Distill) and a sigmoid, which keeps it in (0, 1).

Learning rates: each tensor comes with a plain-float multiplier (`groups`), chosen so that one Adam
step moves the picture about as far as a `pixels` step at the same lr (Adam moves each parameter by
about lr): the lr fader and temperature's step factor keep their meaning across parametrizations.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

KINDS = ("pixels", "pyramid", "fourier")
COLOURS = ("rgb", "decorrelated")

# lucid's colour_correlation_svd_sqrt (Olah et al. 2017): the square root of natural pictures'
# RGB covariance; divided by its largest column norm, as lucid does.
COLOUR_SQRT = ((0.26, 0.09, 0.02), (0.27, 0.00, -0.05), (0.27, -0.09, 0.03))
EDGE = 1e-3  # pictures are clamped to [EDGE, 1 - EDGE] before the inverse sigmoid (finite logits)


def colour_matrix() -> torch.Tensor:
    """lucid's colour decorrelation matrix (3, 3), float32, scaled to a largest column norm of 1."""
    m = torch.tensor(COLOUR_SQRT, dtype=torch.float64)
    return (m / m.norm(dim=0).max()).float()


# Step size of the sigmoid head: the sigmoid's slope at mid-grey is 1/4 and the matrix's rows have
# a root-mean-square norm below 1, so decorrelated steps are scaled up to move a mid-grey picture
# about as far as an rgb step.
SIGMOID_GAIN = 4.0 / float(colour_matrix().norm(dim=1).pow(2).mean().sqrt())


class Parametrization:
    """Base: a picture (1, 3, h, w) in [0, 1], float32, made from `groups` of leaf tensors.

    Subclasses define `raw()` (the picture before the colour head, linear in the tensors) and
    `set_raw(raw)` (its exact inverse). The colour head and its inverse live here.
    """

    def __init__(self, grid: tuple[int, int], colour: str = "rgb", device: str | torch.device = "cpu") -> None:
        if colour not in COLOURS:
            raise ValueError(f"colour must be one of {', '.join(COLOURS)}, got {colour!r}.")
        self.grid, self.colour, self.device = grid, colour, torch.device(device)
        m = colour_matrix().to(self.device)
        self._mix, self._unmix = m, torch.linalg.inv(m)
        self.groups: list[tuple[torch.Tensor, float]] = []  # (leaf tensor, lr multiplier)

    # -- subclasses -----------------------------------------------------------------------------
    def raw(self) -> torch.Tensor:
        raise NotImplementedError

    def set_raw(self, raw: torch.Tensor) -> None:
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------
    @property
    def head_gain(self) -> float:
        """lr multiplier of the colour head (see SIGMOID_GAIN)."""
        return 1.0 if self.colour == "rgb" else SIGMOID_GAIN

    def image(self) -> torch.Tensor:
        """The picture (1, 3, h, w) in [0, 1], differentiable w.r.t. the tensors in `groups`."""
        raw = self.raw()
        if self.colour == "rgb":
            return raw
        return torch.sigmoid(torch.einsum("ij,bjhw->bihw", self._mix, raw))

    @torch.no_grad()
    def load(self, picture: torch.Tensor) -> None:
        """Set the tensors so that `image()` gives `picture` (1, 3, h, w) in [0, 1] (sigmoid heads:
        within EDGE, as the picture is clamped to [EDGE, 1 - EDGE] for a finite inverse)."""
        picture = picture.to(self.device, torch.float32)
        if self.colour == "rgb":
            self.set_raw(picture)
        else:
            logit = torch.logit(picture.clamp(EDGE, 1 - EDGE))
            self.set_raw(torch.einsum("ij,bjhw->bihw", self._unmix, logit))

    @torch.no_grad()
    def constrain(self) -> None:
        """After each step: rgb pictures are clamped to [0, 1] (so frames stay displayable and cannot
        drift); sigmoid heads need nothing. Costs one picture and one load, no host sync."""
        if self.colour == "rgb":
            self.load(self.image().clamp(0, 1))

    def _leaf(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.zeros(shape, device=self.device).requires_grad_(True)


class Pixels(Parametrization):
    """The grid itself: one tensor (1, 3, h, w)."""

    def __init__(self, grid: tuple[int, int], colour: str = "rgb", device: str | torch.device = "cpu") -> None:
        super().__init__(grid, colour, device)
        self.z = self._leaf((1, 3, *grid))
        self.groups = [(self.z, self.head_gain)]

    def raw(self) -> torch.Tensor:
        return self.z

    def set_raw(self, raw: torch.Tensor) -> None:
        self.z.copy_(raw)

    @torch.no_grad()
    def constrain(self) -> None:
        if self.colour == "rgb":
            self.z.clamp_(0, 1)  # the same as the base class, without the copy


class Pyramid(Parametrization):
    """Laplacian pyramid: `levels` grids at 1, 1/2, 1/4, ... of the grid (at least 1x1), each
    upsampled bilinearly to the grid and summed. Level k learns at `level_lr ** k` times the finest
    level's rate; the multipliers are divided by their sum, so no pixel moves more than about lr per
    step, as with pixels.

    `load` puts the whole picture in the finest level and zeros in the others. A proper Laplacian
    decomposition would give the same optimization: the picture is linear in the levels, so the
    gradient each level receives, and hence every Adam step, depends only on the picture and not
    on how it is split among the levels. The finest level is the cheapest exact split.
    """

    def __init__(self, grid: tuple[int, int], colour: str = "rgb", device: str | torch.device = "cpu",
                 levels: int = 4, level_lr: float = 2.0) -> None:
        super().__init__(grid, colour, device)
        if levels < 1:
            raise ValueError(f"levels must be at least 1, got {levels!r}.")
        h, w = grid
        self.levels = [self._leaf((1, 3, max(1, math.ceil(h / 2**k)), max(1, math.ceil(w / 2**k))))
                       for k in range(levels)]
        rates = [float(level_lr) ** k for k in range(levels)]
        self.groups = [(t, r / sum(rates) * self.head_gain) for t, r in zip(self.levels, rates)]

    def raw(self) -> torch.Tensor:
        out = self.levels[0]
        for level in self.levels[1:]:
            out = out + F.interpolate(level, size=self.grid, mode="bilinear", align_corners=False)
        return out

    def set_raw(self, raw: torch.Tensor) -> None:
        self.levels[0].copy_(raw)
        for level in self.levels[1:]:
            level.zero_()


class Fourier(Parametrization):
    """A real-FFT spectrum (1, 3, h, w//2 + 1) stored as real and imaginary parts (..., 2), scaled by
    1 / max(f, 1/max(h, w)) ** decay with f in cycles per pixel (lucid's `fft_image`), inverse FFT
    with orthonormal scaling. The scale is normalized so that a step of lr on every coefficient
    moves a pixel by about lr (root mean square), as with pixels. `load` is the forward FFT divided
    by the scale: exact.
    """

    def __init__(self, grid: tuple[int, int], colour: str = "rgb", device: str | torch.device = "cpu",
                 decay: float = 1.0) -> None:
        super().__init__(grid, colour, device)
        h, w = grid
        fy = torch.fft.fftfreq(h, device=self.device)[:, None]
        fx = torch.fft.rfftfreq(w, device=self.device)[None, :]
        scale = 1.0 / torch.sqrt(fx * fx + fy * fy).clamp(min=1.0 / max(h, w)) ** decay
        # Each half-spectrum coefficient (real and imaginary part) stands for itself and its mirror,
        # so a unit step on all of them moves a pixel by sqrt(2 * mean(scale^2)) in rms.
        self.scale = scale / (2 * scale.pow(2).mean()).sqrt()                 # (h, w//2 + 1)
        self.spectrum = self._leaf((1, 3, h, w // 2 + 1, 2))
        self.groups = [(self.spectrum, self.head_gain)]

    def raw(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.spectrum) * self.scale
        return torch.fft.irfft2(spectrum, s=self.grid, norm="ortho")

    def set_raw(self, raw: torch.Tensor) -> None:
        spectrum = torch.fft.rfft2(raw, s=self.grid, norm="ortho") / self.scale
        self.spectrum.copy_(torch.view_as_real(spectrum))


def make_parametrization(kind: str, grid: tuple[int, int], colour: str = "rgb",
                         device: str | torch.device = "cpu", levels: int = 4,
                         level_lr: float = 2.0) -> Parametrization:
    """A parametrization by name: 'pixels', 'pyramid' (levels, level_lr) or 'fourier'; colour
    'rgb' or 'decorrelated'. Raises ValueError with one sentence for an unknown name."""
    if kind == "pixels":
        return Pixels(grid, colour, device)
    if kind == "pyramid":
        return Pyramid(grid, colour, device, levels, level_lr)
    if kind == "fourier":
        return Fourier(grid, colour, device)
    raise ValueError(f"parametrization must be one of {', '.join(KINDS)}, got {kind!r}.")
