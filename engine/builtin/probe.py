"""Measure what a builtin model knows:  python -m engine.builtin.probe builtin  (or a config .json)

On freshly generated pictures (seed 2024 unless told, never a training seed's stream), each probe
asks the model to pick the true caption among captions that differ in one attribute only:

  colour        10-way  "a {colour} {shape}"             one object, the shape said correctly
  shape          6-way  "a {colour} {shape}"             the colour said correctly
  position       5-way  "a {colour} {shape} {where}"
  size           2-way  "a {size} {colour} {shape}"
  background    10-way  "a {colour} {shape} on a {bg} background"
  held_out      60-way  colour x shape, on pictures of the colour+shape pairs kept out of training
  binding        2-way  two objects: "a red circle and a blue square" vs colours swapped
  retrieval     top-1 image-to-caption among 256 pictures' full captions (counted right when the
                chosen caption is true of the picture)

`*_aug` repeats colour and shape on pictures augmented the way the optimizer's views are, half
of them blended with noise. Prints JSON (fractions of 1).
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import world
from .views import MEAN, STD, augment

WEIGHTS = Path(__file__).parent / "weights"


def load(spec: str):
    """Model and tokenizer by the engine's exact sequence; spec is 'builtin', 'builtin-b' or a .json."""
    import open_clip

    config = Path(spec) if spec.endswith(".json") else WEIGHTS / f"{spec}.json"
    open_clip.add_model_config(config)
    model = open_clip.create_model(config.stem, pretrained=str(config.with_suffix(".safetensors")))
    return model.eval(), open_clip.get_tokenizer(config.stem)


@torch.no_grad()
def _images(model, scenes: world.Scenes, size: int, aug_seed: int | None = None) -> torch.Tensor:
    x = torch.from_numpy(world.render(scenes, size)).permute(0, 3, 1, 2).float() / 255
    feats = []
    for i in range(0, len(x), 250):
        chunk = x[i:i + 250]
        if aug_seed is None:
            chunk = (chunk - MEAN) / STD
        else:
            chunk = augment(chunk, torch.Generator().manual_seed(aug_seed + i))
        feats.append(F.normalize(model.encode_image(chunk), dim=-1))
    return torch.cat(feats)


@torch.no_grad()
def _texts(model, tokenizer, caps: list[tuple]) -> torch.Tensor:
    """Text features of single-object captions given as (colour, shape, size, position, bg) tuples."""
    n = len(caps)
    c = world.Captions(np.ones(n, int), np.full((n, 2, 4), -1), np.array([t[4] for t in caps]))
    c.obj[:, 0] = [t[:4] for t in caps]
    texts = world.caption_texts(c)
    return torch.cat([F.normalize(model.encode_text(tokenizer(texts[i:i + 500])), dim=-1)
                      for i in range(0, n, 500)])


def _pick(img: torch.Tensor, txt: torch.Tensor, choices: np.ndarray) -> np.ndarray:
    """For each picture i, the index (into its row of `choices`) of the best caption."""
    sims = (img[:, None, :] * txt[torch.from_numpy(choices)]).sum(-1)
    return sims.argmax(1).numpy()


@torch.no_grad()
def probe(model, tokenizer, seed: int = 2024, n: int = 1000, augmented: bool = True) -> dict:
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    rng = np.random.default_rng(seed)
    C, S, Z, P = len(world.COLOURS), len(world.SHAPES), len(world.SIZES), len(world.POSITIONS)
    # Every single-object caption the probes need, with an index to find it.
    table = {}
    for c, s in itertools.product(range(C), range(S)):
        table[(c, s, -1, -1, -1)] = None
        for z in range(Z):
            table[(c, s, z, -1, -1)] = None
        for p in range(P):
            table[(c, s, -1, p, -1)] = None
        for b in range(C):
            table[(c, s, -1, -1, b)] = None
    keys = list(table)
    index = {k: i for i, k in enumerate(keys)}
    txt = _texts(model, tokenizer, keys)
    out = {}

    def one_attribute(scenes, vary, feats=None):
        o = scenes.obj[:, 0]
        feats = _images(model, scenes, size) if feats is None else feats
        if vary == "colour":
            choices = np.array([[index[(c, s, -1, -1, -1)] for c in range(C)] for s in o[:, 1]])
            truth = o[:, 0]
        elif vary == "shape":
            choices = np.array([[index[(c, s, -1, -1, -1)] for s in range(S)] for c in o[:, 0]])
            truth = o[:, 1]
        elif vary == "position":
            choices = np.array([[index[(c, s, -1, p, -1)] for p in range(P)] for c, s in o[:, :2]])
            truth = o[:, 3]
        elif vary == "size":
            choices = np.array([[index[(c, s, z, -1, -1)] for z in range(Z)] for c, s in o[:, :2]])
            truth = o[:, 2]
        elif vary == "background":
            choices = np.array([[index[(c, s, -1, -1, b)] for b in range(C)] for c, s in o[:, :2]])
            truth = scenes.bg
        else:  # colour and shape together
            choices = np.tile(np.array([index[(c, s, -1, -1, -1)] for c in range(C) for s in range(S)]), (len(o), 1))
            truth = o[:, 0] * S + o[:, 1]
        return float((_pick(feats, txt, choices) == truth).mean())

    single = world.sample_scenes(rng, n, n_objects=1)
    feats = _images(model, single, size)
    for vary in ("colour", "shape", "position", "size", "background"):
        out[vary] = one_attribute(single, vary, feats)
    held = world.sample_scenes(rng, n, pairs="held_out")
    out["held_out"] = one_attribute(held, "pair")
    out["held_out_shape"] = one_attribute(held, "shape")
    if augmented:
        aug = _images(model, single, size, aug_seed=seed)
        out["colour_aug"] = one_attribute(single, "colour", aug)
        out["shape_aug"] = one_attribute(single, "shape", aug)
    out["binding"] = _binding(model, tokenizer, rng, n, size)
    out["retrieval"] = _retrieval(model, tokenizer, rng, size)
    out["n"] = n
    out["seed"] = seed
    return out


