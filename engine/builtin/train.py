"""Train a builtin model on the procedural world:  python -m engine.builtin.train --arch rn-a --out builtin

Reproducible from a seed: step k's pictures, captions and augmentations come from (seed, k) alone,
so a run resumed from a checkpoint continues exactly where it stopped. `--minutes` only chooses a
step count (from the measured speed of the first steps) and prints it; pass `--steps N` to repeat a
run exactly.

Loss: CLIP's contrastive loss, but with the truth known. Each batch has its pictures' captions plus
"hard negative" captions (one said attribute changed), and `world.truth` says which caption is true
of which picture, so a caption that fits several pictures ("a red shape") targets all of them
equally instead of pushing true pairs apart.

Augmentations follow what the optimizer does to frames (engine/augment.py: random resized crop,
scale 0.7..1, random perspective with distortion 0.5, grey outside the warp), plus additive
gaussian noise and pictures made to look half-optimized: blended with uniform noise (frames start
as uniform noise), speckled, or at a lower resolution (the optimizer's `scale` option).

A second phase starts from a checkpoint with `--init` (fresh optimizer and schedule). `--easy`
is a curriculum: a share of scenes are one big centred object on a plain background, which
teaches shape far sooner than the full world does (MODEL_CARD.md lists the phases used).

Every few minutes, and at the end, the fp16 weights and their config are written to
engine/builtin/weights/<out>.{json,safetensors}, loadable as `open_clip.create_model(out, pretrained=...)`.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import world
from .views import MEAN, STD, augment

HERE = Path(__file__).parent
CONFIGS = HERE / "configs"
WEIGHTS = HERE / "weights"

EASY_RAMP = 600  # steps over which the share of easy scenes (--easy) falls to a quarter
AUGMENT_RAMP = 400  # steps over which the half-optimized look and the noise reach full strength

log = logging.getLogger(__name__)


def build(arch: str, seed: int):
    """A fresh open_clip model from configs/<arch>.json, its tokenizer, and the config dict."""
    import open_clip

    open_clip.add_model_config(CONFIGS / f"{arch}.json")
    torch.manual_seed(seed)
    model = open_clip.create_model(arch, load_weights=False)
    return model, open_clip.get_tokenizer(arch), json.loads((CONFIGS / f"{arch}.json").read_text())


def encode_text(model, tokens: torch.Tensor) -> torch.Tensor:
    """CLIP.encode_text on tokens cut after the longest caption: the text transformer is causal
    and pools at the end-of-text token, so the padding it skips cannot change the result."""
    n = int(tokens.argmax(-1).max()) + 1
    t = tokens[:, :n]
    x = model.token_embedding(t) + model.positional_embedding[:n]
    x = model.ln_final(model.transformer(x, attn_mask=model.attn_mask[:n, :n]))
    x = x[torch.arange(len(t)), t.argmax(-1)]
    return F.normalize(x @ model.text_projection, dim=-1)


# ---------------------------------------------------------------------------------- augmentation

def adversarial(model, x: torch.Tensor, txt: torch.Tensor, truth: torch.Tensor, scale: torch.Tensor,
                eps: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """FGSM with a random start (Wong, Rice & Kolter 2020, "Fast is better than free"): normalized
    views x (n, 3, S, S) -> views whose [0, 1] pixels moved by at most `eps` (n,) in L-inf, toward
    a higher contrastive loss against the (detached) caption features `txt`. Step 1.25 eps, as in
    the paper. Pictures with eps 0 come back unchanged. Robust models have gradients a person can
    read (Santurkar et al. 2019), which is what a guide that paints pixels needs."""
    pixels = x * STD + MEAN
    e = eps.view(-1, 1, 1, 1)
    delta = ((torch.rand(pixels.shape, generator=gen) * 2 - 1) * e).requires_grad_(True)
    feats = F.normalize(model.encode_image(((pixels + delta).clamp(0, 1) - MEAN) / STD), dim=-1)
    grad, = torch.autograd.grad(loss_fn(feats, txt.detach(), truth, scale.detach()), delta)
    delta = (delta.detach() + 1.25 * e * grad.sign()).clamp(-e, e)
    return ((pixels + delta).clamp(0, 1) - MEAN) / STD


# ---------------------------------------------------------------------------------- data

def hard_negatives(caps: world.Captions, rng: np.random.Generator) -> world.Captions:
    """A copy of each caption with one said attribute changed (or the background, if said).

    A change never makes a held-out colour+shape pair: a caption that is only ever a negative
    teaches the model that the pair does not exist, which is the opposite of composing it."""
    obj, bg = caps.obj.copy(), caps.bg.copy()
    n = len(caps)
    limits = np.array([len(world.COLOURS), len(world.SHAPES), len(world.SIZES), len(world.POSITIONS)])
    held = world.held_out_mask()
    for i in range(n):
        said = [(k, a) for k in range(caps.n_obj[i]) for a in range(4) if obj[i, k, a] >= 0]
        if bg[i] >= 0:
            said.append((-1, -1))
        k, a = said[rng.integers(len(said))]
        if k < 0:
            bg[i] = (bg[i] + rng.integers(1, len(world.COLOURS))) % len(world.COLOURS)
            continue
        was = obj[i, k, a]
        for shift in rng.permutation(np.arange(1, limits[a])):
            obj[i, k, a] = (was + shift) % limits[a]
            c, s = obj[i, k, 0], obj[i, k, 1]
            if c < 0 or s < 0 or not held[c, s]:
                break
    return world.Captions(caps.n_obj.copy(), obj, bg)


class Readout(torch.nn.Module):
    """Training-only linear readouts from the image embedding: for each of the five regions, the
    colour, shape and size of the object there (or none), and the background colour. They give
    the image tower a dense signal from the first step; they are not part of the exported model."""
    HEADS = [len(world.COLOURS) + 1, len(world.SHAPES) + 1, len(world.SIZES) + 1]

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.regions = len(world.POSITIONS)
        self.linear = torch.nn.Linear(dim, self.regions * sum(self.HEADS) + len(world.COLOURS))

    def loss(self, feats: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        out = self.linear(feats)
        per = out[:, : self.regions * sum(self.HEADS)].reshape(len(feats), self.regions, sum(self.HEADS))
        losses, at = [], 0
        for j, h in enumerate(self.HEADS):
            losses.append(F.cross_entropy(per[..., at:at + h].reshape(-1, h), targets[:, :, j].reshape(-1)))
            at += h
        losses.append(F.cross_entropy(out[:, -len(world.COLOURS):], targets[:, 0, 3]))
        return sum(losses) / len(losses)


def readout_targets(scenes: world.Scenes) -> torch.Tensor:
    """(n, 5, 4) long: per region colour, shape, size (last class = nothing there); column 3 of
    region 0 holds the background colour."""
    n = len(scenes)
    t = np.empty((n, len(world.POSITIONS), 4), np.int64)
    t[:, :, :3] = [len(world.COLOURS), len(world.SHAPES), len(world.SIZES)]
    for k in range(2):
        has = np.flatnonzero(scenes.obj[:, k, 0] >= 0)
        t[has, scenes.obj[has, k, 3], :3] = scenes.obj[has, k, :3]
    t[:, :, 3] = scenes.bg[:, None]
    return torch.from_numpy(t)


def make_batch(seed: int, step: int, n: int, tokenizer, size: int, easy: float = 0.0, bare: float = 0.0,
               style: str = "plain"):
    """Step `step`'s training batch: images (n, 3, S, S) in [0, 1], tokens (n + n//2, ctx), truth
    (captions x pictures) and readout targets. `style` "judge" draws the scenes with
    `world.restyle` (the judge's own look, never a guide's)."""
    rng = np.random.default_rng([seed, step])
    scenes = world.sample_scenes(rng, n, easy=easy)
    if style == "judge":
        scenes = world.restyle(scenes, rng)
    caps = world.describe(scenes, rng)
    k = n // 2
    neg = hard_negatives(world.Captions(caps.n_obj[:k], caps.obj[:k], caps.bg[:k]), rng)
    allcaps = world.Captions(np.concatenate([caps.n_obj, neg.n_obj]), np.concatenate([caps.obj, neg.obj]),
                             np.concatenate([caps.bg, neg.bg]))
    texts = world.caption_texts(allcaps, rng.random(len(allcaps)) < 0.5, rng.random(len(allcaps)) < bare)
    images = torch.from_numpy(world.render(scenes, size)).permute(0, 3, 1, 2).float() / 255
    return images, tokenizer(texts), torch.from_numpy(world.truth(allcaps, scenes)), readout_targets(scenes)


def loss_fn(img: torch.Tensor, txt: torch.Tensor, truth: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Contrastive loss with multi-positive targets from the known truth (captions x pictures)."""
    logits = scale * img @ txt.T                                     # (pictures, captions)
    t = truth.T.float()
    i2t = -(F.log_softmax(logits, 1) * t / t.sum(1, keepdim=True)).sum(1).mean()
    has = truth.any(1)                                               # captions true of some picture
    tt = truth[has].float()
    t2i = -(F.log_softmax(logits.T[has], 1) * tt / tt.sum(1, keepdim=True)).sum(1).mean()
    return (i2t + t2i) / 2


