"""The README's picture: the live window (windowed, HUD on) after N seconds of a setup.

    xvfb-run -a -s "-screen 0 1280x720x24" .venv/bin/python scripts/screenshot.py setups/default.toml docs/screenshot.png 60
"""
from __future__ import annotations

import sys

from PIL import Image

from vj.app import build
from vj.display import DisplayApp, window
from vj.setup import load_setup


def main(setup_path: str, out: str, seconds: float) -> None:
    setup = load_setup(setup_path)
    setup.display.fullscreen = False
    setup.osc.enabled = False
    window.init()
    show, services = build(setup)
    app = DisplayApp(show, keep_pixels=True)
    show.generator.start()
    try:
        app.run(seconds)
        Image.fromarray(app.read_pixels()).save(out)
    finally:
        show.generator.stop()
        app.close()
    print(f"wrote {out}: frame {show.generator.frame_index}, {show.generator.iterations} iterations")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 30.0)
