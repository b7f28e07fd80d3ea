"""Headless render: the paper's batch use, a prompt deck to a numbered sequence of PNG frames."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from engine.schedule import deck_length

from .setup import Setup
from .show import build_show

log = logging.getLogger(__name__)


def render(setup: Setup, frames: int | None, out: Path, progress: bool = True) -> list[Path]:
    """Run the generator synchronously and write frame_00000.png, ...; returns the paths."""
    show = build_show(setup)
    store = show.store
    if "mode" not in setup.params:
        store.set("mode", "schedule", "render")
    if "loop" not in setup.params:
        store.set("loop", False, "render")
    if frames is None:
        frames = max(1, deck_length([p.frames for p in setup.prompts]))
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with tqdm(total=frames, unit="frame", disable=not progress) as bar:
        while len(paths) < frames:
            frame = show.generator.step()
            if frame is None or not frame.final:
                continue
            path = out / f"frame_{frame.index:05d}.png"
            Image.fromarray(np.ascontiguousarray(frame.pixels)).save(path)
            paths.append(path)
            bar.set_postfix(loss=f"{frame.stats['loss']:.3f}", it_s=f"{frame.stats['iters_per_s']:.1f}")
            bar.update(1)
    return paths
