"""The paper's per-frame optimization (Eq. 1-3), one iteration at a time.

    L = - sum_i w_i cos(E(views(frame)), E(prompt_i))      (Eq. 1: prompt weights from the schedule)
        + w_neg cos(E(views(frame)), E(negative))          (optional negative prompt)
        + w_c |picture - previous picture|_1               (Eq. 2-3: stability, every 4th iteration)

The picture comes from a parametrization (parametrization.py: pixels, a Laplacian pyramid, a
Fourier spectrum or shapes, with an rgb or decorrelated colour head). The first frame starts from
uniform noise (or, with `start = "smooth"`, mid-grey plus coarse noise; shapes scatter
themselves); each next frame from the previous picture plus gaussian noise (temperature.py says
how much), drawn at a coarser grid so it moves content rather than adding grain, loaded into the
parametrization (shapes jitter instead). With `start = "shapes"` the first frame is composed
from flat shapes (parametrization.Shapes) for SKETCH_ITERATIONS and the parametrization finishes
it and carries it on: the
shapes place whole objects where no pixel can please the guide with speckle, the pyramid or the
pixels then give them a surface, and a composition, once there, is where the optimization stays.
With `sketches` > 1 that many compositions race from different scatters, batched (one gradient
each), and at the handover the guide keeps the one whose prompt loss is lowest through views of
the whole frame and crops (`_choose`): a population of drawings judged by CLIP, as CLIP-CLOP
(Mirowski et al. 2022) evolves collages, here with a single selection. Which basin a scatter
falls into decides the picture (a disc or a ragged mass): in bench.quality four scatters measured
11.0 of 12 on six seeds against 10.0 for one (README, A sketch race); one scatter seen through twice
the views, 10.3 on three seeds. Adam's state is reset every frame, as in the authors' code.

`scale` > 1 optimizes a grid `scale` times smaller and upsamples it bilinearly: smoother pictures
and far fewer unknowns, which helps small models most. `scale` = 1 is the paper's raw pixels.
With several guides (an ensemble), iterations alternate between them, as the authors alternate
ViT-B/32 and ViT-B/16.

An iteration never waits on the device: `step()` only queues work and returns device tensors;
random numbers come from a generator on the guide's device; the step count and learning rates
are Python numbers (adam.py). Loss, similarities and the NaN check are read back once, by
`frame_result()`, when the caller publishes (each finished frame).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

from .adam import Adam
from .augment import FRAMINGS, random_views
from .inputs import PROMPT_VIEWS, ImagePrompt
from .models import Guide
from .parametrization import Shapes, make_parametrization
from .temperature import Heat

STABILITY_EVERY = 4  # the authors apply the L1 term on every 4th iteration only
NOISE_CELL = 4       # grid cells per noise sample along each side (see _noise)
STARTS = ("uniform", "smooth", "shapes")  # the first frame's picture (see _first, and `shapes` in the module doc)
SKETCH_ITERATIONS = 100  # start = "shapes": iterations of shapes before the parametrization takes the first frame over
CHOOSE_VIEWS = 16        # sketches > 1: views per candidate when the guide picks the best sketch


@dataclass
class StepResult:
    """One iteration's outcome, still on the device (reading it would wait for the iteration)."""
    loss: torch.Tensor        # () float32
    similarity: torch.Tensor  # (n_prompts,) float32: mean cosine per prompt of the mix


@dataclass
class FrameResult:
    """The latest iteration's loss and similarities as Python numbers, and whether every iteration
    since the frame (re)started stayed finite."""
    loss: float
    similarity: list[float]
    finite: bool


