"""Display smoothness while the generator paints on the same CPU cores.

    python -m bench.display [--seconds 10] [--size 1280x720] [--model builtin] [--threads 1]
                            [--no-generator] [--no-hud] [--alone]

Opens the live window on a private Xvfb screen (re-running itself under xvfb-run), starts the
generator of setups/default.toml (the builtin model, or the tiny test model when the builtin
weights are not there), warms up, then measures for a fixed time: the interval between buffer
swaps (percentiles, ms) and the generator's frames and iterations per second. Prints one JSON line.
Xvfb has no vsync: the loop paces itself to 60 Hz, so the ideal interval is 16.7 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench import on_private_screen

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
TINY_MODEL = ROOT / "tests" / "data" / "tiny-clip.json"
BUILTIN_WEIGHTS = ROOT / "engine" / "builtin" / "weights"


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="measured time (after a 3 s warm-up)")
    ap.add_argument("--size", default="1280x720", help="window (and Xvfb screen) size")
    ap.add_argument("--setup", default=str(ROOT / "setups" / "default.toml"))
    ap.add_argument("--model", default=None, help="model spec (default: the setup's if present, else the tiny model)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for the generator (default: the app's)")
    ap.add_argument("--no-generator", action="store_true", help="measure the display alone")
    ap.add_argument("--no-hud", action="store_true")
    ap.add_argument("--alone", action="store_true",
                    help="then close the window and measure the generator alone as long (what the display costs it)")
    return ap.parse_args()


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def main() -> None:
    a = parse()
    on_private_screen("bench.display", a.size)

    import logging
    logging.basicConfig(level=logging.WARNING)
    from engine.models import ModelUnavailable
    from vj.display import DisplayApp
    from vj.setup import load_setup
    from vj.show import build_show

    setup = load_setup(a.setup)
    width, height = (int(v) for v in a.size.split("x"))
    setup.display.width, setup.display.height, setup.display.fullscreen = width, height, False
    setup.display.hud = not a.no_hud
    if a.model:
        setup.model.name = a.model
    elif setup.model.name.startswith("builtin") and not any(BUILTIN_WEIGHTS.glob("*.safetensors")):
        setup.model.name = str(TINY_MODEL)
    if a.threads is not None:
        setup.generator.threads = a.threads
    setup.model.fallback = False
    try:
        show = build_show(setup)
    except ModelUnavailable as e:
        sys.exit(f"bench.display: {e}")
    app = DisplayApp(show)
    if not a.no_generator:
        show.generator.start()
    app.run(3.0)                                   # warm-up: model caches, first frames, pacing decided
    gen = show.generator
    seq0, it0, n0, t0 = show.bus.seq, gen.iterations, len(app.swap_times), time.perf_counter()
    app.run(a.seconds)
    dt = time.perf_counter() - t0
    seq1, it1 = show.bus.seq, gen.iterations
    swaps = list(app.swap_times)[n0 - 1:] if n0 else list(app.swap_times)
    gaps = [1000 * (b - c) for c, b in zip(swaps, swaps[1:])]
    import torch
    result = {
        "display": {
            "p50_ms": round(percentile(gaps, 50), 2), "p95_ms": round(percentile(gaps, 95), 2),
            "p99_ms": round(percentile(gaps, 99), 2), "max_ms": round(max(gaps), 2),
            "fps": round(len(gaps) / dt, 2), "frames": len(gaps), "errors": app.errors,
            "window": a.size, "output": "x".join(map(str, app.renderer.output_size)), "hud": not a.no_hud,
            "paced": bool(getattr(app.clock, "pace", False)), "renderer": app.ctx.info["GL_RENDERER"],
        },
        "generator": {
            "running": not a.no_generator, "model": setup.model.name,
            "size": f"{setup.generator.width}x{setup.generator.height}", "scale": setup.generator.scale,
            "frames_per_s": round((seq1 - seq0) / dt, 3), "iters_per_s": round((it1 - it0) / dt, 2),
            "torch_threads": torch.get_num_threads(), "errors": gen.errors,
        },
        "seconds": round(dt, 2), "cpus": os.cpu_count(),
    }
    app.close()
    if a.alone and not a.no_generator:
        seq0, it0, t0 = show.bus.seq, gen.iterations, time.perf_counter()
        time.sleep(a.seconds)
        dt = time.perf_counter() - t0
        result["generator"]["alone_frames_per_s"] = round((show.bus.seq - seq0) / dt, 3)
        result["generator"]["alone_iters_per_s"] = round((gen.iterations - it0) / dt, 2)
    gen.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
