"""How good are the pictures a setup paints? `vj eval SETUP` and `python -m bench.quality`.

Paints a fixed set of prompts at two aspect ratios with the setup's own settings (model, generator,
parameters), exactly as the live show does (`build_show`, one `Generator.step` at a time), and
measures what a viewer would:

  alignment     a judge that never guided the painting ranks each picture's prompt among POOL (16
                prompts, with hard distractors: colours swapped, other shape, other side); its
                probability (softmax at the judge's logit scale) and CLIP score (100 x cosine), the
                first column of the table in Agarwala et al., "Adapting Text-to-Image Models for
                Video Generation" (shared seed 002)
  consistency   the judge's cosine x 100 between consecutive frames (that table's second column)
  diversity     the judge's cosine x 100 between the same prompt painted from two seeds (third
                column; lower is more diverse)
  cleanliness   model-free: share of spectral energy above half the Nyquist frequency, and mean
                total variation (mean |difference| of neighbouring pixels, 0..1), each beside the
                same figure for world pictures (engine/builtin/world.py) at the same analysis size
  edges         mean change of the outer 5% columns and rows between consecutive frames over the
                run, divided by the change of the centre (1: edges as alive as the centre)
  cost          ms per optimizer iteration at each size
  judge_ceiling the judge's alignment figures for clean drawn pictures of the same prompts (what a
                perfect painter would get; a judge that misreads them cannot grade paintings)

The judge (`builtin:judge`, engine/builtin/MODEL_CARD.md) is a small CLIP (a ModifiedResNet image
tower) trained on the world drawn in another style (`world.restyle`), with its own seed; it is
never a guide and never chose a guide's checkpoint. It sees the whole frame, letterboxed to a square by repeating the edge pixels.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from engine import Guide, load_guide

from .setup import PromptSetup, Setup, load_setup
from .show import build_show

# What the bench paints: colour, shape, position and background, each said plainly.
PROMPTS = (
    "a big red circle on a blue background",
    "a big yellow triangle on a black background",
    "a big white ring on a purple background",
    "pink stripes on a green background",
    "a big blue square on the left on a white background",
    "a big cyan cross on the right on an orange background",
)
# The judge ranks each picture's prompt among these: the PROMPTS and hard distractors.
POOL = PROMPTS + (
    "a big blue circle on a red background",          # colours swapped
    "a big red square on a blue background",          # other shape
    "a big black triangle on a yellow background",
    "a big yellow circle on a black background",
    "a big purple ring on a white background",
    "green stripes on a pink background",
    "a big blue square on the right on a white background",  # other side
    "a big blue circle on the left on a white background",
    "a big cyan cross on the left on an orange background",
    "a big orange cross on the right on a cyan background",
)
# What each prompt says, to draw it in the world (ceiling): object colour, shape, background, side (None: any).
PROMPT_SCENES = {
    PROMPTS[0]: ("red", "circle", "blue", None),
    PROMPTS[1]: ("yellow", "triangle", "black", None),
    PROMPTS[2]: ("white", "ring", "purple", None),
    PROMPTS[3]: ("pink", "stripes", "green", None),
    PROMPTS[4]: ("blue", "square", "white", "left"),
    PROMPTS[5]: ("cyan", "cross", "orange", "right"),
}
SIZES = ((640, 360), (360, 360))  # two aspect ratios: the show's 16:9 and square
ANALYSIS = 128                    # short side, pixels, at which cleanliness is measured
EDGE = 0.05                       # outer share of columns/rows that counts as the edge


@dataclass(frozen=True)
class Plan:
    """What to paint: `frames` frames after the first at `temperature`, `seeds` seeds of the first size."""
    frames: int = 10
    temperature: float = 30.0
    seeds: int = 2
    sizes: tuple = SIZES
    prompts: tuple = PROMPTS


def load_judge(spec: str = "builtin:judge") -> Guide:
    """The judge model, fp32 on the CPU (its figures must not depend on the machine's precision)."""
    return load_guide(spec, "cpu", "fp32")


@torch.no_grad()
def judge_features(judge: Guide, pictures: np.ndarray) -> torch.Tensor:
    """uint8 pictures (n, H, W, 3) -> unit-norm judge embeddings (n, d), float32. Each picture is
    letterboxed to a square by repeating its edge pixels, then resized (antialiased) to the judge's size."""
    x = torch.from_numpy(np.ascontiguousarray(pictures)).permute(0, 3, 1, 2).float() / 255
    h, w = x.shape[-2:]
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    x = F.pad(x, (left, side - w - left, top, side - h - top), mode="replicate")
    x = F.interpolate(x, size=(judge.size, judge.size), mode="bilinear", antialias=True, align_corners=False)
    return judge.image_features(x)


def alignment(judge: Guide, feats: torch.Tensor, truth: list[int], pool: tuple = POOL) -> dict:
    """Rank (1 = first), probability and CLIP score (100 x cosine) of each picture's true prompt
    `pool[truth[i]]` among `pool`, from judge embeddings (n, d)."""
    txt = judge.text_features(list(pool))
    cos = feats @ txt.T                                             # (n, len(pool))
    scale = float(judge.model.logit_scale.exp().clamp(max=100))
    prob = torch.softmax(scale * cos, 1)
    idx = torch.arange(len(truth))
    t = torch.tensor(truth)
    rank = (cos > cos[idx, t][:, None]).sum(1) + 1
    return {"rank": rank.tolist(), "prob": prob[idx, t].tolist(), "clip_score": (100 * cos[idx, t]).tolist(),
            "picked": [pool[i] for i in cos.argmax(1).tolist()]}


def cleanliness(pictures: np.ndarray) -> dict:
    """Model-free figures of uint8 pictures (n, H, W, 3), resized so the short side is ANALYSIS:
    `high_freq` the share of the luminance spectrum's energy (mean removed) above half the Nyquist
    frequency, and `tv` the mean absolute difference of neighbouring pixels (0..1). Speckle raises
    both; clean regions with sharp edges keep both low."""
    x = torch.from_numpy(np.ascontiguousarray(pictures)).permute(0, 3, 1, 2).float() / 255
    h, w = x.shape[-2:]
    k = ANALYSIS / min(h, w)
    x = F.interpolate(x, size=(round(h * k), round(w * k)), mode="bilinear", antialias=True, align_corners=False)
    tv = ((x[..., 1:, :] - x[..., :-1, :]).abs().mean((1, 2, 3)) + (x[..., 1:] - x[..., :-1]).abs().mean((1, 2, 3))) / 2
    lum = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1)
    spec = torch.fft.rfft2(lum - lum.mean((1, 2), keepdim=True)).abs() ** 2
    fy = torch.fft.fftfreq(lum.shape[1]).abs()[:, None]
    fx = torch.fft.rfftfreq(lum.shape[2])[None, :]
    high = torch.maximum(fy, fx) > 0.25  # above half of Nyquist (0.5 cycles a pixel) in either direction
    share = spec[:, high].sum(1) / spec.flatten(1).sum(1).clamp(min=1e-12)
    return {"high_freq": share.mean().item(), "tv": tv.mean().item()}


