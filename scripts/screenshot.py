"""The README's picture: the live window (windowed, HUD on) after N seconds of a setup, with every
service running as under `vj run` (so the HUD says what a performer sees).

    xvfb-run -a -s "-screen 0 1280x720x24" .venv/bin/python scripts/screenshot.py setups/default.toml docs/screenshot.png 60
"""
from __future__ import annotations

import sys

from PIL import Image

from vj.app import Live
from vj.setup import load_setup


def main(setup_path: str, out: str, seconds: float) -> None:
    setup = load_setup(setup_path)
    setup.display.fullscreen = False
    live = Live(setup)
    live.app.keep_pixels = True
    live.start()
    try:
        live.app.run(seconds)
        Image.fromarray(live.app.read_pixels()).save(out)
    finally:
        live.stop()
    print(f"wrote {out}: frame {live.show.generator.frame_index}, {live.show.generator.iterations} iterations")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 30.0)
