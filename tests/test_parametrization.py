"""Parametrizations (pixels, pyramid, fourier, shapes x rgb, decorrelated), the sync-free iteration and
augmentations that reach the frame's edges. Model-free where possible, tiny model otherwise."""
import math

import pytest
import torch
import torch.nn.functional as F

from engine import FrameBus, Generator, GeneratorConfig, load_guide, make_store
from engine.adam import Adam
from engine.augment import random_views
from engine.optimizer import FrameOptimizer
from engine.parametrization import COLOURS, KINDS, Shapes, make_parametrization
from engine.temperature import heat
from tests.conftest import TINY_MODEL
from vj.setup import SetupError, parse_setup
from vj.show import build_show

VARIANTS = [(k, c) for k in KINDS for c in COLOURS]
GRIDS = [(k, c) for k, c in VARIANTS if k != "shapes"]   # every pixel free: any picture can be reached


def target(h=32, w=48) -> torch.Tensor:
    """A disc on a background with gradients across and down: (1, 3, h, w) in [0.1, 0.9]."""
    y, x = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    disc = ((x - 0.6) ** 2 + ((y - 0.5) * h / w) ** 2 < 0.2 ** 2).float()
    return torch.stack([0.1 + 0.8 * x, 0.1 + 0.8 * (1 - disc) * y, 0.2 + 0.7 * disc])[None]


@pytest.mark.parametrize("kind,colour", GRIDS)
def test_optimizing_toward_a_picture_reproduces_it(kind, colour):
    goal = target()
    p = make_parametrization(kind, (32, 48), colour)
    p.load(torch.full_like(goal, 0.5))
    adam = Adam(p.groups)
    for _ in range(200):
        adam.zero_grad()
        (p.image() - goal).pow(2).mean().backward()
        adam.step(0.05)
        p.constrain()
    with torch.no_grad():
        error = (p.image() - goal).abs().mean().item()
    assert error < 0.02, f"{kind}/{colour}: mean abs error {error:.4f}"


@pytest.mark.parametrize("kind,colour", VARIANTS)
def test_load_then_image_gives_the_picture_back(kind, colour):
    picture = torch.rand(1, 3, 21, 34, generator=torch.Generator().manual_seed(1))
    picture[..., 0, :] = 0.0                    # the range's ends too
    picture[..., -1, :] = 1.0
    p = make_parametrization(kind, (21, 34), colour)
    p.load(picture)
    with torch.no_grad():
        back = p.image()
    assert back.shape == picture.shape
    assert (back - picture).abs().max().item() < (1e-4 if colour == "rgb" else 1e-2)


@pytest.mark.parametrize("kind,colour", GRIDS)
def test_one_step_moves_the_picture_about_as_far_as_pixels_do(kind, colour):
    """The lr multipliers make lr mean the same step in picture space for every parametrization."""
    gen = torch.Generator().manual_seed(2)
    p = make_parametrization(kind, (45, 80), colour)
    p.load((0.5 + 0.1 * torch.randn(1, 3, 45, 80, generator=gen)).clamp(0, 1))
    before = p.image().detach().clone()
    smooth = F.interpolate(torch.randn(1, 3, 5, 8, generator=gen), size=(45, 80), mode="bicubic")
    (p.image() * smooth).sum().backward()
    Adam(p.groups).step(0.01)
    rms = (p.image().detach() - before).pow(2).mean().sqrt().item() / 0.01
    assert 0.5 < rms < 1.5, f"{kind}/{colour}: rms step {rms:.2f} lr"


def test_pyramid_levels_learn_faster_the_coarser_they_are():
    p = make_parametrization("pyramid", (48, 64), levels=4, level_lr=2.0)
    assert [tuple(t.shape[-2:]) for t, _ in p.groups] == [(48, 64), (24, 32), (12, 16), (6, 8)]
    rates = [r for _, r in p.groups]
    assert rates == pytest.approx([1 / 15, 2 / 15, 4 / 15, 8 / 15])


def tiny_optimizer(kind="pixels", colour="rgb", seed=0, **kw) -> FrameOptimizer:
    return FrameOptimizer([load_guide(TINY_MODEL)], 48, 32, seed=seed, parametrization=kind, colour=colour, **kw)


