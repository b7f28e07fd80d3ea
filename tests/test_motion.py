"""Camera motion between frames (engine/motion.py), on known pictures, and in the generator."""
import pytest
import torch

from engine import FrameBus, Generator, GeneratorConfig, load_guide, make_store
from engine.motion import Camera, Motion, warp
from tests.conftest import TINY_MODEL


def dot(h=48, w=64, x=20, y=24):
    """A black picture with one soft white dot centred on pixel (x, y)."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    blob = torch.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * 1.5 ** 2))
    return blob.expand(1, 3, h, w).clone()


def centroid(picture):
    """(x, y) in pixels of the picture's brightness."""
    p = picture[0, 0]
    h, w = p.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    return float((p * xs).sum() / p.sum()), float((p * ys).sum() / p.sum())


def store_with(**motion):
    store = make_store()
    for k, v in motion.items():
        assert store.set(f"motion.{k}", v), k
    return store


@pytest.mark.parametrize("fps", [10.0, 2.0])
def test_a_dot_moves_the_same_pixels_per_second_whatever_the_generator_rate(fps):
    store = store_with(x=0.25, y=0.125, edge="edge")   # 64 px wide: 16 px right and 8 px down per second
    camera, picture = Camera(), dot()
    camera.start_frame(picture, store.snapshot(), 0.0)
    for k in range(1, int(fps) + 1):                    # one second of frames
        picture = camera.start_frame(picture, store.snapshot(), k / fps)
    x, y = centroid(picture)
    assert x == pytest.approx(20 + 16, abs=0.05) and y == pytest.approx(24 + 8, abs=0.05)


def test_zoom_one_and_rotation_zero_leave_a_frame_unchanged():
    picture = torch.rand(1, 3, 48, 64)
    assert torch.equal(warp(picture, Motion(), 0.7), picture)
    # the sampling path itself: a whole turn in one second samples every pixel where it was
    assert torch.allclose(warp(picture, Motion(rotate=360.0), 1.0), picture, atol=1e-4)


def test_ninety_degrees_per_second_for_one_second_turns_a_quarter():
    picture = torch.rand(1, 3, 40, 40)
    turned = warp(picture, Motion(rotate=90.0), 1.0)
    assert torch.allclose(turned, torch.rot90(picture, 1, dims=(2, 3)), atol=1e-4)   # counter-clockwise
    camera, store = Camera(), store_with(rotate=90.0)          # two frames of half a second
    camera.start_frame(None, store.snapshot(), 0.0)
    halves = camera.start_frame(camera.start_frame(dot(40, 40, x=30, y=20), store.snapshot(), 0.5),
                                store.snapshot(), 1.0)
    assert centroid(halves) == pytest.approx((20.0, 9.0), abs=0.05)   # centre (19.5, 19.5): right of it -> above it


def test_zoom_rate_is_per_second_and_the_flow_composes():
    m = Motion(zoom=2.0, rotate=30.0, x=0.1, tilt=0.2)
    assert m.flow(0.3) @ m.flow(0.7) == pytest.approx(m.flow(1.0))
    store = store_with(zoom=2.0, edge="edge")
    camera = Camera()
    camera.start_frame(dot(), store.snapshot(), 0.0)
    moved = camera.start_frame(dot(x=40, y=24), store.snapshot(), 1.0)   # 8.5 px right of the centre (31.5)
    assert centroid(moved)[0] == pytest.approx(31.5 + 17, abs=0.2)       # twice as far after 1 s at 2x/s


@pytest.mark.parametrize("edge", ["mirror", "wrap", "edge"])
def test_revealed_edges_are_filled_as_asked(edge):
    picture = torch.zeros(1, 3, 8, 16)
    picture[..., :, :2] = 1.0                  # a white left border
    moved = warp(picture, Motion(x=0.25, edge=edge), 1.0)     # 4 px right: 4 columns revealed on the left
    revealed = moved[0, 0, :, :4].mean(0)
    expected = {"mirror": [0.0, 0.0, 1.0, 1.0], "wrap": [0.0, 0.0, 0.0, 0.0], "edge": [1.0, 1.0, 1.0, 1.0]}[edge]
    assert revealed.tolist() == pytest.approx(expected, abs=1e-5)


def test_the_stability_term_pulls_toward_the_warped_previous_frame():
    store = make_store()
    store.set("prompt.1", "a red circle")
    for k, v in {"iterations": 2, "first_iterations": 2, "views": 2, "temperature": 0.0, "noise": 0.0}.items():
        assert store.set(k, v), k
    now = [0.0]
    gen = Generator(store, [load_guide(TINY_MODEL)], FrameBus(), GeneratorConfig(64, 48, 3), clock=lambda: now[0])
    while not (f := gen.step()) or not f.final:
        pass
    before = gen.opt.prev.clone()
    store.set("motion.x", 0.25)
    now[0] = 1.0
    gen.step()                                       # starts the next frame one second later
    expected = warp(before, Motion(x=0.25), 1.0)
    assert torch.equal(gen.opt.prev, expected)       # what the L1 term is measured against
    assert torch.allclose(gen.opt.start, expected)   # noise 0: the frame starts from it too
    assert not torch.allclose(expected, before, atol=0.05)


def test_positive_tilt_makes_the_top_recede_and_the_bottom_come_closer():
    flow = Motion(tilt=0.5).flow(1.0)
    top, bottom = flow @ [0.0, -0.2, 1.0], flow @ [0.0, 0.2, 1.0]   # centred coordinates, y down
    assert abs(top[1] / top[2]) < 0.2 < abs(bottom[1] / bottom[2])