class FrameOptimizer:
    def __init__(self, guides: Sequence[Guide], width: int, height: int, scale: int = 1, seed: int = 0,
                 parametrization: str = "pixels", colour: str = "rgb", levels: int = 4,
                 level_lr: float = 2.0, start: str = "uniform", framing: str = "crops", shapes: int = 8,
                 sketches: int = 1) -> None:
        if not guides:
            raise ValueError("at least one guide model is needed")
        self.guides = list(guides)
        self.device = self.guides[0].device
        self.width, self.height, self.scale = width, height, max(1, int(scale))
        self.grid = (max(1, round(height / self.scale)), max(1, round(width / self.scale)))
        self.rng = torch.Generator(device=self.device).manual_seed(seed)
        if start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(STARTS)}, got {start!r}.")
        self.first = start
        if framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {', '.join(FRAMINGS)}, got {framing!r}.")
        self.framing = framing   # what each view shows the guide (augment.py)
        self.painter = make_parametrization(parametrization, self.grid, colour, self.device, levels, level_lr,
                                            shapes)   # what every frame but a first one paints with
        # start = "shapes": the first frame after a reset is composed from flat shapes, then the painter
        # carries it on (both made now, so switching allocates nothing mid-show).
        self.sketch = Shapes(self.grid, colour, self.device, shapes, sketches) if start == "shapes" else None
        self._adams = {id(p): Adam(p.groups) for p in (self.painter, self.sketch) if p is not None}
        self.param, self.adam = self.painter, self._adams[id(self.painter)]
        self.prev: torch.Tensor | None = None   # last finished picture, (1, 3, *grid) in [0, 1]
        self.start: torch.Tensor | None = None  # the picture the current frame started from
        self.iteration = 0
        self._texts: dict[tuple, torch.Tensor] = {}   # text embeddings, per frame
        self._last: StepResult | None = None
        self._finite = torch.ones((), dtype=torch.bool, device=self.device)

    def reseed(self, seed: int) -> None:
        self.rng.manual_seed(seed)

    def reset(self) -> None:
        """Forget the past: the next frame is a first frame again (`start`: noise, or a sketch)."""
        self.prev = None

    def start_frame(self, heat: Heat) -> None:
        """Begin a frame: the first from `_first()`, the next from the previous picture moved by
        temperature's noise (the parametrization decides how: pixels get noise, shapes jitter)."""
        if self.prev is None:
            self._use(self.sketch or self.painter)
            self.param.first(self._first(), self.rng)
        else:
            self._use(self.painter)
            self.param.warm_start(self.prev, self._noise(), heat.noise, self.rng)
        self._begin()

    @torch.no_grad()
    def _hand_over(self) -> None:
        """The sketch's composition is done: the painter loads its picture and paints on, in the same
        frame, so the first published frame already has the painter's surface (no jump a frame later)."""
        picture = self.sketch.image()
        self._use(self.painter)
        self.param.load(picture)
        self.adam.reset()

    @property
    def sketching(self) -> bool:
        """The first frame is still being composed from shapes (start = "shapes")."""
        return self.param is self.sketch

    def _use(self, param) -> None:
        """Make `param` (the painter or the sketch) the one the iterations move."""
        self.param, self.adam = param, self._adams[id(param)]

    def restore(self) -> None:
        """Throw away the current frame (after a NaN or an error) and restart it from the last good one."""
        self.param.rewind()
        if self.prev is not None:
            self._use(self.painter)
            self.param.load(self.prev)
        else:
            self._use(self.sketch or self.painter)
            self.param.first(self._first(), self.rng)
        self._begin()

    def restart_from(self, start: torch.Tensor) -> None:
        """Begin the current frame again from `start` (1, 3, *grid) in [0, 1] (an input blended in)."""
        self.param.load(start.clamp(0, 1))
        self._begin()

    def _begin(self) -> None:
        """The parametrization holds the frame's start: remember its picture, reset Adam."""
        with torch.no_grad():
            self.start = self.param.image().detach().clone()   # pixels: image() is the leaf itself
        self.adam.reset()
        self.iteration = 0
        self._texts.clear()
        self._last = None
        self._finite = torch.ones((), dtype=torch.bool, device=self.device)

    def _first(self) -> torch.Tensor:
        """The first frame's picture. `uniform`: per-pixel uniform noise, as the paper. `smooth`:
        mid-grey plus the coarse noise of warm starts (std 0.15): a guide's gradient paints on it,
        while per-pixel noise that no gradient cares about stays as grain (slow fine levels of a
        pyramid never clean it). `shapes`: uniform noise too, which the sketch does not use (it
        scatters its shapes)."""
        if self.first == "smooth":
            return (0.5 + 0.15 * self._noise()).clamp(0, 1)
        return torch.rand(1, 3, *self.grid, generator=self.rng, device=self.device)

    def _noise(self) -> torch.Tensor:
        """Unit-std gaussian noise over the grid, drawn NOISE_CELL times coarser and upsampled:
        it moves shapes and colours instead of sprinkling grain that 10 iterations cannot clean."""
        h, w = self.grid
        coarse = torch.randn(1, 3, max(1, h // NOISE_CELL), max(1, w // NOISE_CELL), generator=self.rng,
                             device=self.device)
        noise = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)
        return noise / noise.std().clamp(min=1e-6)

    def picture(self) -> torch.Tensor:
        """The current picture at the grid, (1, 3, *grid) in [0, 1]; differentiable."""
        return self.param.image()

    def image(self) -> torch.Tensor:
        """The current frame at full resolution, (1, 3, H, W) in [0, 1]; differentiable."""
        return self.upsample(self.param.image())

    def upsample(self, picture: torch.Tensor) -> torch.Tensor:
        """A grid picture (1, 3, *grid) -> the frame size (1, 3, H, W), bilinear (`scale`)."""
        if self.scale == 1:
            return picture
        return F.interpolate(picture, size=(self.height, self.width), mode="bilinear", align_corners=False)

    def _text(self, i: int, guide: Guide, texts: tuple[str, ...]) -> torch.Tensor:
        key = (i, texts)
        if key not in self._texts:
            self._texts[key] = guide.text_features(list(texts))
        return self._texts[key]

    def _image(self, i: int, guide: Guide, prompt: ImagePrompt) -> torch.Tensor:
        """An image prompt's target (1, d): the unit direction from the embedding of featureless
        uniform noise to the picture's, each the mean over views as a frame is seen (fixed seed,
        so the target does not jitter); once per frame, guide and picture. The plain embedding
        shares most of itself with any picture (the builtin model: cosine 0.54 to noise), so
        maximizing it paints purple confetti; the direction (as StyleGAN-NADA's directional CLIP
        loss, Gal et al. 2021) paints the picture's colours: the red circle on blue test."""
        key = (i, "image", prompt.key)
        if key not in self._texts:
            with torch.no_grad():
                rng = torch.Generator(device=self.device).manual_seed(0)
                picture = self.upsample(prompt.picture)
                f = guide.image_features(random_views(picture, PROMPT_VIEWS, guide.size, rng)).mean(0, keepdim=True)
                noise = torch.rand(picture.shape, generator=rng, device=self.device)
                base = guide.image_features(random_views(noise, PROMPT_VIEWS, guide.size, rng)).mean(0, keepdim=True)
                d = f / f.norm() - base / base.norm()
            self._texts[key] = d / d.norm(dim=-1, keepdim=True).clamp(min=1e-6)
        return self._texts[key]

    def step(self, texts: Sequence[str], weights: Sequence[float], heat: Heat, lr: float, views: int,
             negative: str = "", negative_weight: float = 0.0, images: Sequence[ImagePrompt] = ()) -> StepResult:
        """One Adam step on the parametrization; queues device work only (no host sync). `images`
        are picture targets beside the text prompts (engine/inputs.py); texts may then be empty."""
        i = self.iteration % len(self.guides)
        guide = self.guides[i]
        self.adam.zero_grad()
        # A sketch race steps every candidate at once; each has its own loss, so its own gradient.
        racing = self.sketching and self.sketch.n_candidates > 1
        batch = self.param.candidates() if racing else self.param.image()
        picture = batch.index_select(0, self.sketch.chosen) if racing else batch   # rendered once
        seen = self._views(batch, views, guide, self.framing)
        losses, sims = self._prompt_loss(i, guide, seen, len(batch), texts, weights, negative, negative_weight, images)
        loss = losses.sum()
        if self.prev is not None and heat.stability > 0 and self.iteration % STABILITY_EVERY == 0:
            loss = loss + heat.stability * (picture - self.prev).abs().mean()
        loss.backward()
        self.adam.step(lr)
        self.param.constrain()
        self.iteration += 1
        if self.param is self.sketch and self.iteration == SKETCH_ITERATIONS:
            if self.sketch.n_candidates > 1:
                self._choose(texts, weights, negative, negative_weight, images)
            self._hand_over()
        loss = loss.detach()
        self._finite = self._finite & torch.isfinite(loss)
        self._last = StepResult(loss, sims.detach())
        return self._last

    def _views(self, batch: torch.Tensor, n: int, guide: Guide, framing: str) -> torch.Tensor:
        """`n` random views of each grid picture in `batch` (c, 3, *grid), upsampled to the frame:
        (c * n, 3, s, s), picture after picture, each with its own crops."""
        return torch.cat([random_views(self.upsample(p[None]), n, guide.size, self.rng, framing=framing)
                          for p in batch])

    def _prompt_loss(self, i: int, guide: Guide, views: torch.Tensor, n: int, texts: Sequence[str],
                     weights: Sequence[float], negative: str, negative_weight: float,
                     images: Sequence[ImagePrompt]) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 1 for `n` pictures seen through `views` (n * v, 3, s, s), v views each, in order:
        each picture's loss (n,) and the similarities per prompt averaged over pictures (n_prompts,)."""
        feats = guide.image_features(views).view(n, len(views) // n, -1)   # (n, v, d)
        if texts:
            sims = (feats @ self._text(i, guide, tuple(texts)).T).mean(1)   # (n, n_prompts)
        else:
            sims = feats.new_zeros(n, 0)
        # Weights enter as Python floats: a cross-fade moving every iteration copies nothing to the device.
        loss = -sum(float(w) * sims[:, k] for k, w in enumerate(weights))
        for prompt in images:
            loss = loss - prompt.weight * (feats @ self._image(i, guide, prompt).T).mean((1, 2))
        if negative and negative_weight > 0:
            loss = loss + negative_weight * (feats @ self._text(i, guide, (negative,)).T).mean((1, 2))
        return loss + feats.new_zeros(n), sims.mean(0)   # (n,) even with no text prompt or weight

    @torch.no_grad()
    def _choose(self, texts: Sequence[str], weights: Sequence[float], negative: str, negative_weight: float,
                images: Sequence[ImagePrompt]) -> None:
        """End of a sketch race: every guide looks at every candidate through CHOOSE_VIEWS views, half
        of the whole frame (layout: one disc, not one per crop) and half crops (detail), and the
        candidate with the lowest prompt loss is kept. Chosen on the device (no sync)."""
        batch = self.sketch.candidates()
        total = batch.new_zeros(len(batch))
        for i, guide in enumerate(self.guides):
            seen = self._views(batch, CHOOSE_VIEWS, guide, "mixed")
            total = total + self._prompt_loss(i, guide, seen, len(batch), texts, weights, negative, negative_weight,
                                              images)[0]
        self.sketch.choose(total.argmin())

    def frame_result(self) -> FrameResult:
        """The latest iteration's loss and similarities and the frame's NaN check, read back in one
        transfer (this waits for the device: call it when publishing, not every iteration)."""
        with torch.no_grad():
            finite = self._finite & torch.isfinite(self.param.image()).all()
            packed = torch.cat([self._last.loss.float().view(1), self._last.similarity.float(),
                                finite.float().view(1)]).tolist()
        return FrameResult(packed[0], packed[1:-1], packed[-1] == 1.0)

    def finish_frame(self, picture: torch.Tensor | None = None) -> None:
        """The frame is done: the next one starts from its picture, or from `picture` (1, 3, *grid)
        when given (the post-process's cleaned picture, fed back)."""
        with torch.no_grad():
            self.prev = (self.param.image() if picture is None else picture).clamp(0, 1)
