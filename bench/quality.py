"""Picture quality of a setup, as JSON:  python -m bench.quality [SETUP] [--set KEY=VALUE ...]

Paints vj.quality.PROMPTS at 640x360 and 360x360 (plus a second seed at 640x360) with the setup's
settings and prints one JSON object: the judge's alignment (first-ranked pictures, mean rank,
mean probability, CLIP score), consistency, diversity, cleanliness beside world pictures, edge
liveliness and ms per iteration (see vj/quality.py). About 2-3 minutes on a 2-core CPU with the
builtin model. `--sheet PNG` also writes a contact sheet of the last frames (16:9 row, square row).
Variants without editing files: --set generator.parametrization=pyramid --set model.name=builtin-b
"""
from __future__ import annotations

import argparse
import json
import sys

from engine.models import ModelUnavailable
from vj.quality import Plan, report
from vj.setup import SetupError


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("setup", nargs="?", default="setups/default.toml")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a setup key")
    p.add_argument("--frames", type=int, default=10, help="frames after the first (consistency, edges)")
    p.add_argument("--seeds", type=int, default=2, help="seeds of the 16:9 pictures (diversity needs 2)")
    p.add_argument("--temperature", type=float, default=30.0)
    p.add_argument("--judge", default="builtin:judge")
    p.add_argument("--sheet", default="", help="write a contact sheet of the last frames here (PNG)")
    p.add_argument("--details", action="store_true", help="also print every picture's figures")
    a = p.parse_args(argv)
    try:
        out = report(a.setup, a.set, Plan(frames=a.frames, temperature=a.temperature, seeds=a.seeds), a.judge,
                     a.sheet, a.details)
    except (SetupError, ModelUnavailable) as e:
        sys.exit(f"bench.quality: {e}")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
