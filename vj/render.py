"""Headless render: the paper's batch use, a prompt deck to numbered PNG frames and a playable video."""
from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from engine.schedule import deck_length

from .record.encoder import VideoFile, VideoFormat
from .setup import Setup, SetupError
from .show import build_show

log = logging.getLogger(__name__)


def render(setup: Setup, frames: int | None, out: Path, progress: bool = True,
           video: Path | None = None, fps: float = 24.0) -> list[Path]:
    """Run the generator synchronously and write frame_00000.png, ... and the video `video`
    (default: OUT/render.mkv, one generator frame per video frame at `fps`); returns the PNG paths.
    Raises SetupError when there is nothing to paint (no prompt, paused), which would wait for ever."""
    show = build_show(setup)
    store = show.store
    if "mode" not in setup.params:
        store.set("mode", "schedule", "render")
    if "loop" not in setup.params:
        store.set("loop", False, "render")
    if frames is None:
        frames = max(1, deck_length([p.frames for p in setup.prompts]))
    idle = show.generator.idle_reason()
    if idle:  # the loop below would wait for ever
        raise SetupError(f"{setup.label}: nothing to render, {idle}.")
    out.mkdir(parents=True, exist_ok=True)
    g = setup.generator
    rate = Fraction(fps).limit_denominator(1001)
    movie = VideoFile(video or out / "render.mkv", VideoFormat(g.width, g.height, rate))
    paths = []
    show.generator.clock = lambda: len(paths) / fps   # video time: the camera moves per video second
    try:
        with tqdm(total=frames, unit="frame", disable=not progress) as bar:
            while len(paths) < frames:
                frame = show.generator.step()
                if frame is None or not frame.final:
                    continue
                path = out / f"frame_{frame.index:05d}.png"
                Image.fromarray(np.ascontiguousarray(frame.pixels)).save(path)
                movie.write_picture(frame.pixels, len(paths))
                paths.append(path)
                bar.set_postfix(loss=f"{frame.stats['loss']:.3f}", it_s=f"{frame.stats['iters_per_s']:.1f}")
                bar.update(1)
    finally:
        movie.close()  # an interrupted render still leaves a playable video of the frames so far
    log.info("wrote %d frame%s to %s and %s", len(paths), "" if len(paths) == 1 else "s", out, movie.path)
    return paths