# ---------------------------------------------------------------------------------- export

def export(model, config: dict, name: str, out_dir: Path = WEIGHTS) -> Path:
    """Write <name>.json (the open_clip config) and <name>.safetensors (fp16 state dict)."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(config, indent=4) + "\n")
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    path = out_dir / f"{name}.safetensors"
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp))
    tmp.chmod(0o644)
    tmp.replace(path)  # a reader never sees half a file
    return path


# ---------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", default="rn-a", help="config name in engine/builtin/configs/")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--minutes", type=float, default=40.0, help="time budget, used to choose --steps")
    p.add_argument("--steps", type=int, default=0, help="exact number of steps (overrides --minutes)")
    p.add_argument("--stop", type=int, default=0, help="end after this many steps of the --steps schedule "
                   "(repeats a run that was cut short at a checkpoint)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--init", default="", help="start from this training checkpoint's model and readout, "
                   "or from exported .safetensors weights (a new phase: fresh optimizer and schedule)")
    p.add_argument("--augment-strength", type=float, default=1.0,
                   help="1: about 60%% of pictures half-optimized looking, noise sigma up to 0.12; scales both")
    p.add_argument("--easy", type=float, default=0.0, help="curriculum: this fraction of scenes are one big "
                   "centred object at step 0, falling to a quarter of it by step 600")
    p.add_argument("--clean", type=float, default=0.0, help="fraction of pictures trained on as drawn, "
                   "without view, noise or half-optimized look")
    p.add_argument("--bare", type=float, default=0.0, help="fraction of captions without articles")
    p.add_argument("--adv-eps", default="", help="adversarial training: comma-separated L-inf eps values in "
                   "255ths of [0, 1] pixels (e.g. 2,4,8); FGSM with random start on --adv-share of pictures")
    p.add_argument("--adv-share", type=float, default=0.5, help="fraction of pictures attacked with --adv-eps")
    p.add_argument("--style", default="plain", choices=("plain", "judge"),
                   help="world rendering style; judge: world.restyle, for the independent judge model")
    p.add_argument("--readout", type=float, default=1.0, help="weight of the training-only readout loss")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--out", default="", help="export as engine/builtin/weights/<out>.* (default: the arch name)")
    p.add_argument("--out-dir", default=str(WEIGHTS))
    p.add_argument("--ckpt", default="", help="training checkpoint to write and resume from")
    p.add_argument("--export-every", type=float, default=5.0, help="minutes between exports/checkpoints")
    p.add_argument("--no-probe", action="store_true", help="skip the quick probe at each export")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from tqdm import tqdm

    from .probe import quick_probe, robust_probe

    if args.threads:
        torch.set_num_threads(args.threads)
    name = args.out or args.arch
    adv_eps = [float(e) / 255 for e in args.adv_eps.split(",") if e.strip()]
    model, tokenizer, config = build(args.arch, args.seed)
    size = config["vision_cfg"]["image_size"]
    readout = Readout(config["embed_dim"])
    params = list(model.parameters()) + list(readout.parameters())
    opt = torch.optim.AdamW([{"params": [q for q in params if q.ndim >= 2], "weight_decay": 0.05},
                             {"params": [q for q in params if q.ndim < 2], "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    start, total = 0, args.steps
    if args.init.endswith(".safetensors"):  # shipped weights: the model only, a fresh readout
        from safetensors.torch import load_file

        model.load_state_dict({k: v.float() for k, v in load_file(args.init).items()})
        log.info("initialised from %s", args.init)
    elif args.init:
        state = torch.load(args.init, weights_only=True)
        model.load_state_dict(state["model"])
        readout.load_state_dict(state["readout"])
        log.info("initialised from %s (its step %d)", args.init, state["step"])
    ckpt = Path(args.ckpt) if args.ckpt else None
    if ckpt and ckpt.is_file():
        state = torch.load(ckpt, weights_only=True)
        model.load_state_dict(state["model"])
        readout.load_state_dict(state["readout"])
        opt.load_state_dict(state["opt"])
        start, total = state["step"], state["total"]
        log.info("resumed from %s at step %d of %d", ckpt, start, total)

    def step_once(step: int) -> float:
        easy = args.easy * max(0.25, 1 - 0.75 * step / EASY_RAMP)
        images, tokens, truth, targets = make_batch(args.seed, step, args.batch, tokenizer, size, easy, args.bare,
                                                    args.style)
        gen = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        x = augment(images, gen, args.augment_strength * min(1.0, step / AUGMENT_RAMP), args.clean)
        txt = encode_text(model, tokens)
        scale = model.logit_scale.exp().clamp(max=100)
        if adv_eps:  # a share of pictures attacked, each at one of the eps values
            pick = torch.randint(0, len(adv_eps), (len(x),), generator=gen)
            eps = torch.tensor(adv_eps)[pick] * (torch.rand(len(x), generator=gen) < args.adv_share)
            x = adversarial(model, x, txt, truth, scale, eps, gen)
        feats = model.encode_image(x)
        img = F.normalize(feats, dim=-1)
        loss = loss_fn(img, txt, truth, scale)
        loss = loss + args.readout * readout.loss(feats, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    warmup = 150

    def lr_at(step: int) -> float:  # linear warm-up, then cosine to zero; warm-up needs no `total`
        if step < warmup:
            return args.lr * (step + 1) / warmup
        return args.lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    model.train()
    if not total:  # time the first warm-up steps to turn --minutes into --steps
        t0 = time.perf_counter()
        for step in range(30):
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            step_once(step)
        per = (time.perf_counter() - t0) / 30
        total = max(warmup + 1, int(args.minutes * 60 / per))
        start = 30
        log.info("%.2f s/step: --minutes %g gives --steps %d", per, args.minutes, total)
    last_export = time.perf_counter()
    end = min(total, args.stop) if args.stop else total
    bar = tqdm(range(start, end), initial=start, total=total, desc=name, mininterval=5, smoothing=0.05)
    for step in bar:
        lr = lr_at(step)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = step_once(step)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.1e}", scale=f"{model.logit_scale.exp().item():.0f}")
        last = step == end - 1
        if last or time.perf_counter() - last_export > args.export_every * 60:
            model.eval()
            export(model, config, name, Path(args.out_dir))
            if ckpt:
                torch.save({"model": model.state_dict(), "readout": readout.state_dict(), "opt": opt.state_dict(), "step": step + 1,
                            "total": total}, ckpt)
            if not args.no_probe:
                log.info("step %d: loss %.3f, quick probe %s", step + 1, loss, json.dumps(quick_probe(model, tokenizer)))
                if adv_eps:  # catastrophic overfitting shows as FGSM accuracy far above PGD's
                    log.info("step %d: robust probe %s", step + 1,
                             json.dumps(robust_probe(model, tokenizer, max(adv_eps), n=100)))
            model.train()
            last_export = time.perf_counter()
    log.info("done: %d of %d steps; weights in %s/%s.safetensors", end, total, args.out_dir, name)


if __name__ == "__main__":
    main()
