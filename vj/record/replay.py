"""`vj render --replay TIMELINE.jsonl`: a recorded set painted again, offline, from its control timeline.

The generator starts as the recording did (the setup, parameters and seed of the timeline's header)
and runs on a fixed step: as many iterations as each frame asks for, however long they take. Its
clock reads the recorded time each frame started, so the camera moves each frame as it did live.
Every recorded change is applied before the iteration it preceded live (its `it`, the generator's
total iteration count), so prompts, cross-fades, temperature and reseeds land on the same frames.
Each finished frame is shown in the video from the time it was first shown live, so the re-render
lines up with the recording's sound, which is copied in when the recording sits beside the timeline.

Higher quality: `width`/`height` paint at another resolution; `iterations_factor` K spends K times
the iterations on every frame (recorded positions are scaled by K, so changes stay on their frames).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from tqdm import tqdm

from engine.bus import Frame

from ..setup import SetupError, parse_setup
from ..show import build_show
from .encoder import VideoFile, VideoFormat
from .timeline import read_timeline

log = logging.getLogger(__name__)

NOT_REPLAYED = {"record", "quit", "fullscreen", "hud"}   # the recording session, not the picture
FOLLOWED_BY_A_SET = {"next", "prev"}                     # their prompt.select write is in the timeline
SCALED_BY_FACTOR = {"iterations", "first_iterations"}
SOUND_RATE = 48_000


@dataclass
class Applied:
    event: dict
    frame: int        # the replay generator's frame index when the event was applied
    it: int           # replay iterations since the start


@dataclass
class ReplayResult:
    video: Path
    frames: list[int] = field(default_factory=list)  # generator frame index of each frame written
    applied: list[Applied] = field(default_factory=list)
    sound: bool = False


def replay(timeline: str | Path, out: str | Path, width: int | None = None, height: int | None = None,
           iterations_factor: int = 1, fps: float | None = None, sound_from: str | Path | None = "auto",
           progress: bool = True, on_frame: Callable[[Frame], None] | None = None) -> ReplayResult:
    """Re-render `timeline` to the video `out`. Raises SetupError (one sentence) on a bad timeline."""
    timeline = Path(timeline)
    try:
        head, events = read_timeline(timeline)
    except (OSError, ValueError) as e:
        raise SetupError(f"Cannot replay {timeline}: {e}.") from e
    setup = parse_setup(head["setup_data"], f"{timeline} (header)")
    setup.generator.width = width or head["width"]
    setup.generator.height = height or head["height"]
    setup.params = {}
    show = build_show(setup)
    player = Player(show, head, events, max(1, iterations_factor))
    frame_times = [e["t"] for e in events if e["kind"] == "frame"]
    total = len(frame_times) or 1
    end_t = max([e["t"] for e in events], default=0.0)
    rate = Fraction(fps or head.get("fps") or 30.0).limit_denominator(1001)   # 29.97 stays 29.97, not 30
    g = show.generator.config
    sound = _sound_source(timeline, head, sound_from)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # The recording's size (its output picture), unless a new painting size was asked for.
    size = (g.width, g.height) if (width or height or "output" not in head) else tuple(head["output"])
    video = VideoFile(out, VideoFormat(*size, rate, audio_rate=SOUND_RATE if sound else 0))
    result = ReplayResult(out, sound=sound is not None)
    writer = HeldFrames(video, float(rate), sound)
    try:
        with tqdm(total=total, unit="frame", desc="replay", disable=not progress) as bar:
            for frame in player.frames(total):
                t = frame_times[len(result.frames)] if frame_times else 0.0
                writer.show(frame.pixels, t)
                result.frames.append(frame.index)
                if on_frame:
                    on_frame(frame)
                bar.update(1)
        writer.end(max(end_t, writer.last_t + 1 / float(rate)))
    finally:
        video.close()
    result.applied = player.applied
    log.info("replayed %s: %d frames, %d changes -> %s", timeline, len(result.frames), len(player.applied), out)
    return result


class Player:
    """Drives a fresh generator through the recorded changes, one iteration at a time."""

    def __init__(self, show, head: dict, events: list[dict], factor: int) -> None:
        self.show, self.store, self.gen = show, show.store, show.generator
        self.factor = factor
        self.base_it = head["it"]
        self.events = [e for e in events if e["kind"] in ("set", "mod", "action", "seed")]
        self.applied: list[Applied] = []
        self._next = 0
        for name, value in head["params"].items():
            self._set(name, value)
        if head.get("seed") is not None and head["seed"] != self.gen.seed:
            self._reseed(head["seed"])
        self.start_it = self.gen.iterations
        self.made = 0
        self.starts = [e["started"] for e in events if e["kind"] == "frame" and "started" in e]
        if self.starts:
            self.gen.clock = lambda: self.starts[min(self.made, len(self.starts) - 1)]

    def frames(self, n: int) -> Iterator[Frame]:
        """The next `n` finished frames, with every change applied where it was live."""
        made = 0
        while made < n:
            self._apply_due()
            before = self.gen.iterations
            frame = self.gen.step()
            if self.gen.iterations == before:   # paused, or no prompt: nothing moves until the next change
                if self._next >= len(self.events):
                    log.warning("the replay stalled after %d of %d frames (the set ended paused or without "
                                "prompts)", made, n)
                    return
                self._apply(self.events[self._next])
                self._next += 1
                continue
            if frame is not None and frame.final:
                made += 1
                self.made += 1
                yield frame

    def position(self, event: dict) -> int:
        return (event["it"] - self.base_it) * self.factor

    def _apply_due(self) -> None:
        done = self.gen.iterations - self.start_it
        while self._next < len(self.events) and self.position(self.events[self._next]) <= done:
            self._apply(self.events[self._next])
            self._next += 1

    def _apply(self, event: dict) -> None:
        kind, name = event["kind"], event.get("name")
        if kind in ("set", "mod"):
            if not self._set(name, event["value"]):
                return
        elif kind == "seed":
            if event["value"] == self.gen.seed:
                return
            self._reseed(event["value"])
        elif name == "reseed":
            later = next((e for e in self.events[self._next:] if e["kind"] == "seed"), None)
            if later is None:
                return
            self._reseed(later["value"])
        elif name in FOLLOWED_BY_A_SET or name in NOT_REPLAYED or name not in self.store.actions:
            return
        else:
            self.store.trigger(name, "replay")
        self.applied.append(Applied(event, self.gen.frame_index, self.gen.iterations - self.start_it))

    def _set(self, name: str, value) -> bool:
        spec = self.store.specs.get(name)
        if spec is None or spec.readonly or name in NOT_REPLAYED:
            return False
        if name in SCALED_BY_FACTOR:
            value = min(int(spec.hi), int(value) * self.factor)
        return self.store.set(name, value, "replay")

    def _reseed(self, seed: int) -> None:
        # What Generator._apply_pending does for "reseed", with the recorded seed instead of a new one.
        self.gen.seed = int(seed)
        self.gen.opt.reseed(int(seed))


class HeldFrames:
    """Writes generator frames into a constant-rate video, each held until the next one was shown."""

    def __init__(self, video: VideoFile, rate: float, sound: Iterator[np.ndarray] | None) -> None:
        self.video, self.rate, self.sound = video, rate, sound
        self.slot: int | None = None
        self.current: np.ndarray | None = None
        self.last_t = 0.0
        self._samples = 0

    def show(self, pixels: np.ndarray, t: float) -> None:
        """`pixels` were first shown at `t`: the frame before fills the slots up to then."""
        start = round(t * self.rate)
        if self.current is None:
            self.slot = start
        else:
            self._hold_until(start)  # a frame replaced within its first slot is never written, as live
        self.current, self.last_t = pixels, t

    def end(self, t: float) -> None:
        if self.current is not None:
            self._hold_until(max(round(t * self.rate), self.slot + 1))
        self._sound_until(t)

    def _hold_until(self, slot: int) -> None:
        while self.slot < slot:
            self.video.write_picture(self.current, self.slot)
            self.slot += 1
            self._sound_until(self.slot / self.rate)

    def _sound_until(self, t: float) -> None:
        if self.sound is None:
            return
        want = round(t * SOUND_RATE)
        while self._samples < want:
            block = next(self.sound, None)
            if block is None:
                self.sound = None
                return
            self.video.write_sound(block, self._samples)
            self._samples += len(block)


def _sound_source(timeline: Path, head: dict, sound_from) -> Iterator[np.ndarray] | None:
    """Blocks of the recording's sound (stereo, 48 kHz), when there is a recording with sound."""
    if sound_from is None:
        return None
    path = timeline.parent / head.get("video", "") if sound_from == "auto" else Path(sound_from)
    if not head.get("video") and sound_from == "auto":
        return None
    import av
    try:
        box = av.open(str(path))
    except (OSError, av.FFmpegError) as e:
        if sound_from != "auto":
            raise SetupError(f"Cannot take the sound from {path}: {e}.") from e
        return None
    if not box.streams.audio:
        box.close()
        return None

    def blocks() -> Iterator[np.ndarray]:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SOUND_RATE)
        try:
            for frame in box.decode(audio=0):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().T
        except av.FFmpegError as e:  # a recording cut short by a crash ends early: so does its sound
            log.info("the recording's sound ends early (%s)", e)
        finally:
            box.close()
    return blocks()