@pytest.mark.parametrize("kind,colour", VARIANTS)
def test_a_warm_start_continues_from_the_previous_frame(kind, colour):
    opt = tiny_optimizer(kind, colour)
    cold = heat(0.0)
    opt.start_frame(cold)
    for _ in range(3):
        opt.step(["a red circle"], [1.0], cold, 0.17, 2)
    opt.finish_frame()
    end = opt.prev.clone()
    assert end.shape == (1, 3, 32, 48) and 0 <= end.min() and end.max() <= 1
    opt.start_frame(cold)
    with torch.no_grad():
        start = opt.picture()
    assert (start - end).abs().mean().item() < 0.02     # noise std 0.01 at temperature 0
    assert (opt.start - end).abs().mean().item() < 0.02


@pytest.mark.parametrize("kind,start,sketches", [("pyramid", "smooth", 1), ("shapes", "uniform", 1),
                                                 ("pyramid", "shapes", 1), ("pyramid", "shapes", 3)])
def test_an_iteration_never_reads_from_the_device(monkeypatch, kind, start, sketches):
    """No item/tolist/float/bool/cpu/numpy on a tensor in start_frame or step: the device runs ahead
    (the shapes start's handover from sketch to painter included: after 3 iterations here; with a
    sketch race, the guide's choice of a sketch too)."""
    monkeypatch.setattr("engine.optimizer.SKETCH_ITERATIONS", 3)
    opt = tiny_optimizer(kind, "decorrelated", start=start, sketches=sketches)
    hot = heat(30.0)
    calls = []
    for name in ("item", "tolist", "__float__", "__bool__", "cpu", "numpy"):
        original = getattr(torch.Tensor, name)

        def counted(self, *a, _name=name, _original=original, **k):
            calls.append(_name)
            return _original(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, counted)
    opt.start_frame(hot)
    for i in range(10):
        opt.step(["a red circle", "a blue square"], [0.7, 0.3], hot, 0.17, 2, "blurry", 0.5)
        if i == 4:
            opt.finish_frame()
            opt.start_frame(hot)                        # a warm start: previous picture plus noise
    assert calls == []
    monkeypatch.undo()
    result = opt.frame_result()                         # the one read, once per published frame
    assert result.finite and len(result.similarity) == 2 and math.isfinite(result.loss)


@pytest.mark.parametrize("kind", ["pixels", "shapes"])
def test_a_nan_is_found_at_the_frame_result_and_restore_goes_back_to_the_last_good_picture(kind):
    opt = tiny_optimizer(kind)
    opt.start_frame(heat(30.0))
    opt.step(["a red circle"], [1.0], heat(30.0), 0.17, 2)
    opt.finish_frame()
    good = opt.prev.clone()
    opt.start_frame(heat(30.0))
    guide = opt.guides[0]
    original = guide.image_features
    guide.image_features = lambda v: original(v) * float("nan")
    opt.step(["a red circle"], [1.0], heat(30.0), 0.17, 2)
    guide.image_features = original
    opt.step(["a red circle"], [1.0], heat(30.0), 0.17, 2)
    assert not opt.frame_result().finite
    opt.restore()
    assert (opt.picture().detach() - good).abs().max().item() < 1e-5   # shapes: back to finite shapes too
    opt.step(["a red circle"], [1.0], heat(30.0), 0.17, 2)
    assert opt.frame_result().finite


