"""The post-process (engine/post.py) keeps clean pictures as they are and cleans optimized frames."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.builtin import world
from engine.builtin.train_post import nearest_clean, optimized, painted_captions
from engine.models import load_guide
from engine.post import PostUnavailable, UNet, load_post
from vj.quality import cleanliness


@pytest.fixture(scope="module")
def post():
    return load_post("builtin-post")


def _world(seed: int, n: int, size: int, captions: bool = False):
    pictures, texts = world.batch(seed, n, size)
    x = torch.from_numpy(pictures).permute(0, 3, 1, 2).float() / 255
    return (x, texts) if captions else x


def _uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


def test_a_fresh_network_is_the_identity():
    x = _world(1, 2, 40)
    assert torch.allclose(UNet()(x), x.clamp(1e-3, 1 - 1e-3), atol=1e-5)


@pytest.mark.parametrize("widths", [(8, 16, 24), (8, 16, 24, 32)])
def test_the_u_net_takes_any_depth_and_frame_shape(widths):
    net = UNet(widths)
    x = torch.rand(1, 3, 45, 77)
    assert net(x).shape == x.shape and net.depth == len(widths) - 1
    with pytest.raises(ValueError, match="at least two widths"):
        UNet((8,))


def test_painted_pairs_map_to_the_nearest_clean_picture_the_caption_is_true_of():
    rng = np.random.default_rng(5)
    scenes, caps, texts = painted_captions(rng, 6)
    assert all(" " in t for t in texts) and (caps.obj[:, 0, :2] >= 0).all()   # colour and shape always said
    alt = world.alternatives(scenes, caps, np.random.default_rng(6), 16)
    assert world.truth(caps, alt).reshape(6, 6, 16)[np.arange(6), np.arange(6)].all()  # true of its own caption
    assert (alt.glow == 0).all() and (alt.bg_style == 0).all()                          # drawn flat
    # A frame that is one of the alternatives (plus noise) maps back to a picture near it.
    truth = torch.from_numpy(world.render(alt, 48)).float().div(255).permute(0, 3, 1, 2)[::16]
    frames = (truth + 0.1 * torch.randn(truth.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    near = nearest_clean(frames, scenes, caps, np.random.default_rng(6), k=16)
    assert (near - truth).abs().mean() < 0.02
    far = nearest_clean(frames.flip(-1), scenes, caps, np.random.default_rng(6), k=16)
    assert (far - truth).abs().mean() > (near - truth).abs().mean()


def test_world_pictures_stay_nearly_unchanged(post):
    x = _world(2024, 8, 96)  # a stream the post-process never trained on
    y = torch.cat([post(x[i:i + 1]) for i in range(len(x))])
    assert (y - x).abs().mean() < 0.05   # shipped weights: 0.036, about 9 levels of 255


def test_optimized_frames_come_out_cleaner_and_no_farther_from_their_picture(post):
    clean, texts = _world(2025, 8, 96, captions=True)
    # Frames as the default setup paints them (a pyramid), from world pictures not seen in training.
    frames = optimized(load_guide("builtin", "cpu", "fp32"), clean, texts, torch.Generator().manual_seed(3),
                       parametrization="pyramid", levels=6, level_lr=4.0)
    cleaned = torch.cat([post(frames[i:i + 1]) for i in range(len(frames))])
    before, after = cleanliness(_uint8(frames)), cleanliness(_uint8(cleaned))
    assert after["tv"] < 0.8 * before["tv"]            # shipped weights: about 0.67 of before
    assert (cleaned - clean).abs().mean() < (frames - clean).abs().mean()  # 0.229 against 0.233


def test_strength_blends_raw_and_cleaned(post):
    frame = torch.rand(1, 3, 48, 80)
    assert torch.equal(post(frame, 0.0), frame)
    full, half = post(frame, 1.0), post(frame, 0.5)
    assert torch.allclose(half, (frame + full) / 2, atol=1e-5)
    assert full.shape == frame.shape


def test_missing_weights_give_one_sentence(tmp_path):
    with pytest.raises(PostUnavailable, match="no .*json.*set \\[post\\] model"):
        load_post(str(tmp_path / "mine.json"))


def _tiny_post(tmp_path) -> "PostProcess":
    """A post-process that visibly changes pictures (a random, not zero, output layer)."""
    from engine.post import save_post

    torch.manual_seed(0)
    net = UNet((8, 8, 8))
    torch.nn.init.normal_(net.out.weight, std=0.5)
    net.out.bias.data = torch.tensor([1.0, -1.0, 0.5])  # a colour shift no one could miss
    save_post(net, (8, 8, 8), 24, "tiny-post", tmp_path)
    return load_post(str(tmp_path / "tiny-post.json"))


def _generator(post, feedback: bool = False, strength: float = 1.0):
    from engine import FrameBus, Generator, GeneratorConfig, make_store
    from tests.conftest import TINY_MODEL

    store = make_store()
    store.set("prompt.1", "a red circle")
    for k, v in {"iterations": 2, "first_iterations": 2, "views": 2, "post": strength}.items():
        assert store.set(k, v), k
    return Generator(store, [load_guide(TINY_MODEL)], FrameBus(), GeneratorConfig(64, 48, 1, 2), post, feedback)


def _next_final(gen):
    while True:
        f = gen.step()
        if f is not None and f.final:
            return f


def test_the_generator_publishes_the_cleaned_picture_at_its_strength(tmp_path):
    post = _tiny_post(tmp_path)
    for strength in (0.0, 0.5, 1.0):
        gen = _generator(post, strength=strength)
        frame = _next_final(gen)
        with torch.no_grad():
            raw = gen.opt.picture()
            expected = gen.opt.upsample(post(raw, strength))[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0)
        assert np.abs(frame.pixels.astype(int) - expected.numpy().astype(int)).max() <= 1, strength
        if strength == 0:
            assert torch.equal(post(raw, 0.0), raw)
        else:
            assert np.abs(frame.pixels.astype(int) - _uint8(gen.opt.image())[0].astype(int)).mean() > 10


def test_feedback_starts_the_next_frame_from_the_cleaned_picture(tmp_path):
    post = _tiny_post(tmp_path)
    for feedback in (False, True):
        gen = _generator(post, feedback)
        _next_final(gen)
        with torch.no_grad():
            raw = gen.opt.picture().clamp(0, 1)
        assert torch.allclose(gen.opt.prev, post(raw) if feedback else raw, atol=1e-6), feedback


def test_the_authors_cyclegan_generator_loads_from_its_state_dict(tmp_path):
    """A resnet_9blocks state dict with the CycleGAN code base's key names loads and runs."""
    from engine.post import CycleGANGenerator

    net = CycleGANGenerator()
    keys = set(net.state_dict())
    assert {"model.1.weight", "model.10.conv_block.1.weight", "model.10.conv_block.5.weight",
            "model.19.weight", "model.26.weight"} <= keys   # the layout of networks.ResnetGenerator
    torch.save(net.state_dict(), tmp_path / "latest_net_G_A.pth")
    post = load_post(f"{tmp_path / 'latest_net_G_A.pth'}@32")
    out = post(torch.rand(1, 3, 36, 64))
    assert out.shape == (1, 3, 36, 64) and 0 <= out.min() and out.max() <= 1
    with pytest.raises(PostUnavailable, match="@big is not a whole number of pixels"):
        load_post(f"{tmp_path / 'latest_net_G_A.pth'}@big")
    (tmp_path / "broken.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(PostUnavailable, match="not a CycleGAN resnet_9blocks generator"):
        load_post(str(tmp_path / "broken.pth"))