@torch.no_grad()
def _binding(model, tokenizer, rng, n: int, size: int) -> float:
    scenes = world.sample_scenes(rng, n, n_objects=2)
    caps = world.describe(scenes, rng, full=True)
    caps.obj[:, :, 2:] = -1
    caps.bg[:] = -1
    swapped = world.Captions(caps.n_obj, caps.obj.copy(), caps.bg)
    swapped.obj[:, 0, 0], swapped.obj[:, 1, 0] = caps.obj[:, 1, 0], caps.obj[:, 0, 0]
    img = _images(model, scenes, size)
    a = F.normalize(model.encode_text(tokenizer(world.caption_texts(caps))), dim=-1)
    b = F.normalize(model.encode_text(tokenizer(world.caption_texts(swapped))), dim=-1)
    return float(((img * a).sum(-1) > (img * b).sum(-1)).float().mean())


@torch.no_grad()
def _retrieval(model, tokenizer, rng, size: int, n: int = 256) -> float:
    scenes = world.sample_scenes(rng, n)
    caps = world.describe(scenes, rng, full=True)
    img = _images(model, scenes, size)
    txt = F.normalize(model.encode_text(tokenizer(world.caption_texts(caps))), dim=-1)
    best = (img @ txt.T).argmax(1).numpy()
    return float(world.truth(caps, scenes)[best, np.arange(n)].mean())


def pgd(model, pixels: torch.Tensor, txt: torch.Tensor, truth: torch.Tensor, eps: float, steps: int = 10,
        seed: int = 0) -> torch.Tensor:
    """PGD-k (Madry et al. 2018) in L-inf on [0, 1] pixels (n, 3, S, S): random start, `steps` signed
    gradient steps of 2.5 eps / steps, each projected back into the eps ball and [0, 1], maximising
    the cross-entropy of picking caption `truth[i]` among the rows of `txt` (C, d) at logit scale 100.
    `steps` 1 is FGSM: no random start, one step of eps."""
    gen = torch.Generator().manual_seed(seed)
    delta = torch.zeros_like(pixels) if steps == 1 else (torch.rand(pixels.shape, generator=gen) * 2 - 1) * eps
    size = eps if steps == 1 else 2.5 * eps / steps
    for _ in range(steps):
        delta.requires_grad_(True)
        feats = F.normalize(model.encode_image(((pixels + delta).clamp(0, 1) - MEAN) / STD), dim=-1)
        grad, = torch.autograd.grad(F.cross_entropy(100 * feats @ txt.T, truth), delta)
        delta = (delta.detach() + size * grad.sign()).clamp(-eps, eps)
    return (pixels + delta).clamp(0, 1)


def robust_probe(model, tokenizer, eps: float, n: int = 300, seed: int = 2025, steps: int = 10) -> dict:
    """Accuracy of the 60-way colour+shape choice ("a {colour} {shape}") on n one-object pictures:
    clean, under FGSM (one step of eps) and under PGD-`steps` at L-inf `eps` on [0, 1] pixels.
    FGSM far above PGD is the sign of catastrophic overfitting (Wong et al. 2020)."""
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    scenes = world.sample_scenes(np.random.default_rng(seed), n, n_objects=1, pairs="any")
    pixels = torch.from_numpy(world.render(scenes, size)).permute(0, 3, 1, 2).float() / 255
    C, S = len(world.COLOURS), len(world.SHAPES)
    with torch.no_grad():
        txt = _texts(model, tokenizer, [(c, s, -1, -1, -1) for c in range(C) for s in range(S)])
    truth = torch.from_numpy(scenes.obj[:, 0, 0] * S + scenes.obj[:, 0, 1])
    out = {"eps_255": round(eps * 255, 2), "steps": steps, "n": n}
    for name, k in (("clean", 0), ("fgsm", 1), ("pgd", steps)):
        x = pixels if k == 0 else pgd(model, pixels, txt, truth, eps, k, seed)
        with torch.no_grad():
            feats = F.normalize(model.encode_image((x - MEAN) / STD), dim=-1)
        out[name] = round(float(((feats @ txt.T).argmax(1) == truth).float().mean()), 3)
    return out


def quick_probe(model, tokenizer) -> dict:
    """A cheap probe for progress logs during training."""
    r = probe(model, tokenizer, seed=777, n=200, augmented=False)
    return {k: round(v, 3) for k, v in r.items() if k not in ("n", "seed")}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="builtin, builtin-b, or a config .json with its .safetensors beside it")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("-n", type=int, default=1000, help="pictures per probe")
    p.add_argument("--eps", type=float, default=0.0, help="also report accuracy under PGD-10 at this L-inf eps "
                   "(255ths of [0, 1] pixels)")
    args = p.parse_args(argv)
    model, tokenizer = load(args.model)
    result = probe(model, tokenizer, args.seed, args.n)
    if args.eps:
        result["robust"] = robust_probe(model, tokenizer, args.eps / 255)
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}, indent=1))


if __name__ == "__main__":
    main()
