"""Generator speed, side by side with the authors' plain loop at equal work.

    python -m bench.generator --model ViT-B-32 --size 640x360 --iters 10 --views 4 --frames 3 \
        [--precision bf16] [--device cpu] [--reference ../shared/bench/reference_loop.py] \
        [--parametrization pixels,pyramid,fourier] [--colour rgb,decorrelated] [--post builtin-post]
        [--colours 3] [--framing crops|whole]

Runs our FrameOptimizer (batched augmentations, one grid_sample for all views) and, in the same
run, the reference loop (each view augmented separately with torchvision, fp32) as a subprocess,
alternating rounds so that both see the same machine load. Random weights: speed does not
depend on them. Prints one JSON line: ours, reference, and the ratio of iterations/s.
`--parametrization` and `--colour` take comma-separated lists: every combination runs in each
round, interleaved, and the JSON line gains `variants` with each one's iterations/s.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import open_clip  # noqa: E402
import torch  # noqa: E402

from engine.models import load_guide, pick_device, pick_precision  # noqa: E402
from engine.optimizer import FrameOptimizer  # noqa: E402
from engine.post import load_post  # noqa: E402
from engine.posterize import Posterizer  # noqa: E402
from engine.temperature import heat  # noqa: E402

DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "bench" / "reference_loop.py"


def ours(a: argparse.Namespace, guide, parametrization: str = "pixels", colour: str = "rgb") -> dict:
    w, h = (int(v) for v in a.size.split("x"))
    opt = FrameOptimizer([guide], w, h, scale=a.scale, seed=0, parametrization=parametrization, colour=colour,
                         levels=a.levels, level_lr=a.level_lr, framing=a.framing)
    texts, weights, hot = ["a red apple", "a blue ocean"], [0.7, 0.3], heat(30)
    post = load_post(a.post, guide.device) if a.post else None
    posterizer = Posterizer() if a.colours >= 2 else None

    def frame() -> None:
        opt.start_frame(hot)
        for _ in range(a.iters):
            opt.step(texts, weights, hot, 0.17, a.views)
        opt.frame_result()  # the generator's one read per finished frame
        picture = opt.picture() if post is None else post(opt.picture().detach())
        if posterizer is not None:
            picture = posterizer(picture.detach(), a.colours)
        opt.upsample(picture).detach().cpu()  # what the generator publishes
        opt.finish_frame()

    frame()  # warm-up, as the reference does
    if guide.device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.frames):
        frame()
    if guide.device.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    return {"frames_per_s": a.frames / dt, "iters_per_s": a.frames * a.iters / dt}


def reference(a: argparse.Namespace) -> dict | str:
    """The reference loop's figures, or one sentence saying why it could not run (it knows only
    open_clip's models, not the builtin ones): our figures are printed either way."""
    cmd = [sys.executable, str(a.reference), "--model", a.model, "--size", a.size, "--iters", str(a.iters),
           "--views", str(a.views), "--frames", str(a.frames)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return f"the reference loop failed for --model {a.model} ({last[:200]}); our figures stand alone"
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="ViT-B-32")
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--views", type=int, default=4)
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--scale", type=int, default=1, help="optimize at 1/scale resolution (1: raw pixels, as the reference)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of ours and the reference")
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE, help="reference_loop.py (skipped if absent)")
    ap.add_argument("--parametrization", default="pixels", help="pixels, pyramid, fourier, or a comma-separated list")
    ap.add_argument("--colour", default="rgb", help="rgb, decorrelated, or a comma-separated list")
    ap.add_argument("--levels", type=int, default=4, help="pyramid levels")
    ap.add_argument("--level-lr", type=float, default=2.0, help="pyramid: rate ratio between levels")
    ap.add_argument("--post", default="", help="post-process each frame (e.g. builtin-post), counted in the time")
    ap.add_argument("--colours", type=int, default=0, help="posterize each frame into this many colours, as "
                    "post.colours, counted in the time (0: off)")
    ap.add_argument("--framing", default="crops", help="what each view shows: crops or whole")
    a = ap.parse_args()
    # A bare open_clip architecture runs on random weights (speed does not depend on them).
    guide = load_guide(f"{a.model}:random" if a.model in open_clip.list_models() else a.model, a.device, a.precision)
    variants = [(p, c) for p in a.parametrization.split(",") for c in a.colour.split(",")]
    runs: dict[str, list[dict]] = {f"{p}/{c}": [] for p, c in variants}
    ref, skipped = [], None
    for _ in range(a.rounds):
        for p, c in variants:
            runs[f"{p}/{c}"].append(ours(a, guide, p, c))
        if a.reference.is_file() and a.device != "cuda" and skipped is None:
            got = reference(a)
            if isinstance(got, str):
                skipped = got
            else:
                ref.append(got)
    mine = next(iter(runs.values()))
    result = {
        "model": a.model, "size": a.size, "iters": a.iters, "views": a.views, "frames": a.frames,
        "precision": pick_precision(a.precision, pick_device(a.device)), "device": str(pick_device(a.device)),
        "threads": torch.get_num_threads(),
        "frames_per_s": statistics.median(r["frames_per_s"] for r in mine),
        "iters_per_s": statistics.median(r["iters_per_s"] for r in mine),
        "parametrization": variants[0][0], "colour": variants[0][1], "post": a.post or None,
        "colours": a.colours or None, "framing": a.framing,
    }
    if len(variants) > 1:
        result["variants"] = {k: {"iters_per_s": round(statistics.median(r["iters_per_s"] for r in v), 2),
                                  "all": [round(r["iters_per_s"], 2) for r in v]} for k, v in runs.items()}
    if skipped:
        result["reference_skipped"] = skipped
    if ref:
        result["reference_iters_per_s"] = statistics.median(r["iters_per_s"] for r in ref)
        result["reference_frames_per_s"] = statistics.median(r["frames_per_s"] for r in ref)
        result["ratio"] = result["iters_per_s"] / result["reference_iters_per_s"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
