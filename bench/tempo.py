"""Quantized changes against the beat clock, with the generator running.

    python -m bench.tempo [--seconds 10] [--bpm 240] [--lookahead-ms 0] [--model builtin]

The real tempo thread (TempoService, 5 ms steps, quantize = beat, latency lookahead on) and the
real generator thread (the builtin model, 64x48 frames unless told) run together; another thread
sends `next` 10..50% into every beat, as OSC would. For each change:
  * fire: when the tempo thread applied it, against when it meant to (the beat line less the
    lookahead: quantize.lookahead plus the generator's measured time per frame);
  * effect: when the generator's first iteration that paints the new prompt started, against the
    same intended moment (fire delay plus the wait for the iteration in flight).
Changes sent inside the lookahead (after the moment they should have fired) fire at once and are
counted apart. Prints one JSON line: p50/p95/max in ms of both, the lookahead used, the
generator's rates.
"""
from __future__ import annotations

import argparse
import json
import random
import threading
import time

import numpy as np

from vj.setup import parse_setup
from vj.show import build_show
from vj.tempo import TempoService


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--bpm", type=float, default=240.0, help="faster tempo: more beats per second of bench")
    ap.add_argument("--lookahead-ms", type=float, default=0.0)
    ap.add_argument("--model", default="builtin")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--height", type=int, default=48)
    return ap.parse_args()


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def main() -> None:
    args = parse()
    prompts = [{"text": t} for t in ("a red circle", "a blue square", "a yellow ring", "green stripes")]
    setup = parse_setup({"name": "bench-tempo", "model": {"name": args.model, "fallback": False},
                         "generator": {"width": args.width, "height": args.height, "seed": 1},
                         "params": {"iterations": 4, "first_iterations": 4, "views": 2, "tempo.source": "fixed",
                                    "tempo.fixed": args.bpm, "quantize": "beat",
                                    "quantize.lookahead": args.lookahead_ms},
                         "prompts": prompts}, "<bench>")
    show = build_show(setup)
    store, gen = show.store, show.generator
    tempo = TempoService.from_setup(setup, store, show.bus)
    seen: list[tuple[float, int]] = []           # (iteration start, prompt.select it paints)
    mix = gen.mix
    gen.mix = lambda snap: (seen.append((time.perf_counter(), snap["prompt.select"])), mix(snap))[1]
    gen.start()
    while show.bus.latest() is None:             # the first frame (and the model's warm-up)
        time.sleep(0.05)
    tempo.start()
    stop = threading.Event()

    def performer() -> None:   # one `next` per beat, 10..50% into it, as a hand on a pad would
        while True:
            beat = tempo.beats.beat(time.perf_counter())
            when = tempo.beats.time_of(int(beat) + 1 + random.uniform(0.1, 0.5))
            if stop.wait(max(0.0, when - time.perf_counter())):
                return
            store.trigger("next", "osc")
    sender = threading.Thread(target=performer, daemon=True)
    time.sleep(0.5)
    sender.start()
    time.sleep(args.seconds)
    stop.set()
    sender.join()
    time.sleep(0.5)
    tempo.stop()
    gen.stop()
    fires, effects = [], []
    frame = show.bus.latest()
    aheads, late = [], 0
    for held, fired_at, meant in tempo.fired:
        if tempo.beats.time_of(held.held_at) > meant:   # sent inside the lookahead: it fires at once, late
            late += 1
            continue
        aheads.append((tempo.beats.time_of(held.beat) - meant) * 1000)
        fires.append((fired_at - meant) * 1000)
        select = None
        for t, s in seen:                        # the first iteration after the fire painting a new slot
            if t >= fired_at and select is not None and s != select:
                effects.append((t - meant) * 1000)
                break
            select = s if t < fired_at else select
    print(json.dumps({
        "bpm": args.bpm, "changes": len(fires), "sent_inside_lookahead": late, "lookahead_ms": pct(aheads, 50),
        "fire_ms": {"p50": pct(fires, 50), "p95": pct(fires, 95), "max": pct(fires, 100)},
        "effect_ms": {"p50": pct(effects, 50), "p95": pct(effects, 95), "max": pct(effects, 100)},
        "iters_per_s": round(frame.stats["iters_per_s"], 1), "frames_per_s": round(frame.stats["frames_per_s"], 2),
        "model": args.model, "size": [args.width, args.height],
    }))


if __name__ == "__main__":
    main()
