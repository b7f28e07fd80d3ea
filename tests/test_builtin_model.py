"""The shipped builtin models load through the engine's exact open_clip sequence and know colours;
the trainer's pieces (batches, text encoding, export) are deterministic and loadable."""
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F

from engine.builtin import train, world

WEIGHTS = Path(train.__file__).parent / "weights"
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def load_like_the_engine(directory: Path, name: str):
    open_clip.add_model_config(directory / f"{name}.json")
    model = open_clip.create_model(name, pretrained=str(directory / f"{name}.safetensors"))
    return model.eval(), open_clip.get_tokenizer(name)


def normalized(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    return (x - torch.tensor(OPENAI_MEAN).view(1, 3, 1, 1)) / torch.tensor(OPENAI_STD).view(1, 3, 1, 1)


@pytest.mark.parametrize("name", ["builtin", "builtin-b"])
def test_shipped_model_loads_and_names_colours(name):
    path = WEIGHTS / f"{name}.safetensors"
    assert path.stat().st_size < 20e6
    model, tok = load_like_the_engine(WEIGHTS, name)
    assert next(model.parameters()).dtype == torch.float32  # stored fp16, loaded as fp32
    assert tuple(model.visual.preprocess_cfg["mean"]) == OPENAI_MEAN
    size = model.visual.image_size
    assert size == 64
    scenes = world.sample_scenes(np.random.default_rng(31337), 60, n_objects=1)
    colour_only = world.Captions(np.ones(10, int), np.full((10, 2, 4), -1), np.full(10, -1))
    colour_only.obj[:, 0, 0] = np.arange(10)
    texts = world.caption_texts(colour_only)  # "a red shape", ..., "an orange shape", ...
    with torch.no_grad():
        img = F.normalize(model.encode_image(normalized(world.render(scenes, size))), dim=-1)
        txt = F.normalize(model.encode_text(tok(texts)), dim=-1)
    guess = (img @ txt.T).argmax(1).numpy()
    assert (guess == scenes.obj[:, 0, 0]).mean() >= 0.95


def test_batches_are_a_function_of_seed_and_step():
    tok = open_clip.get_tokenizer("RN50")
    a, b, c = (train.make_batch(3, s, 16, tok, 32) for s in (7, 7, 8))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], c[0])
    gen = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    assert torch.equal(train.augment(a[0], gen()), train.augment(a[0], gen()))
    assert torch.equal(train.augment(a[0], gen(), clean=1.0), (a[0] - train.MEAN) / train.STD)
    assert not torch.equal(train.augment(a[0], gen(), clean=0.0), (a[0] - train.MEAN) / train.STD)
    assert a[2].shape == (16 + 8, 16) and a[2][:16].diagonal().all()  # captions x pictures
    assert a[3].shape == (16, 5, 4)  # readout targets: per region colour, shape, size; background


def test_hard_negatives_change_one_attribute_and_never_name_a_held_out_pair():
    rng = np.random.default_rng(4)
    scenes = world.sample_scenes(rng, 3000)
    caps = world.describe(scenes, rng)
    neg = train.hard_negatives(caps, rng)
    changed = (neg.obj != caps.obj).sum((1, 2)) + (neg.bg != caps.bg)
    assert (changed == 1).all()
    held = world.held_out_mask()
    c, s = neg.obj[..., 0], neg.obj[..., 1]
    named = (c >= 0) & (s >= 0)
    assert not held[c[named], s[named]].any()
    # Colour and shape changes are common, so the rule above was really exercised.
    assert ((neg.obj[..., :2] != caps.obj[..., :2]).any(-1) & named).sum() > 1000


def test_trimmed_text_encoding_equals_open_clips():
    model, tok, _ = train.build("rn-b", seed=0)
    model.eval()
    tokens = tok(["a red circle", "a big blue square on the left and green stripes on a white background"])
    with torch.no_grad():
        assert torch.allclose(train.encode_text(model, tokens), F.normalize(model.encode_text(tokens), dim=-1),
                              atol=1e-5)


def test_two_training_steps_export_a_loadable_fp16_model(tmp_path):
    train.main(["--arch", "rn-b", "--steps", "2", "--batch", "8", "--out", "tiny",
                "--out-dir", str(tmp_path), "--no-probe"])
    model, tok = load_like_the_engine(tmp_path, "tiny")
    from safetensors.torch import load_file

    assert all(v.dtype == torch.float16 for v in load_file(tmp_path / "tiny.safetensors").values())
    with torch.no_grad():
        out = model.encode_image(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, 96) and torch.isfinite(out).all()


def test_a_run_stopped_early_keeps_its_schedule_and_resumes(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    common = ["--arch", "rn-b", "--steps", "4", "--batch", "8", "--out", "tiny", "--out-dir", str(tmp_path),
              "--no-probe", "--ckpt", str(ckpt)]
    train.main(common + ["--stop", "2"])
    state = torch.load(ckpt, weights_only=True)
    assert (state["step"], state["total"]) == (2, 4) and (tmp_path / "tiny.safetensors").is_file()
    train.main(common)
    assert torch.load(ckpt, weights_only=True)["step"] == 4


def test_the_robust_builtin_resists_a_small_pgd_attack_better_than_the_plain_one():
    """builtin is adversarially fine-tuned (MODEL_CARD.md); builtin-plain is the same model before.
    Same pictures, same captions, same PGD-5 attack at 4/255: the robust one must hold far more."""
    from engine.builtin.probe import load, robust_probe

    robust = robust_probe(*load("builtin"), eps=4 / 255, n=80, steps=5)
    plain = robust_probe(*load("builtin-plain"), eps=4 / 255, n=80, steps=5)
    assert robust["clean"] >= plain["clean"] - 0.05
    assert robust["pgd"] >= plain["pgd"] + 0.1, (robust, plain)


def test_adversarial_examples_stay_within_eps_and_raise_the_loss():
    model, tok = load_like_the_engine(WEIGHTS, "builtin")
    images, texts = world.batch(7, 8, 64)
    x = normalized(images)
    txt = F.normalize(model.encode_text(tok(texts)), dim=-1).detach()
    truth = torch.eye(8, dtype=torch.bool)
    scale = torch.tensor(30.0)
    eps = torch.full((8,), 8 / 255)
    eps[0] = 0
    adv = train.adversarial(model, x, txt, truth, scale, eps, torch.Generator().manual_seed(0))
    moved = ((adv - x) * train.STD).abs().amax((1, 2, 3))
    assert moved[0] < 1e-6 and (moved[1:] <= 8 / 255 + 1e-5).all() and (moved[1:] > 4 / 255).all()
    loss = lambda v: train.loss_fn(F.normalize(model.encode_image(v), dim=-1), txt, truth, scale).item()  # noqa: E731
    assert loss(adv) > loss(x)
