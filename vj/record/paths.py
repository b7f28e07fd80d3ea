"""Where a recording's files go: the setup's recording folder, named by date, time and show name."""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

from ..setup import Setup


@dataclass(frozen=True)
class TakePaths:
    video: Path       # what the audience saw and heard
    timeline: Path    # every parameter change, for `vj render --replay`
    frames: Path      # the generator's frames, lossless (a folder of PNGs, or an FFV1 .mkv)

    @property
    def stem(self) -> str:
        return self.video.stem


def recording_folder(setup: Setup) -> Path:
    """[record] folder, relative to the setup file (or to the working directory without one)."""
    folder = Path(setup.record.folder).expanduser()
    if not folder.is_absolute() and setup.path is not None:
        folder = setup.path.resolve().parent / folder
    return folder


def safe_name(name: str) -> str:
    """A show name as a portable file name part: letters, digits, - and _ only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60] or "show"


def take_paths(setup: Setup, when: datetime.datetime | None = None, frames_kind: str = "png") -> TakePaths:
    """Fresh paths like recordings/2025-06-01_21-30-05_default.mkv (a suffix if that exists already)."""
    when = when or datetime.datetime.now()
    folder = recording_folder(setup)
    base = f"{when:%Y-%m-%d_%H-%M-%S}_{safe_name(setup.name)}"
    stem, n = base, 1
    while any(folder.glob(f"{stem}.*")):
        n += 1
        stem = f"{base}-{n}"
    frames = folder / (f"{stem}.frames.mkv" if frames_kind == "ffv1" else f"{stem}.frames")
    return TakePaths(folder / f"{stem}.mkv", folder / f"{stem}.timeline.jsonl", frames)