def feed(h: int, w: int, reflect: bool = True, iterations: int = 100, framing: str = "crops") -> tuple[torch.Tensor, torch.Tensor]:
    """How much each column and each row of an (h, w) frame feeds the guide: the gradient of the
    views' sum, over `iterations` x 8 views, relative to the frame's middle fifth."""
    gen = torch.Generator().manual_seed(0)
    cols, rows = torch.zeros(w), torch.zeros(h)
    for _ in range(iterations):
        frame = torch.full((1, 3, h, w), 0.5, requires_grad=True)
        random_views(frame, 8, 32, gen, reflect=reflect, framing=framing).sum().backward()
        cols += frame.grad[0].sum((0, 1))
        rows += frame.grad[0].sum((0, 2))
    return cols / cols[2 * w // 5:3 * w // 5].mean(), rows / rows[2 * h // 5:3 * h // 5].mean()


def outer(profile: torch.Tensor) -> float:
    """Mean of the outer 5% on each side."""
    k = max(1, round(0.05 * len(profile)))
    return torch.cat([profile[:k], profile[-k:]]).mean().item()


@pytest.mark.parametrize("size", [(48, 64), (45, 80), (80, 45)])
def test_the_edges_reach_the_guide_as_often_as_the_centre(size):
    cols, rows = feed(*size, reflect=True)
    assert outer(cols) >= 0.7 and outer(rows) >= 0.7, (outer(cols), outer(rows))
    old_cols, old_rows = feed(*size, reflect=False)     # crops kept inside the frame: edges starve
    assert outer(old_cols) < 0.7 and outer(old_rows) < 0.7, (outer(old_cols), outer(old_rows))


@pytest.mark.parametrize("size", [(48, 64), (45, 80), (80, 45)])
def test_whole_views_feed_the_edges_too(size):
    cols, rows = feed(*size, iterations=30, framing="whole")
    assert outer(cols) >= 0.7 and outer(rows) >= 0.7, (outer(cols), outer(rows))


@pytest.mark.parametrize("h,w", [(45, 80), (80, 45)])
def test_whole_views_show_every_corner_of_the_frame_and_crops_do_not(h, w):
    """A mark in each corner of the frame is in every whole view (zoom, shift and skew are small);
    the authors' crops of a 16:9 or 9:16 frame miss some corner in most views."""
    frame = torch.zeros(1, 3, h, w)
    k = min(h, w) // 4
    for ys in (slice(0, k), slice(h - k, h)):
        for xs in (slice(0, k), slice(w - k, w)):
            frame[..., ys, xs] = 1.0
    corners = lambda v: torch.stack([v[:, :, :16, :16].amax((1, 2, 3)), v[:, :, :16, 16:].amax((1, 2, 3)),  # noqa: E731
                                     v[:, :, 16:, :16].amax((1, 2, 3)), v[:, :, 16:, 16:].amax((1, 2, 3))], 1)
    gen = torch.Generator().manual_seed(1)
    whole = random_views(frame, 32, 32, gen, noise=(0.0, 0.0), framing="whole")
    crops = random_views(frame, 32, 32, gen, noise=(0.0, 0.0), reflect=False)
    assert (corners(whole) > 0.2).all()                            # each quarter of every view holds a corner
    assert (corners(crops) > 0.2).all(1).float().mean() < 0.5


def test_an_unknown_framing_is_one_sentence():
    with pytest.raises(ValueError, match="framing must be one of crops, whole, mixed, got 'zoom'"):
        random_views(torch.rand(1, 3, 20, 30), 2, 16, framing="zoom")


def test_views_get_noise_drawn_on_the_frames_device_and_stay_one_batch():
    frame = torch.full((1, 3, 40, 60), 0.5)
    quiet = random_views(frame, 6, 32, torch.Generator().manual_seed(0), noise=(0.0, 0.0))
    noisy = random_views(frame, 6, 32, torch.Generator().manual_seed(0), noise=(0.05, 0.05))
    assert quiet.shape == noisy.shape == (6, 3, 32, 32)
    assert torch.allclose(quiet, torch.full_like(quiet, 0.5), atol=1e-6)
    assert (noisy - 0.5).std().item() == pytest.approx(0.05, rel=0.1)


@pytest.mark.parametrize("kind,colour", VARIANTS)
def test_the_generator_paints_with_every_parametrization(kind, colour):
    store = make_store()
    store.set("prompt.1", "a red circle")
    for k, v in {"iterations": 2, "first_iterations": 2, "views": 2}.items():
        store.set(k, v)
    gen = Generator(store, [load_guide(TINY_MODEL)], FrameBus(),
                    GeneratorConfig(64, 48, 3, 2, parametrization=kind, colour=colour))
    done = []
    while len(done) < 2:
        f = gen.step()
        if f is not None and f.final:
            done.append(f)
    assert done[-1].pixels.shape == (48, 64, 3) and gen.errors == 0
    assert gen.opt.picture().shape == (1, 3, 24, 32)


@pytest.mark.parametrize("key,value,says", [
    ("parametrization", "fft", "generator.parametrization must be one of pixels, pyramid, fourier, shapes, got 'fft'."),
    ("colour", "lab", "generator.colour must be one of rgb, decorrelated, got 'lab'."),
    ("levels", 0, "generator.levels must be in 1..8"),
    ("level_lr", "fast", "generator.level_lr must be a number"),
])
def test_a_bad_generator_key_is_one_clear_sentence(key, value, says):
    with pytest.raises(SetupError, match="^<s>: " + says.replace(".", r"\.").replace("(", r"\(")):
        parse_setup({"generator": {key: value}}, "<s>")


def test_the_setup_reaches_the_optimizer():
    setup = parse_setup({"model": {"name": TINY_MODEL, "fallback": False},
                         "generator": {"width": 32, "height": 24, "parametrization": "pyramid",
                                       "colour": "decorrelated", "levels": 3, "level_lr": 3.0}}, "<s>")
    opt = build_show(setup).generator.opt
    assert type(opt.param).__name__ == "Pyramid" and opt.param.colour == "decorrelated"
    assert [r for _, r in opt.param.groups] == pytest.approx([opt.param.head_gain * 3 ** k / 13 for k in range(3)])


def test_the_sketch_race_is_set_in_the_setup():
    setup = parse_setup({"model": {"name": TINY_MODEL, "fallback": False},
                         "generator": {"width": 32, "height": 24, "start": "shapes", "sketches": 4}}, "<s>")
    assert build_show(setup).generator.opt.sketch.n_candidates == 4
    with pytest.raises(SetupError, match="sketches"):
        parse_setup({"generator": {"sketches": 0}}, "<s>")


# -- shapes ---------------------------------------------------------------------------------------
def shapes_at(centres, radii, kinds, colours, background, grid=(48, 64)) -> Shapes:
    """A Shapes parametrization holding exactly these shapes (kinds: index into disc, box, triangle)."""
    p = Shapes(grid, count=len(centres))
    with torch.no_grad():
        p.tensors["centre"].copy_(torch.tensor(centres))
        p.tensors["radius"].copy_(torch.tensor(radii).log())
        p.tensors["kind"].copy_(F.one_hot(torch.tensor(kinds), len(Shapes.KIND_NAMES)).float() * 6 - 3)
        p.tensors["colour"].copy_(torch.logit(torch.tensor(colours)))
        p.tensors["background"].copy_(torch.logit(torch.tensor(background)))
    return p


def test_shapes_reproduce_a_picture_of_shapes_when_optimized_toward_it():
    """From shapes in the wrong places, sizes, kinds and colours, an L2 loss finds the picture:
    gradients reach every kind of tensor through the soft edges."""
    goal = shapes_at([[0.3, 0.5], [0.7, 0.4]], [[0.18, 0.18], [0.08, 0.25]], [0, 1],
                     [[0.9, 0.1, 0.1], [0.9, 0.9, 0.1]], [0.1, 0.2, 0.8]).image().detach()
    p = shapes_at([[0.4, 0.6], [0.6, 0.5]], [[0.12, 0.12], [0.12, 0.12]], [2, 2],
                  [[0.5, 0.5, 0.5], [0.3, 0.3, 0.3]], [0.5, 0.5, 0.5])
    before = (p.image() - goal).abs().mean().item()
    adam = Adam(p.groups)
    for _ in range(300):
        adam.zero_grad()
        (p.image() - goal).pow(2).mean().backward()
        adam.step(0.17)
        p.constrain()
    error = (p.image() - goal).abs().mean().item()
    assert error < 0.03 and error < before / 5, (before, error)
    assert torch.softmax(p.tensors["kind"], 1).argmax(1).tolist() == [0, 1]   # a disc and a box again


def test_a_stretched_shape_has_edges_as_sharp_as_a_round_one():
    """Signed distances are in frame units whatever the stretch: the soft band across a long
    ellipse's end is as narrow as across its side (dividing by the gradient's length)."""
    p = shapes_at([[0.5, 0.5]], [[0.35, 0.06]], [0], [[1.0 - 1e-4, 1e-4, 1e-4]], [1e-4, 1e-4, 1e-4],
                  grid=(400, 400))
    red = p.image().detach()[0, 0]
    band = lambda line: ((line > 0.1) & (line < 0.9)).sum().item()   # noqa: E731  pixels in the soft band
    across_end, across_side = band(red[200, :]), band(red[:, 200])
    assert across_end <= across_side + 2, (across_end, across_side)


def test_the_first_frame_scatters_shapes_with_soft_edges_that_sharpen():
    p = make_parametrization("shapes", (36, 64), shapes=5)
    p.first(torch.rand(1, 3, 36, 64), torch.Generator().manual_seed(3))
    assert p.softness() == pytest.approx(Shapes.SOFTNESS_FIRST)
    centres = p.tensors["centre"].detach()
    assert ((0 <= centres) & (centres <= 1)).all() and centres.std() > 0.1
    assert p.residual.abs().max().item() == 0
    for _ in range(8 * Shapes.ANNEAL):
        p.constrain()
    assert p.softness() == pytest.approx(Shapes.SOFTNESS, rel=0.05)


def test_warm_starts_jitter_the_shapes_by_temperature_and_fade_what_was_loaded():
    p = make_parametrization("shapes", (36, 64), shapes=6)
    rng = torch.Generator().manual_seed(4)
    p.first(torch.zeros(1, 3, 36, 64), rng)
    loaded = (p.image().detach() + 0.2 * torch.randn(1, 3, 36, 64, generator=rng)).clamp(0, 1)
    p.load(loaded)                                   # an input blended in: exact, in the residual
    assert (p.image().detach() - loaded).abs().max().item() < 1e-5
    residual = p.residual.abs().mean().item()
    moved = {}
    for amount in (0.01, 0.1, 1.0):
        before = p.tensors["centre"].detach().clone()
        p.warm_start(p.image().detach(), torch.zeros(1, 3, 36, 64), amount, rng)
        moved[amount] = (p.tensors["centre"].detach() - before).pow(2).mean().sqrt().item()
    assert p.residual.abs().mean().item() < residual * 0.5 ** 3 * 1.5   # kept RESIDUAL_KEEP each start
    assert moved[0.01] < moved[0.1] < moved[1.0]
    assert moved[1.0] == pytest.approx(Shapes.JITTER["centre"], rel=0.5)


def test_a_shapes_start_composes_the_first_frame_from_shapes_and_the_painter_carries_it_on():
    opt = tiny_optimizer("pyramid", start="shapes")
    cold = heat(0.0)
    opt.start_frame(cold)
    assert opt.param is opt.sketch and opt.sketch.residual.abs().max().item() == 0   # shapes, no pixels
    for _ in range(3):
        opt.step(["a red circle"], [1.0], cold, 0.17, 2)
    opt.finish_frame()
    sketched = opt.prev.clone()
    opt.start_frame(cold)
    assert opt.param is opt.painter
    with torch.no_grad():
        assert (opt.picture() - sketched).abs().mean().item() < 0.02   # the pyramid starts from the sketch
    shapes_before = opt.sketch.tensors["centre"].detach().clone()
    opt.step(["a red circle"], [1.0], cold, 0.17, 2)
    with torch.no_grad():
        assert (opt.picture() - opt.start).abs().max().item() > 0      # the painter moves now ...
    assert torch.equal(opt.sketch.tensors["centre"], shapes_before)   # ... and the sketch rests
    opt.reset()
    opt.start_frame(cold)
    assert opt.param is opt.sketch                                     # every reset sketches anew


def test_a_shapes_start_hands_the_first_frame_over_to_the_painter_within_the_frame():
    """After SKETCH_ITERATIONS the painter loads the sketch's picture and finishes the first frame,
    so the first published frame already has the painter's surface."""
    from engine.optimizer import SKETCH_ITERATIONS

    opt = tiny_optimizer("pyramid", start="shapes")
    cold = heat(0.0)
    opt.start_frame(cold)
    for _ in range(SKETCH_ITERATIONS - 1):
        opt.step(["a red circle"], [1.0], cold, 0.17, 1)
    assert opt.sketching
    opt.step(["a red circle"], [1.0], cold, 0.17, 1)     # the sketch's last step, then the handover
    with torch.no_grad():
        sketched = opt.sketch.image().clone()
    assert opt.param is opt.painter and not opt.sketching and opt.iteration == SKETCH_ITERATIONS
    with torch.no_grad():
        assert (opt.picture() - sketched).abs().max().item() < 1e-4


def test_shapes_follow_the_camera_as_the_picture_does():
    """Under camera motion (zoom, rotation, a pan) the shapes move as the warped picture does, so
    nothing is left behind in the residual to ghost."""
    from engine.motion import Motion, warp

    p = shapes_at([[0.35, 0.45], [0.65, 0.55]], [[0.12, 0.06], [0.08, 0.1]], [1, 2],
                  [[0.9, 0.1, 0.1], [0.9, 0.9, 0.1]], [0.1, 0.2, 0.8], grid=(90, 160))
    with torch.no_grad():
        picture = p.shapes().clone()
    motion = Motion(zoom=1.3, rotate=25.0, x=0.05, y=-0.03)
    warped = warp(picture, motion, 0.5)
    centre = (slice(None), slice(None), slice(20, 70), slice(40, 120))      # away from revealed edges
    still = (picture - warped)[centre].abs().mean().item()
    p.follow(motion, 0.5)
    with torch.no_grad():
        followed = (p.shapes() - warped)[centre].abs().mean().item()
    assert followed < 0.01 and followed < still / 5, (followed, still)


def test_sketch_candidates_are_independent_compositions():
    """A race of 3: each candidate is its own picture, a loss on one moves only its own shapes,
    and `choose` makes another one the picture (image, load and warm starts follow it)."""
    p = Shapes((36, 64), count=4, candidates=3)
    p.first(torch.zeros(1, 3, 36, 64), torch.Generator().manual_seed(1))
    every = p.candidates()
    assert every.shape == (3, 3, 36, 64)
    assert (every[0] - every[1]).abs().mean().item() > 0.02                 # scattered apart
    every[1].sum().backward()
    rows = p.tensors["centre"].grad.abs().sum(1)
    assert rows[4:8].min() > 0 and rows[:4].max() == 0 and rows[8:].max() == 0
    assert p.tensors["background"].grad[1].abs().sum() > 0 and p.tensors["background"].grad[[0, 2]].abs().sum() == 0
    with torch.no_grad():
        assert (p.image() - every[0:1]).abs().max().item() < 1e-6
        p.choose(torch.tensor(2))
        assert (p.image() - every[2:3]).abs().max().item() < 1e-6
        target = torch.rand(1, 3, 36, 64)
        p.load(target)
        assert (p.image() - target).abs().max().item() < 1e-5


def test_a_sketch_race_keeps_the_candidate_the_guide_reads_as_the_prompt():
    """Three candidates, one of them a red disc on blue: after the race the builtin guide keeps that
    one (seen whole and in crops) and the painter carries it on."""
    opt = FrameOptimizer([load_guide("builtin")], 160, 90, scale=4, parametrization="pyramid", start="shapes",
                         sketches=3)
    opt.start_frame(heat(0.0))
    s = opt.sketch
    with torch.no_grad():   # one disc each: green on yellow, red on blue (the prompt), white on black
        for name, rows in (("centre", [[0.5, 0.5]] * 3), ("radius", [[-1.8, -1.8]] * 3), ("kind", [[6] + [0] * (len(Shapes.KIND_NAMES) - 1)] * 3),
                           ("colour", [[-4, 4, -4], [4, -4, -4], [4, 4, 4]])):
            t = s.tensors[name].view(3, s.count, -1)
            t.copy_(torch.tensor(rows, dtype=torch.float32).view(3, 1, -1))
        s.tensors["radius"].view(3, s.count, 2)[:, 1:] = -6.0                 # the other shapes vanish
        s.tensors["background"].copy_(torch.tensor([[4, 4, -4], [-4, -4, 4], [-4, -4, -4]], dtype=torch.float32))
        s.steps = 10**6
        expected = s.candidates()[1:2].clone()
    opt._choose(["a big red circle on a blue background"], [1.0], "", 0.0, ())
    opt._hand_over()
    with torch.no_grad():
        assert (opt.picture() - expected).abs().max().item() < 1e-4
