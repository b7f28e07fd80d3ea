"""The paper's per-frame loop as a running generator, with the tiny random model."""
import time

import numpy as np
import pytest
import torch

from engine import FrameBus, Generator, GeneratorConfig, load_guide, make_store
from engine.augment import random_views
from engine.temperature import heat
from tests.conftest import TINY_MODEL


def make(width=64, height=48, scale=1, seed=3, **params):
    store = make_store()
    store.set("prompt.1", "a red circle")
    store.set("prompt.2", "a blue square")
    for k, v in {"iterations": 2, "first_iterations": 2, "views": 2, **params}.items():
        assert store.set(k, v), k
    gen = Generator(store, [load_guide(TINY_MODEL)], FrameBus(), GeneratorConfig(width, height, seed, scale))
    return store, gen


def frames(gen, n):
    out = []
    while len(out) < n:
        f = gen.step()
        if f is not None and f.final:
            out.append(f)
    return out


def test_first_frame_starts_from_uniform_noise_in_unit_range():
    _, gen = make()
    gen.step()
    start = gen.opt.start
    assert start.shape == (1, 3, 48, 64)
    assert 0.0 <= start.min() and start.max() < 1.0
    assert abs(float(start.mean()) - 0.5) < 0.05 and abs(float(start.std()) - (1 / 12) ** 0.5) < 0.03
    assert gen.last_noise == 0.0


def test_later_frame_starts_from_the_previous_frame_plus_noise():
    store, gen = make(temperature=30.0)
    frames(gen, 1)
    prev = gen.opt.prev.clone()
    gen.step()                                   # starts frame 2
    delta = gen.opt.start - prev
    inside = (gen.opt.start > 0) & (gen.opt.start < 1)   # clamping only touches the edges
    sigma = heat(30.0).noise
    assert gen.last_noise == pytest.approx(sigma)
    assert float(delta[inside].std()) == pytest.approx(sigma, rel=0.15)
    assert abs(float(delta[inside].mean())) < sigma / 5
    assert np.corrcoef(prev.flatten(), gen.opt.start.flatten())[0, 1] > 0.8


def mean_change(temperature):
    _, gen = make(temperature=temperature, seed=11)
    fs = frames(gen, 5)
    return np.mean([np.abs(a.pixels.astype(float) - b.pixels.astype(float)).mean() for a, b in zip(fs[1:], fs[2:])])


def test_lower_temperature_gives_smaller_frame_to_frame_change():
    cold, warm, hot = mean_change(0.0), mean_change(40.0), mean_change(100.0)
    assert cold < warm < hot
    assert hot > 5 * cold


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (300, 900), (97, 61)])
def test_frames_come_out_at_the_asked_size_for_any_aspect_ratio(size):
    w, h = size
    _, gen = make(width=w, height=h, scale=4 if w * h > 400_000 else 1)
    f = frames(gen, 1)[0]
    assert f.pixels.shape == (h, w, 3) and f.pixels.dtype == np.uint8


def test_views_batch_has_the_model_input_size_for_any_frame():
    for h, w in [(720, 1280), (1280, 720), (300, 900)]:
        v = random_views(torch.rand(1, 3, h, w), 5, 32)
        assert v.shape == (5, 3, 32, 32)


def test_a_prompt_change_reaches_the_optimizer_at_the_next_iteration():
    store, gen = make(show_iterations=True, iterations=50, first_iterations=50)
    gen.step()
    seen = []
    guide = gen.opt.guides[0]
    original = guide.text_features
    guide.text_features = lambda texts: seen.append(list(texts)) or original(texts)
    store.set("prompt.1", "a green ring")
    f = gen.step()
    assert seen[0] == ["a green ring"] and f.stats["mix"][0][1] == "a green ring"
    store.set("crossfade", 0.25)
    f = gen.step()
    assert [(s, w) for s, _, w in f.stats["mix"]] == [(1, 0.75), (2, 0.25)]
    store.set("temperature", 0.0)
    gen.step()
    assert gen.opt.iteration == 4  # the same frame went on; the new heat applies from this iteration


def test_injected_nan_is_recovered_and_the_thread_keeps_publishing(caplog):
    store, gen = make()
    guide = gen.opt.guides[0]
    original = guide.image_features
    poisoned = {"left": 3}

    def sometimes_nan(views):
        f = original(views)
        if poisoned["left"] > 0:
            poisoned["left"] -= 1
            return f * float("nan")
        return f

    guide.image_features = sometimes_nan
    gen.start()
    try:
        first = gen.bus.wait_after(0, timeout=20, final_only=True)
        later = gen.bus.wait_after(first.seq + 2, timeout=20, final_only=True)
    finally:
        gen.stop()
    assert later is not None and later.index > first.index
    # NaNs are looked for once per published frame (2 iterations here): 3 poisoned iterations spoil
    # the first frame (iterations 1-2) and its restart (iteration 3; iteration 4 starts from NaNs).
    assert gen.errors == 2 and gen.running is False
    assert np.isfinite(gen.opt.prev.numpy()).all()
    assert "generator NaN" in caplog.text


def test_an_exception_in_an_iteration_is_counted_and_the_thread_survives():
    store, gen = make()
    guide = gen.opt.guides[0]
    original = guide.image_features
    calls = {"n": 0}

    def flaky(views):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")
        return original(views)

    guide.image_features = flaky
    gen.start()
    try:
        f = gen.bus.wait_after(2, timeout=20, final_only=True)
    finally:
        gen.stop()
    assert f is not None and gen.errors == 1


def test_pause_resume_reset_and_reseed():
    store, gen = make()
    frames(gen, 2)
    store.set("pause", True)
    assert gen.step() is None and gen.iterations == 4
    store.set("pause", False)
    seed = gen.seed
    store.trigger("reseed")
    store.trigger("reset")
    f = frames(gen, 1)[0]
    assert f.index == 0 and gen.seed != seed


def test_generator_thread_runs_until_stopped():
    store, gen = make()
    gen.start()
    time.sleep(0.5)
    assert gen.running and gen.bus.latest() is not None
    gen.stop()
    assert not gen.running


def test_a_smooth_start_is_mid_grey_with_coarse_noise_and_no_grain():
    store, gen = make()
    smooth = Generator(store, [load_guide(TINY_MODEL)], FrameBus(), GeneratorConfig(64, 48, 3, 1, start="smooth"))
    gen.step()
    smooth.step()
    grain = lambda x: float((x[..., 1:] - x[..., :-1]).abs().mean())  # noqa: E731  neighbour differences
    assert abs(float(smooth.opt.start.mean()) - 0.5) < 0.05
    assert grain(smooth.opt.start) < 0.2 * grain(gen.opt.start)
    with pytest.raises(ValueError, match="start must be one of uniform, smooth, shapes"):
        Generator(store, [load_guide(TINY_MODEL)], FrameBus(), GeneratorConfig(64, 48, 3, 1, start="grey"))
