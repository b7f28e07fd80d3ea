"""How the optimized tensors make the picture: pixels, a Laplacian pyramid, a Fourier spectrum, or shapes.

Every parametrization turns its tensors into a picture (1, 3, h, w) in [0, 1] at the optimizer's
grid (frame size / scale), and back: `load(picture)` sets the tensors so that `image()` gives that
picture. Warm starts (`warm_start`) go through `load` for the first three: the next frame starts
from the previous frame's picture plus noise, in picture space, so temperature means the same
whatever the parametrization. `shapes` moves its shapes instead (see `Shapes`).

- `pixels`: the grid itself (the paper's raw pixels).
- `pyramid`: the sum of `levels` grids at 1, 1/2, 1/4, ... of the grid, each upsampled
  bilinearly; coarse levels learn faster (`level_lr ** level`), so broad shapes and colours
  settle before fine detail. A Laplacian-pyramid parameterization (Mordvintsev et al. 2018).
- `fourier`: a real-FFT spectrum scaled by 1/frequency (decay power 1), as lucid's `fft_image`
  (Mordvintsev et al. 2018, "Differentiable Image Parameterizations", Distill): every frequency
  moves at a rate matched to natural pictures' 1/f spectrum, instead of fine grain first.
- `shapes`: a background colour and a few soft-edged flat shapes (each a blend of a disc, a box, a
  triangle, a ring and a cross, stretched, turned and coloured), painted over one another: a picture made only of
  regions and edges, as CLIPDraw paints with strokes (Frans et al. 2021) and Fogleman's
  `primitive` with geometric shapes. The guide can only move whole shapes, so it cannot be
  pleased by speckle, and what it knows of clean pictures decides what gets painted.

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

KINDS = ("pixels", "pyramid", "fourier", "shapes")
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
    def first(self, picture: torch.Tensor, rng: torch.Generator) -> None:
        """Begin the first frame after a reset from `picture` (1, 3, h, w) in [0, 1] (the optimizer's
        start: noise or mid-grey). `rng` lives on the device (shapes scatter themselves with it)."""
        self.load(picture)

    @torch.no_grad()
    def warm_start(self, picture: torch.Tensor, noise: torch.Tensor, amount: float, rng: torch.Generator) -> None:
        """Begin the next frame from the previous frame's `picture` (1, 3, h, w) in [0, 1] moved by
        `amount` (temperature's noise std, picture units) of the unit-std `noise` (same shape)."""
        self.load((picture + noise * amount).clamp(0, 1))

    def rewind(self) -> None:
        """Forget what the current frame's iterations did to state that `load` keeps (shapes); the
        optimizer calls this before restarting a frame after a NaN. Nothing to do for grids."""

    def follow(self, motion, dt: float) -> None:
        """The camera moved the picture by `motion` (engine.motion.Motion) over `dt` seconds; state
        that `load` keeps (shapes) moves with it. Grids need nothing: the moved picture is loaded."""

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


class Shapes(Parametrization):
    """A background colour and `count` opaque flat shapes painted over it in order, plus a
    residual picture that `load` fills (so `load` stays exact) and every warm start halves.

    Shape i: centre (x in frame widths, y in frame heights), radii (log, frame widths), angle
    (radians), kind logits (a softmax blend of the signed distances of a disc, a box, an
    upright triangle, a ring (0.45..1 of the radius) and a cross (two bars 0.3 thick)) and colour logits (3, through the colour head: sigmoid, or lucid's matrix
    and a sigmoid). Edges are soft (a sigmoid of the signed distance over `softness()` frame
    widths), so every parameter gets a gradient; they start wide after a scatter and sharpen while
    the first frame forms. Each kind of tensor has its own lr multiplier (RATES: a step of lr 0.17
    moves a centre by about 1% of the frame width, a colour logit by 0.1).

    Warm starts move the shapes, not the pixels: centres, sizes, angles, kinds and colours get
    gaussian jitter scaled by temperature's noise std (JITTER), and the residual (what `load` put
    there: an input blended in, a cleaned frame fed back, the camera's motion) keeps RESIDUAL_KEEP
    of itself, so the picture returns to shapes within a few frames. The optimizer never moves
    the residual: no pixel of the picture is free, so no speckle can please the guide.

    `candidates` > 1 holds that many independent compositions at once (a sketch race: the
    optimizer steps them together and `choose` keeps one): `candidates()` gives them all,
    (c, 3, h, w); `image()` and everything else mean the chosen one (index 0 until `choose`).
    Shape tensors are stored flat, candidate after candidate ((c * count, ...) rows).
    """

    KIND_NAMES = ("disc", "box", "triangle", "ring", "cross")
    _TRIANGLE = ((0.0, 1.0), (-0.866, -0.5), (0.866, -0.5))   # edge normals (u, v) of the triangle
    SOFTNESS = 0.0025      # edge width, frame widths (a 0.4 cell at scale 4; upsampling softens edges to a cell)
    SOFTNESS_FIRST = 0.035  # ... after a scatter, easing to SOFTNESS over about ANNEAL steps: soft
    ANNEAL = 40             # edges give every shape a gradient from far away while the picture forms
    RESIDUAL_KEEP = 0.5    # share of the residual each warm start keeps
    # lr multipliers per tensor (the lr fader's 0.17 default times these: the step per iteration).
    RATES = {"centre": 0.06, "radius": 0.18, "angle": 0.18, "kind": 0.3, "colour": 0.6, "background": 1.2}
    # Warm-start jitter per unit of temperature's noise std (0.1 at T=30, 1 at T=100).
    JITTER = {"centre": 0.3, "radius": 0.5, "angle": 1.0, "kind": 2.0, "colour": 2.0, "background": 2.0}

    def __init__(self, grid: tuple[int, int], colour: str = "rgb", device: str | torch.device = "cpu",
                 count: int = 8, candidates: int = 1) -> None:
        super().__init__(grid, colour, device)
        if count < 1:
            raise ValueError(f"shapes must be at least 1, got {count!r}.")
        if candidates < 1:
            raise ValueError(f"sketches must be at least 1, got {candidates!r}.")
        self.count, self.n_candidates = count, candidates
        k = count * candidates
        self.tensors = {"centre": self._leaf((k, 2)), "radius": self._leaf((k, 2)), "angle": self._leaf((k,)),
                        "kind": self._leaf((k, len(self.KIND_NAMES))), "colour": self._leaf((k, 3)),
                        "background": self._leaf((candidates, 3) if candidates > 1 else (3,))}
        self.chosen = torch.zeros(1, dtype=torch.long, device=self.device)   # index of the candidate shown
        self.groups = [(t, self.RATES[name]) for name, t in self.tensors.items()]
        self.residual = torch.zeros(1, 3, *grid, device=self.device)
        self._saved = {name: t.detach().clone() for name, t in self.tensors.items()}
        h, w = grid
        self._x = ((torch.arange(w, device=self.device) + 0.5) / w).view(1, 1, w)      # frame widths
        self._y = ((torch.arange(h, device=self.device) + 0.5) / w).view(1, h, 1)      # frame widths too
        self._aspect = h / w
        self.steps = 10**6   # optimizer steps since the last scatter (a Python int: no device read)

    def _colours(self, logits: torch.Tensor) -> torch.Tensor:
        """Colour logits (..., 3) -> colours in (0, 1) through the colour head."""
        if self.colour == "decorrelated":
            logits = logits @ self._mix.T
        return torch.sigmoid(logits)

    def shapes(self) -> torch.Tensor:
        """The chosen candidate's background and shapes, without the residual: (1, 3, h, w) in (0, 1)."""
        every = self._painted()
        return every if self.n_candidates == 1 else every.index_select(0, self.chosen)

    def candidates(self) -> torch.Tensor:
        """Every candidate's picture, (c, 3, h, w) in [0, 1], differentiable."""
        return (self._painted() + self.residual).clamp(0, 1)

    @torch.no_grad()
    def choose(self, index: torch.Tensor) -> None:
        """Show and carry on candidate `index` (a 0-d or (1,) long tensor, read on the device: no sync)."""
        self.chosen.copy_(index.view(1))

    def _painted(self) -> torch.Tensor:
        """Every candidate's background and shapes, (c, 3, h, w) in (0, 1)."""
        t = self.tensors
        h, w = self.grid
        c = self.n_candidates
        out = self._colours(t["background"]).view(c, 3, 1, 1).expand(c, 3, h, w)
        r = torch.exp(t["radius"])                                                      # (k, 2)
        dx = self._x - t["centre"][:, 0, None, None]
        dy = self._y - t["centre"][:, 1, None, None] * self._aspect
        ca, sa = torch.cos(t["angle"])[:, None, None], torch.sin(t["angle"])[:, None, None]
        rx, ry = r[:, 0, None, None], r[:, 1, None, None]
        u = (ca * dx + sa * dy) / rx                                                    # unit-radius coordinates
        v = (-sa * dx + ca * dy) / ry
        # Signed distances in frame widths, so edges are equally sharp however a shape is stretched:
        # each implicit function divided by its gradient's length in frame units (first order).
        disc = (u * u + v * v - 1) / (2 * torch.sqrt((u / rx) ** 2 + (v / ry) ** 2 + 1e-8))
        box = torch.maximum((u.abs() - 0.85) * rx, (v.abs() - 0.85) * ry)              # about the disc's area
        triangle = None
        for a, b in self._TRIANGLE:   # upright: edge normals at 90, 210 and 330 degrees
            edge = (a * u + b * v - 0.72) / torch.sqrt((a / rx) ** 2 + (b / ry) ** 2)
            triangle = edge if triangle is None else torch.maximum(triangle, edge)
        blend = torch.softmax(t["kind"], 1)[:, :, None, None]
        band = 0.275 * torch.sqrt(rx * ry)                                             # a ring: 0.45..1 of the radius
        ring = (disc + band).abs() - band
        cross = torch.minimum(torch.maximum((u.abs() - 1) * rx, (v.abs() - 0.3) * ry),   # two bars, 0.3 thick
                              torch.maximum((u.abs() - 0.3) * rx, (v.abs() - 1) * ry))
        distance = (blend[:, 0] * disc + blend[:, 1] * box + blend[:, 2] * triangle + blend[:, 3] * ring
                    + blend[:, 4] * cross)
        alpha = torch.sigmoid(-distance / self.softness()).view(c, self.count, 1, h, w)   # opaque: see-through
        colours = self._colours(t["colour"]).view(c, self.count, 3, 1, 1)                  # shapes muddy colours
        for i in range(self.count):   # painted in order: the last shape is on top
            out = torch.lerp(out, colours[:, i], alpha[:, i])
        return out

    def image(self) -> torch.Tensor:
        return (self.shapes() + self.residual).clamp(0, 1)

    @torch.no_grad()
    def load(self, picture: torch.Tensor) -> None:
        """Keep the shapes; the residual takes the difference, so `image()` gives `picture` back."""
        self.residual = picture.to(self.device, torch.float32) - self.shapes()
        self._save()

    @torch.no_grad()
    def first(self, picture: torch.Tensor, rng: torch.Generator) -> None:
        """Scatter new shapes (centres anywhere, radii 5..20% of the width, random colours, upright
        blends of every kind in equal parts) on a random background; no residual.
        `picture` is not used: a picture cannot be turned into shapes."""
        k, dev = self.count * self.n_candidates, self.device
        rand = lambda *s: torch.rand(*s, generator=rng, device=dev)    # noqa: E731
        randn = lambda *s: torch.randn(*s, generator=rng, device=dev)  # noqa: E731
        t = self.tensors
        t["centre"].copy_(rand(k, 2))
        t["radius"].copy_(torch.log(0.05 + 0.15 * rand(k, 1)).expand(k, 2))
        t["angle"].zero_()
        t["kind"].zero_()
        t["colour"].copy_(randn(k, 3))
        t["background"].copy_(0.5 * randn(*t["background"].shape))
        self.residual = torch.zeros_like(self.residual)
        self.chosen.zero_()
        self.steps = 0
        self._save()

    @torch.no_grad()
    def warm_start(self, picture: torch.Tensor, noise: torch.Tensor, amount: float, rng: torch.Generator) -> None:
        """The shapes jitter by `amount` (see JITTER); `picture` (what the last frame became, moved
        by the camera or cleaned) minus the shapes, halved, is the residual. `noise` is unused:
        pixel noise would only land in the residual."""
        self.residual = (picture.to(self.device, torch.float32) - self.shapes()) * self.RESIDUAL_KEEP
        for name, t in self.tensors.items():
            t.add_(torch.randn(t.shape, generator=rng, device=self.device) * (amount * self.JITTER[name]))
        self._save()

    @torch.no_grad()
    def rewind(self) -> None:
        for name, t in self.tensors.items():
            t.copy_(self._saved[name])

    @torch.no_grad()
    def follow(self, motion, dt: float) -> None:
        """Move each shape as the camera moved the picture: its centre through the camera's
        homography (Motion.flow, centred frame-width coordinates), its radii by the zoom and its
        angle by the rotation, both read from the homography's linear part (exact without tilt)."""
        flow = torch.as_tensor(motion.flow(dt), dtype=torch.float32, device=self.device)
        t = self.tensors
        a = self._aspect
        origin = torch.tensor([motion.cx, motion.cy * a], device=self.device)
        p = torch.stack([t["centre"][:, 0], t["centre"][:, 1] * a], 1) - origin
        moved = torch.cat([p, torch.ones_like(p[:, :1])], 1) @ flow.T
        moved = moved[:, :2] / moved[:, 2:].clamp(min=1e-6) + origin
        t["centre"].copy_(torch.stack([moved[:, 0], moved[:, 1] / a], 1))
        linear = flow[:2, :2]
        t["radius"].add_(0.5 * torch.log(torch.linalg.det(linear).abs().clamp(min=1e-6)))
        axis = torch.stack([torch.cos(t["angle"]), torch.sin(t["angle"])], 1) @ linear.T
        t["angle"].copy_(torch.atan2(axis[:, 1], axis[:, 0]))

    def softness(self) -> float:
        """Edge width now, frame widths: SOFTNESS_FIRST right after a scatter, easing to SOFTNESS."""
        return self.SOFTNESS + (self.SOFTNESS_FIRST - self.SOFTNESS) * math.exp(-self.steps / self.ANNEAL)

    @torch.no_grad()
    def constrain(self) -> None:
        """Colours are sigmoids and the picture is clamped in `image()`; counts steps (softness)."""
        self.steps += 1

    def _save(self) -> None:
        for name, t in self.tensors.items():
            self._saved[name].copy_(t)


def make_parametrization(kind: str, grid: tuple[int, int], colour: str = "rgb",
                         device: str | torch.device = "cpu", levels: int = 4,
                         level_lr: float = 2.0, shapes: int = 8) -> Parametrization:
    """A parametrization by name: 'pixels', 'pyramid' (levels, level_lr), 'fourier' or 'shapes'
    (`shapes` of them); colour 'rgb' or 'decorrelated'. Raises ValueError with one sentence for an
    unknown name."""
    if kind == "pixels":
        return Pixels(grid, colour, device)
    if kind == "pyramid":
        return Pyramid(grid, colour, device, levels, level_lr)
    if kind == "fourier":
        return Fourier(grid, colour, device)
    if kind == "shapes":
        return Shapes(grid, colour, device, shapes)
    raise ValueError(f"parametrization must be one of {', '.join(KINDS)}, got {kind!r}.")
