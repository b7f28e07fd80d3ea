"""Posterize (engine/posterize.py): frames in a few flat colours with smooth borders."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import FrameBus, Generator, GeneratorConfig, load_guide, make_store
from engine.builtin import world
from engine.posterize import Posterizer, posterize
from tests.conftest import TINY_MODEL
from vj.quality import cleanliness


def _uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


def _one_object(seed: int, n: int, size: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    scenes = world.sample_scenes(rng, n, n_objects=1, pairs="any")
    scenes = world.Scenes(scenes.n_obj, scenes.obj, scenes.bg, scenes.rgb, scenes.bg_rgb, scenes.xy, scenes.radius,
                          scenes.angle, 0 * scenes.shade, 0 * scenes.glow, 0 * scenes.bg_style)  # flat: two colours
    return torch.from_numpy(world.render(scenes, size)).permute(0, 3, 1, 2).float() / 255


def test_a_grainy_two_colour_picture_comes_back_flat_and_in_place():
    clean = _one_object(3, 6, 96)
    grain = torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    noisy = (clean + 0.25 * grain).clamp(0, 1)
    flat = posterize(noisy, 2)
    assert (flat - clean).abs().mean() < 0.03 < (noisy - clean).abs().mean()
    assert cleanliness(_uint8(flat))["tv"] < 1.5 * cleanliness(_uint8(clean))["tv"] < cleanliness(_uint8(noisy))["tv"]


def test_a_frame_has_at_most_k_colours_away_from_its_borders_and_any_shape_works():
    coarse = torch.rand(1, 3, 4, 6, generator=torch.Generator().manual_seed(1))
    frame = torch.nn.functional.interpolate(coarse, size=(45, 77), mode="bicubic", align_corners=False).clamp(0, 1)
    flat = posterize(frame, 3)
    assert flat.shape == frame.shape
    colours = {tuple(c) for c in _uint8(flat)[0].reshape(-1, 3)}
    inner = np.unique(_uint8(flat)[0].reshape(-1, 3), axis=0, return_counts=True)[1]
    assert np.sort(inner)[::-1][:3].sum() > 0.8 * 45 * 77 and len(colours) > 3   # 3 flat colours, soft borders


def test_it_is_deterministic_so_still_frames_do_not_flicker():
    frame = torch.rand(1, 3, 60, 60, generator=torch.Generator().manual_seed(2))
    assert torch.equal(posterize(frame, 4), posterize(frame.clone(), 4))


def test_a_stream_keeps_its_colours_while_the_picture_hardly_changes():
    coarse = torch.rand(1, 3, 5, 8, generator=torch.Generator().manual_seed(4))
    frame = torch.nn.functional.interpolate(coarse, size=(72, 128), mode="bicubic", align_corners=False).clamp(0, 1)
    stream = Posterizer()
    first = stream(frame, 3)
    assert (stream(frame, 3) - first).abs().mean() < 0.005   # the same frame again: the same picture
    changes = []
    for seed in range(6):
        nudged = (frame + 0.03 * torch.randn(frame.shape, generator=torch.Generator().manual_seed(seed))).clamp(0, 1)
        changes.append((stream(nudged, 3) - first).abs().mean().item())
    assert max(changes) < 0.02
    assert stream.palette.shape == (3, 3)
    stream.reset()
    assert stream.palette is None


def test_fewer_than_two_colours_is_one_sentence():
    with pytest.raises(ValueError, match="at least 2 colours, got 1"):
        posterize(torch.rand(1, 3, 20, 20), 1)


def test_the_generator_publishes_posterized_frames_at_the_post_strength():
    guide = load_guide(TINY_MODEL)   # one guide for all three runs: the tiny model is random per load

    def published(**params):
        store = make_store()
        store.set("prompt.1", "a red circle")
        for k, v in {"iterations": 2, "first_iterations": 2, "views": 2, **params}.items():
            assert store.set(k, v), k
        gen = Generator(store, [guide], FrameBus(), GeneratorConfig(64, 48, 3, 1, start="uniform"))
        while (f := gen.step()) is None or not f.final:
            pass
        return f.pixels, _uint8(Posterizer()(gen.opt.picture().detach(), 3))[0]

    raw, _ = published()
    flat, expected = published(**{"post.colours": 3})
    off, _ = published(**{"post.colours": 3, "post": 0.0})
    assert np.abs(flat.astype(int) - expected).max() <= 1        # the published frame is the posterized picture
    assert np.array_equal(off, raw)                               # post 0: the raw optimized frame
    assert cleanliness(flat[None])["tv"] < 0.5 * cleanliness(raw[None])["tv"]