def world_cleanliness(n: int = 64, seed: int = 11) -> dict:
    """The same figures for world pictures (what clean looks like), drawn at the analysis size."""
    from engine.builtin import world

    return cleanliness(world.batch(seed, n, ANALYSIS)[0])


def world_pictures(prompts: tuple = PROMPTS, n: int = 3, size: int = 256, seed: int = 5
                   ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Clean world pictures (engine/builtin/world.py, the guides' drawing style, which the judge
    never trained on) of each of `prompts` (keys of PROMPT_SCENES), `n` each with jittered size
    (radius 0.19..0.24 of the side), place, angle and colour: uint8 squares (k, size, size, 3),
    the same as 16:9 (k, size*9//16, size, 3: the middle rows, so objects keep their size and
    side), and each picture's index in POOL. What a perfect painter would paint."""
    from engine.builtin import world

    rng = np.random.default_rng(seed)
    scenes = world.sample_scenes(rng, n * len(prompts), n_objects=1, pairs="any")
    for i in range(len(scenes)):
        colour, shape, bg, side = PROMPT_SCENES[prompts[i // n]]
        scenes.obj[i, 0] = (world.COLOURS.index(colour), world.SHAPES.index(shape), 0,
                            world.POSITIONS.index(side or "center"))
        scenes.xy[i, 0] = world._CENTRES[scenes.obj[i, 0, 3]] + rng.uniform(-0.03, 0.03, 2)
        scenes.radius[i, 0] = rng.uniform(0.19, 0.24)
        scenes.bg[i] = world.COLOURS.index(bg)
        scenes.rgb[i, 0] = world.PALETTE[scenes.obj[i, 0, 0]]
        scenes.bg_rgb[i] = world.PALETTE[scenes.bg[i]]
        scenes.angle[i, 0] = rng.uniform(0, np.pi) if shape == "stripes" else rng.uniform(-0.2, 0.2)
    square = world.render(scenes, size)
    top = (size - size * 9 // 16) // 2
    return square, square[:, top: top + size * 9 // 16], [POOL.index(prompts[i // n]) for i in range(len(scenes))]


def ceiling(judge: Guide, prompts: tuple = PROMPTS) -> dict | None:
    """The judge's alignment figures for clean world pictures of the prompts (world_pictures),
    square and 16:9 together: what a perfect painting would score. A judge that cannot tell a
    drawn red circle from a red square grades paintings of it at chance, whatever the painter.
    None when no prompt is one of PROMPT_SCENES (a plan of the user's own prompts)."""
    if not prompts:
        return None
    square, wide, truth = world_pictures(prompts)
    feats = torch.cat([judge_features(judge, square), judge_features(judge, wide)])
    a = alignment(judge, feats, truth + truth)
    return {"first_share": float(np.mean(np.array(a["rank"]) == 1)), "mean_prob": float(np.mean(a["prob"])),
            "min_prob": float(np.min(a["prob"]))}


def edge_liveliness(frames: list[np.ndarray]) -> float:
    """Mean |change| between consecutive uint8 frames (H, W, 3) in the outer EDGE share of columns
    and rows, over the mean |change| in the centre (the middle half of both axes). 0: frozen edges."""
    if len(frames) < 2:
        return float("nan")
    a = np.stack(frames).astype(np.float32)
    d = np.abs(np.diff(a, axis=0)).mean(-1)                       # (n-1, H, W)
    h, w = d.shape[1:]
    eh, ew = max(1, round(h * EDGE)), max(1, round(w * EDGE))
    edge = np.zeros((h, w), bool)
    edge[:eh], edge[-eh:], edge[:, :ew], edge[:, -ew:] = True, True, True, True
    centre = d[:, h // 4: h - h // 4, w // 4: w - w // 4].mean()
    return float(d[:, edge].mean() / max(centre, 1e-6))


def paint(setup: Setup, prompt: str, size: tuple[int, int], seed: int, plan: Plan) -> tuple[list[np.ndarray], float]:
    """Paint `prompt` from noise with the setup's settings at `size` (w, h) and `seed`: the first
    frame and `plan.frames` more at `plan.temperature`. Returns the finished frames (uint8 (H, W, 3))
    and the mean seconds per iteration."""
    s = replace(setup, generator=replace(setup.generator, width=size[0], height=size[1], seed=seed),
                prompts=[PromptSetup(text=prompt)],
                params={**setup.params, "temperature": plan.temperature, "mode": "live", "prompt.select": 1,
                        "crossfade": 0.0, "show_iterations": False})
    show = build_show(s)
    frames: list[np.ndarray] = []
    t0 = time.perf_counter()
    while len(frames) < plan.frames + 1:
        f = show.generator.step()
        if f is not None and f.final:
            frames.append(f.pixels.copy())
    spent = time.perf_counter() - t0
    return frames, spent / max(1, show.generator.iterations)


def evaluate(setup: Setup, plan: Plan = Plan(), judge: Guide | None = None, progress=None) -> dict:
    """Paint and measure (see the module doc). Returns a JSON-ready dict: a `summary` and, per
    picture, its figures. `progress(str)` is called before each painting."""
    judge = judge or load_judge()
    pool = POOL if set(plan.prompts) <= set(POOL) else tuple(dict.fromkeys(plan.prompts + POOL))
    pictures, per_size_cost = [], {}
    last, last_feats, truth, consistency, edges = [], [], [], [], []
    second_seed = {}
    for w, h in plan.sizes:
        costs = []
        for prompt in plan.prompts:
            if progress:
                progress(f"{prompt!r} at {w}x{h}")
            frames, per_it = paint(setup, prompt, (w, h), setup.generator.seed, plan)
            costs.append(per_it)
            feats = judge_features(judge, np.stack(frames))
            consistency.append(100 * (feats[1:] * feats[:-1]).sum(1).mean().item())
            edges.append(edge_liveliness(frames))
            last.append(frames[-1])
            last_feats.append(feats[-1])
            truth.append(pool.index(prompt))
            pictures.append({"prompt": prompt, "size": f"{w}x{h}", "consistency": consistency[-1],
                             "edges": edges[-1], "ms_per_iteration": 1000 * per_it})
        per_size_cost[f"{w}x{h}"] = 1000 * float(np.mean(costs))
    w, h = plan.sizes[0]
    feats_last = torch.stack(last_feats)
    for extra in range(1, plan.seeds):
        for i, prompt in enumerate(plan.prompts):
            if progress:
                progress(f"{prompt!r} at {w}x{h}, seed {setup.generator.seed + extra}")
            frames, _ = paint(setup, prompt, (w, h), setup.generator.seed + extra, plan)
            other = judge_features(judge, frames[-1][None])[0]
            second_seed.setdefault(prompt, []).append(100 * float(feats_last[i] @ other))
    a = alignment(judge, feats_last, truth, pool)
    for pic, rank, prob, score, picked in zip(pictures, a["rank"], a["prob"], a["clip_score"], a["picked"]):
        pic.update(rank=rank, prob=prob, clip_score=score, picked=picked)
    for pic, frame in zip(pictures, last):
        pic.update(cleanliness(frame[None]))
    clean = cleanliness(np.stack(last[: len(plan.prompts)]))  # first size: one shape, one stack
    if len(plan.sizes) > 1:
        other = cleanliness(np.stack(last[len(plan.prompts):]))
        clean = {k: (clean[k] + other[k]) / 2 for k in clean}
    worldc = world_cleanliness()
    summary = {
        "pictures": len(pictures),
        "first": int(sum(r == 1 for r in a["rank"])),
        "mean_rank": float(np.mean(a["rank"])),
        "mean_prob": float(np.mean(a["prob"])),
        "alignment_clip_score": float(np.mean(a["clip_score"])),
        "consistency": float(np.mean(consistency)),
        "diversity": float(np.mean([v for vs in second_seed.values() for v in vs])) if second_seed else None,
        "high_freq": clean["high_freq"], "high_freq_world": worldc["high_freq"],
        "high_freq_vs_world": clean["high_freq"] / max(worldc["high_freq"], 1e-9),
        "tv": clean["tv"], "tv_world": worldc["tv"], "tv_vs_world": clean["tv"] / max(worldc["tv"], 1e-9),
        "edges": float(np.nanmean(edges)),
        "ms_per_iteration": per_size_cost,
        "pool": len(pool), "temperature": plan.temperature, "frames": plan.frames,
        "judge_ceiling": ceiling(judge, tuple(p for p in plan.prompts if p in PROMPT_SCENES)),
    }
    return {"summary": summary, "pictures": pictures, "last_frames": last}


def contact_sheet(frames: list[np.ndarray], columns: int = 6, height: int = 144) -> np.ndarray:
    """uint8 (H, W, 3) frames -> one uint8 sheet, rows of `columns` pictures scaled to `height` rows."""
    from PIL import Image

    tiles = [np.asarray(Image.fromarray(f).resize((round(f.shape[1] * height / f.shape[0]), height))) for f in frames]
    width = max(t.shape[1] for t in tiles)
    tiles = [np.pad(t, ((2, 2), (2, width - t.shape[1] + 2), (0, 0))) for t in tiles]
    rows = [np.concatenate(tiles[i:i + columns] + [np.zeros_like(tiles[0])] * (columns - len(tiles[i:i + columns])), 1)
            for i in range(0, len(tiles), columns)]
    return np.concatenate(rows, 0)


def report(setup_path: str, overrides: list[str], plan: Plan, judge: str = "builtin:judge", sheet: str = "",
           details: bool = False) -> dict:
    """What `vj eval` and `bench.quality` print: the setup with its overrides painted and measured,
    as a JSON-ready dict (the summary; with `details`, every picture's figures too). `sheet`: also
    write the last frames' contact sheet there (PNG). Progress goes to stderr. Raises SetupError or
    ModelUnavailable with one sentence."""
    import sys

    from PIL import Image

    result = evaluate(load_setup(setup_path, overrides), plan, load_judge(judge),
                      progress=lambda s: print("painting", s, file=sys.stderr, flush=True))
    if sheet:
        Image.fromarray(contact_sheet(result["last_frames"])).save(sheet)
    out = {"setup": setup_path, "overrides": overrides, **result["summary"]}
    if details:
        out["pictures"] = result["pictures"]
    return out

