"""Train the post-process (engine/post.py) on the project's own data:
    python -m engine.builtin.train_post --source painted --pairs 720 --data sq.pt --minutes 0
    python -m engine.builtin.train_post --data sq.pt,wide.pt --widths 32,64,96,128 --minutes 12 --out builtin-post

Paired, not unpaired as the paper's CycleGAN: our world gives every optimized frame a clean
picture for free, and a paired L1 loss trains in minutes on a CPU where a GAN would take hours.

Two sources of pairs (`--source`):
- `painted` (the shipped network's): the engine's own Generator paints a caption from its first
  frame, exactly as the show does (`--frame`, `--scale`, `--parametrization`, `--framing`, ...),
  and frames 0, 4 and 10 are paired with the clean world picture the caption is true of that lies
  nearest to each (`nearest_clean`). A painting from text has no true picture; the nearest one
  keeps the painting's own layout and colours, so the network learns to finish what the optimizer
  began (a round red mass on the left becomes a clean red disc there), as the authors' CycleGAN
  turns their frames toward photographs without a paired truth.
- `noisy`: a world picture blended with noise (strength 0.3..0.95) is optimized for 8..40 steps
  against its own full caption and paired with that picture (the first builtin-post's pairs).
A share of pairs are clean pictures mapped to themselves, so a clean picture stays as it is.
"""
from __future__ import annotations

import argparse
import logging
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..bus import FrameBus
from ..controls import make_store
from ..generator import Generator, GeneratorConfig
from ..models import load_guide
from ..parametrization import make_parametrization
from ..post import WEIGHTS, UNet, save_post
from . import world
from .views import views

log = logging.getLogger(__name__)


def noisy_start(pictures: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """(n, 3, S, S) in [0, 1] -> blended with uniform noise drawn at a random coarseness (1, 2 or
    4 pixels a cell), by a strength 0.3..0.95 per picture."""
    n, _, s, _ = pictures.shape
    out = torch.empty_like(pictures)
    for i in range(n):
        cell = 2 ** int(torch.randint(0, 3, (1,), generator=gen))
        noise = torch.rand(1, 3, s // cell, s // cell, generator=gen)
        out[i] = F.interpolate(noise, size=(s, s), mode="nearest")[0]
    k = 0.3 + 0.65 * torch.rand(n, 1, 1, 1, generator=gen)
    return pictures * (1 - k) + out * k


def optimized(guide, pictures: torch.Tensor, texts: list[str], gen: torch.Generator, n_views: int = 4,
              parametrization: str = "pixels", colour: str = "rgb", levels: int = 4, level_lr: float = 2.0,
              lr: float = 0.1) -> torch.Tensor:
    """Frames optimized from noisy world pictures toward their captions, (n, 3, S, S) in [0, 1],
    through the engine's parametrization (engine/parametrization.py) and Adam at `lr`."""
    n, _, h, w = pictures.shape
    start = noisy_start(pictures, gen)
    pars = [make_parametrization(parametrization, (h, w), colour, levels=levels, level_lr=level_lr) for _ in range(n)]
    for par, picture in zip(pars, start):
        par.load(picture[None])
    opt = torch.optim.Adam([{"params": [t], "lr": lr * m} for par in pars for t, m in par.groups])
    txt = guide.text_features(texts)
    steps = int(torch.randint(8, 41, (1,), generator=gen))
    for _ in range(steps):
        z = torch.cat([par.image() for par in pars])
        v = views(z.repeat(n_views, 1, 1, 1), gen)
        v = F.interpolate(v, size=(guide.size, guide.size), mode="bilinear", antialias=True, align_corners=False)
        feats = guide.image_features(v).view(n_views, n, -1)
        loss = -(feats * txt[None]).sum(-1).mean() * n  # each picture's own loss, as if painted alone
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        for par in pars:
            par.constrain()
    with torch.no_grad():
        return torch.cat([par.image() for par in pars])


def make_pairs(guide, count: int, size: int, seed: int, batch: int = 32, **paint) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` (optimized frame, world picture) pairs at size x size, uint8 (count, 3, S, S) each."""
    xs, ys = [], []
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for b in range(math.ceil(count / batch)):
        rng = np.random.default_rng([seed, b])
        scenes = world.sample_scenes(rng, batch, pairs="any")
        texts = world.caption_texts(world.describe(scenes, rng, full=True))
        clean = torch.from_numpy(world.render(scenes, size)).permute(0, 3, 1, 2).float() / 255
        frames = optimized(guide, clean, texts, gen, **paint)
        xs.append((frames * 255).round().to(torch.uint8))
        ys.append((clean * 255).round().to(torch.uint8))
        if b % 5 == 0:
            log.info("pairs %d/%d (%.0f s)", (b + 1) * batch, count, time.perf_counter() - t0)
    return torch.cat(xs)[:count], torch.cat(ys)[:count]


def painted_captions(rng: np.random.Generator, n: int) -> tuple[world.Scenes, world.Captions, list[str]]:
    """n one-object scenes and captions as a performer types them: colour and shape always said,
    the background with p 0.85, size and position each with p 0.5."""
    scenes = world.sample_scenes(rng, n, n_objects=1, pairs="any")
    obj = scenes.obj.copy()
    obj[:, 0, 2] = np.where(rng.random(n) < 0.5, obj[:, 0, 2], -1)
    obj[:, 0, 3] = np.where(rng.random(n) < 0.5, obj[:, 0, 3], -1)
    caps = world.Captions(scenes.n_obj.copy(), obj, np.where(rng.random(n) < 0.85, scenes.bg, -1))
    return scenes, caps, world.caption_texts(caps)


def nearest_clean(frames: torch.Tensor, scenes: world.Scenes, caps: world.Captions, rng: np.random.Generator,
                  k: int = 128, compare: int = 24) -> torch.Tensor:
    """For each frame (n, 3, H, W) in [0, 1] painted from caption i: the clean world picture (flat
    style) true of that caption nearest to it (mean squared difference with the long side at
    `compare` px, among k drawn by world.alternatives), rendered at the frame's size: (n, 3, H, W)
    in [0, 1]. A frame that is not square is compared with the middle band of the square picture,
    as a guide sees it letterboxed (augment.py, whole views)."""
    n, _, h, w = frames.shape
    alt = world.alternatives(scenes, caps, rng, k)

    def band(pics: torch.Tensor, side: int) -> torch.Tensor:   # the frame's middle band of a square picture
        rows, cols = round(side * h / max(h, w)), round(side * w / max(h, w))
        top, left = (side - rows) // 2, (side - cols) // 2
        return pics[..., top:top + rows, left:left + cols]

    small = band(torch.from_numpy(world.render(alt, compare)).float().div(255).permute(0, 3, 1, 2), compare)
    small = small.reshape(n, k, *small.shape[1:])
    seen = F.interpolate(frames, size=small.shape[-2:], mode="bilinear", antialias=True, align_corners=False)
    best = ((small - seen[:, None]) ** 2).mean((2, 3, 4)).argmin(1).numpy()
    pick = np.arange(n) * k + best
    side = max(h, w)
    out = band(torch.from_numpy(world.render(alt.take(pick), side)).float().div(255).permute(0, 3, 1, 2), side)
    return out[..., :h, :w]


def painted_pairs(guide, count: int, size: int, seed: int, config: GeneratorConfig, keep: tuple[int, ...] = (0, 4, 10),
                  temperature: float = 30.0) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` pairs (frame painted by the engine's own Generator from a caption, the clean world
    picture of that caption nearest to it), uint8 (count, 3, S, S) each, S = `size`. Each caption is
    painted as the show paints (config: size, scale, parametrization, framing, start; first frame
    from the start, then frames at `temperature`), and its frames `keep` (0: the first) become pairs.
    Why nearest: a painting from text has no true picture; among the pictures its prompt is true
    of, the nearest keeps the painting's own layout, so the network learns to finish what the
    optimizer began (a blob on the left -> a clean shape there) rather than to paint a new picture."""
    rng = np.random.default_rng([seed, 7])
    xs, ys = [], []
    t0 = time.perf_counter()
    crops = 1 if config.width == config.height else 2   # square crops per frame (see below)
    n = math.ceil(count / (len(keep) * crops))
    scenes, caps, texts = painted_captions(rng, n)
    for i, text in enumerate(texts):
        store = make_store()
        for name, value in (("prompt.1", text), ("prompt.select", 1), ("mode", "live"), ("crossfade", 0.0),
                            ("temperature", temperature)):
            store.set(name, value)
        gen = Generator(store, [guide], FrameBus(), replace(config, seed=seed * 100_003 + i))
        frames: list[np.ndarray] = []
        while len(frames) <= max(keep):
            f = gen.step()
            if f is not None and f.final:
                frames.append(f.pixels)
        x = torch.from_numpy(np.stack([frames[j] for j in keep])).permute(0, 3, 1, 2).float() / 255
        k = size / min(config.width, config.height)    # the post-process's work size: short side `size`
        x = F.interpolate(x, size=(round(config.height * k), round(config.width * k)), mode="bilinear",
                          antialias=True, align_corners=False)
        same = [i] * len(keep)   # each kept frame is compared with its caption's pictures
        y = nearest_clean(x, scenes.take(same), caps.take(same), rng)
        # Square crops at both ends of a wide (or tall) frame: pairs of one shape, with the larger
        # objects a letterboxed guide paints there.
        for top, left in {(0, 0), (x.shape[-2] - size, x.shape[-1] - size)}:
            xs.append((x[..., top:top + size, left:left + size] * 255).round().to(torch.uint8))
            ys.append((y[..., top:top + size, left:left + size] * 255).round().to(torch.uint8))
        if i % 20 == 0:
            log.info("painted %d/%d captions (%.0f s): %s", i + 1, n, time.perf_counter() - t0, text)
    return torch.cat(xs)[:count], torch.cat(ys)[:count]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--guide", default="builtin", help="model the frames are optimized against")
    p.add_argument("--pairs", type=int, default=1536)
    p.add_argument("--parametrization", default="pixels", help="as [generator] parametrization: the frames' look")
    p.add_argument("--colour", default="rgb")
    p.add_argument("--levels", type=int, default=4)
    p.add_argument("--level-lr", type=float, default=2.0)
    p.add_argument("--paint-lr", type=float, default=0.1)
    p.add_argument("--source", default="noisy", choices=("noisy", "painted"),
                   help="noisy: frames optimized from noisy world pictures -> those pictures; painted: frames the "
                   "engine's Generator paints from captions -> the nearest clean picture of the caption")
    p.add_argument("--frame", default="384x384", help="painted: the frame size painted, WxH (then resized to a short side of --work)")
    p.add_argument("--scale", type=int, default=4, help="painted: as [generator] scale")
    p.add_argument("--framing", default="whole", help="painted: as [generator] framing")
    p.add_argument("--start", default="smooth", help="painted: as [generator] start")
    p.add_argument("--work", type=int, default=96, help="picture size the network trains (and later runs) at")
    p.add_argument("--widths", default="32,64,96")
    p.add_argument("--minutes", type=float, default=10.0, help="training time after the pairs are made")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--identity", type=float, default=0.15, help="share of world pictures trained to map to themselves")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--data", default="", help="cache of pairs (.pt): read if it exists, else written; "
                   "a comma-separated list of existing caches trains on all of them")
    p.add_argument("--init", default="", help="start from these exported .safetensors weights")
    p.add_argument("--out", default="builtin-post")
    p.add_argument("--out-dir", default=str(WEIGHTS))
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    caches = [Path(d) for d in a.data.split(",") if d]
    missing = [str(c) for c in caches if not c.is_file()]
    if len(caches) > 1 and missing:
        raise SystemExit(f"train_post: no pair cache at {', '.join(missing)}; make each with --data FILE first.")
    if caches and all(c.is_file() for c in caches):  # several caches (e.g. frames of two parametrizations) train together
        loaded = [torch.load(c, weights_only=True) for c in caches]
        x, y = torch.cat([d["x"] for d in loaded]), torch.cat([d["y"] for d in loaded])
    else:
        guide = load_guide(a.guide, "cpu", "auto")
        if a.source == "painted":
            fw, fh = (int(v) for v in a.frame.split("x"))
            config = GeneratorConfig(fw, fh, a.seed, a.scale, a.parametrization, a.colour, a.levels, a.level_lr,
                                     a.start, a.framing)
            x, y = painted_pairs(guide, a.pairs, a.work, a.seed, config)
        else:
            x, y = make_pairs(guide, a.pairs, a.work, a.seed, parametrization=a.parametrization, colour=a.colour,
                              levels=a.levels, level_lr=a.level_lr, lr=a.paint_lr)
        if a.data:
            torch.save({"x": x, "y": y}, a.data)
            if a.minutes <= 0:
                return
    widths = tuple(int(w) for w in a.widths.split(","))
    net = UNet(widths)
    if a.init:  # a second phase: from exported weights, fresh optimizer and schedule
        from safetensors.torch import load_file
        net.load_state_dict({k: v.float() for k, v in load_file(a.init).items()})
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(a.seed + 1)
    t0, step, end = time.perf_counter(), 0, a.minutes * 60
    while time.perf_counter() - t0 < end:
        idx = torch.randint(0, len(x), (a.batch,), generator=gen)
        inp, target = x[idx].float() / 255, y[idx].float() / 255
        same = torch.rand(a.batch, generator=gen) < a.identity
        inp[same] = target[same]
        flip = torch.rand(a.batch, generator=gen) < 0.5  # left/right flips: the captions' sides do not matter here
        inp[flip], target[flip] = inp[flip].flip(-1), target[flip].flip(-1)
        lr = a.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (time.perf_counter() - t0) / end)))
        for g in opt.param_groups:
            g["lr"] = lr
        loss = F.l1_loss(net(inp), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            log.info("step %d: L1 %.4f (input %.4f), lr %.1e", step, loss.item(), F.l1_loss(inp, target).item(), lr)
        step += 1
    path = save_post(net.eval(), widths, a.work, a.out, Path(a.out_dir))
    log.info("done: %d steps; weights in %s", step, path)


if __name__ == "__main__":
    main()
