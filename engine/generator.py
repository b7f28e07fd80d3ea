"""The generator: the paper's method running for ever, steered by the live parameter store.

Every iteration reads a parameter snapshot, so a prompt, cross-fade or temperature change takes
effect at the next iteration. Finished frames (and, with `show_iterations`, each refining
iteration) go to the frame bus. Only a publish reads from the device (pixels, loss, similarities,
the NaN check), so between publishes iterations queue up without waiting. An exception, or a NaN
found at a publish, is logged, counted and recovered from by restarting the frame from the last
good one: the thread does not die.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from .bus import Frame, FrameBus
from .controls import SLOTS, filled_slots
from .inputs import Inputs
from .models import Guide
from .motion import Camera
from .optimizer import FrameOptimizer
from .params import ParamStore, Snapshot
from .post import PostProcess, blend
from .posterize import Posterizer
from .schedule import Mix, live_mix, scheduled_mix
from .temperature import heat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeneratorConfig:
    width: int = 640
    height: int = 360
    seed: int = 0
    scale: int = 1  # optimize at 1/scale resolution and upsample (see optimizer.py)
    parametrization: str = "pixels"  # pixels, pyramid, fourier or shapes (see parametrization.py)
    colour: str = "rgb"              # rgb (clamped) or decorrelated (lucid's colour matrix and a sigmoid)
    levels: int = 4                  # pyramid levels
    level_lr: float = 2.0            # pyramid: level k learns level_lr ** k times faster than the finest
    start: str = "uniform"           # first frame: uniform noise (the paper's) or smooth (see optimizer.py)
    framing: str = "crops"           # views: crops (the paper's) or the whole frame (see augment.py)
    shapes: int = 8                  # shapes: how many
    sketches: int = 1                # start = "shapes": compositions raced at once, the guide keeps one


class Rate:
    """Events per second over a sliding window of the last `n` event times."""

    def __init__(self, n: int = 30) -> None:
        self.times: deque[float] = deque(maxlen=n)

    def tick(self, t: float) -> None:
        self.times.append(t)

    def per_s(self, now: float | None = None) -> float:
        """The rate over the window; with `now` (perf_counter seconds) a silence longer than two
        mean intervals counts too, so a rate shown on the HUD falls to 0 when events stop."""
        if len(self.times) < 2:
            return 0.0
        span = self.times[-1] - self.times[0]
        if span <= 0:
            return 0.0
        n = len(self.times) - 1
        if now is not None and now - self.times[-1] > 2 * span / n:
            span = now - self.times[0]
        return n / span


class Generator:
    def __init__(self, store: ParamStore, guides: Sequence[Guide], bus: FrameBus,
                 config: GeneratorConfig = GeneratorConfig(), post: PostProcess | None = None,
                 post_feedback: bool = False, inputs: Inputs | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.store, self.bus, self.config = store, bus, config
        self.inputs = inputs                  # camera, video or image: start mix and image prompt (inputs.py)
        self.clock = clock                    # seconds: when frames start, for the camera (render, replay: theirs)
        self.camera = Camera()                # moves the previous frame before each frame (motion.py)
        self.post = post                      # cleans each published picture (engine/post.py), or None
        self.post_feedback = post_feedback    # the next frame starts from the cleaned picture
        self.posterizer = Posterizer()        # post.colours: flat colours that persist frame to frame
        self.opt = FrameOptimizer(guides, config.width, config.height, config.scale, config.seed,
                                  config.parametrization, config.colour, config.levels, config.level_lr, config.start,
                                  config.framing, config.shapes, config.sketches)
        self.seed = config.seed
        self.frame_index = 0       # finished frames since the last reset (drives the scheduled deck)
        self.iterations = 0        # all iterations ever run
        self.errors = 0
        self.last_noise = 0.0      # the noise std the current frame actually started with
        self.started = 0.0         # clock time the current frame started
        self._in_frame = False
        self._first = True         # the frame in progress paints from noise (first_iterations, full lr)
        self._pending: set[str] = set()
        self._texts_checked: tuple[str, ...] = ()   # prompt texts last checked for length
        self._iter_rate, self._frame_rate = Rate(), Rate(8)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for action in ("reset", "reseed"):
            if action in store.actions:
                store.on_action(action, lambda a=action: self._pending.add(a))

    # -- thread ------------------------------------------------------------------------------
    def start(self) -> "Generator":
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="generator", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        said = None
        while not self._stop.is_set():
            try:
                idle = self.idle_reason()
                if idle != said:          # said once when it starts and once when it ends
                    if idle:
                        log.warning("the generator waits: %s", idle)
                    else:
                        log.info("the generator paints again")
                    said = idle
                if idle:
                    self._stop.wait(0.05)     # nothing to do until a control changes that
                    continue
                self.step()
            except Exception:  # anything at all: count it, restart the frame, keep painting
                self._recover("error", exc_info=True)
                self._stop.wait(0.05)

    # -- one iteration ---------------------------------------------------------------------------
    def step(self) -> Frame | None:
        """Run one optimization iteration; returns the frame if it was published."""
        snap = self.store.snapshot()
        if snap["pause"]:
            return None
        self._apply_pending()
        self._check_lengths(snap)
        mix = self.mix(snap)
        painting = max(mix, key=lambda sw: sw[1])[0] if mix else 0
        if painting != snap.get("prompt.painting", painting):      # feedback and HUD show what paints
            self.store.set("prompt.painting", painting, "app")
        images = self.inputs.prompts(snap, self.opt, not self._in_frame) if self.inputs else []
        if not (mix or images):
            return None
        h = heat(snap["temperature"], snap["noise"])
        if not self._in_frame:
            self.started = self.clock()
            self.opt.prev = self.camera.start_frame(self.opt.prev, snap, self.started)
            if self.camera.moved:   # shapes move with the picture (grids are the picture itself)
                self.opt.painter.follow(*self.camera.moved)
            self.opt.start_frame(h)
            if self.inputs:
                self.inputs.blend_start(self.opt, snap)
            self.last_noise = 0.0 if self.opt.prev is None else h.noise
            self._first = self.opt.prev is None
            self._in_frame = True
        texts = [snap[f"prompt.{slot}"] for slot, _ in mix]
        weights = [w for _, w in mix]
        # Full lr paints from noise; a first frame's painter after the sketch (optimizer.py) only
        # carries a composition on, as a warm frame does, and full lr would wipe it out.
        lr = snap["lr"] if self._first and (self.opt.sketch is None or self.opt.sketching) else snap["lr"] * h.step
        self.opt.step(texts, weights, h, lr, snap["views"], snap["negative"].strip(), snap["negative.weight"], images)
        now = time.perf_counter()
        self.iterations += 1
        self._iter_rate.tick(now)
        target = snap["first_iterations"] if self._first else snap["iterations"]
        final = self.opt.iteration >= target
        if not (final or snap["show_iterations"]):
            return None   # nothing is read back mid-frame: the device runs ahead
        result = self.opt.frame_result()   # one read per publish: loss, similarities, NaN check
        if not result.finite:
            self._recover("NaN")
            return None
        picture = self._cleaned(snap["post"], snap["post.colours"])
        if final:
            self.opt.finish_frame(picture if self.post_feedback else None)
            self._in_frame = False
            self._frame_rate.tick(now)
        frame = Frame(self.frame_index, self.opt.iteration, final, now, self._pixels(picture),
                      self._stats(snap, mix, texts, result.loss, result.similarity))
        if final:
            self.frame_index += 1
        return self.bus.publish(frame)

    def rates(self, now: float) -> tuple[float, float]:
        """(finished frames/s, iterations/s) as of `now` (perf_counter seconds): 0 when it stopped."""
        return self._frame_rate.per_s(now), self._iter_rate.per_s(now)

    def idle_reason(self, snap: Snapshot | None = None) -> str | None:
        """Why `step()` can paint nothing now, in one sentence for the performer, or None when it can."""
        snap = snap or self.store.snapshot()
        if snap["pause"]:
            return "paused (the pause parameter is on); send /vj/pause 0 to paint again"
        if not filled_slots(snap):
            return ("every prompt slot is empty; type one (/vj/prompt/1 \"a red circle\" over OSC) "
                    "or add [[prompts]] to the setup")
        return None

    def mix(self, snap: Snapshot) -> Mix:
        filled = filled_slots(snap)
        if snap["mode"] == "schedule":
            frames = [snap[f"prompt.{s}.frames"] for s in filled]
            return tuple((filled[i], w) for i, w in scheduled_mix(self.frame_index, frames, snap["loop"]))
        return live_mix(snap["prompt.select"], snap["crossfade"], filled)

    def _check_lengths(self, snap: Snapshot) -> None:
        """Say (log, the read-only `prompt.cut` row: HUD and OSC feedback) which prompts are longer
        than the guides read, once per change of the prompt texts."""
        texts = tuple(snap[f"prompt.{i}"] for i in range(1, SLOTS + 1)) + (snap["negative"],)
        if texts == self._texts_checked or "prompt.cut" not in self.store.specs:
            return
        self._texts_checked = texts
        cuts = []
        for slot, text in zip([*range(1, SLOTS + 1), "negative"], texts):
            if not text.strip():
                continue
            n, room, ignored = max((g.read_tokens(text) for g in self.opt.guides), key=lambda r: len(r[2]))
            if ignored:
                cuts.append(f"{'slot ' if slot != 'negative' else ''}{slot}: {n} tokens, the model reads {room}, "
                            f"ignores \"{ignored[:80]}{'...' if len(ignored) > 80 else ''}\"")
        said = "; ".join(cuts)
        if said and said != snap["prompt.cut"]:
            log.warning("prompt longer than the model reads (%s); shorten it or move what matters to the front", said)
        self.store.set("prompt.cut", said[:1000], "app")

    def _apply_pending(self) -> None:
        while self._pending:
            action = self._pending.pop()
            if action == "reseed":
                self.seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
                self.opt.reseed(self.seed)
            elif action == "reset":
                self.opt.reset()
                self.posterizer.reset()
                self.frame_index = 0
                self._in_frame = False

    def _recover(self, what: str, exc_info: bool = False) -> None:
        self.errors += 1
        if self.errors <= 3 or self.errors % 100 == 0:  # rate-limited: a broken model must not flood the log
            log.error("generator %s at frame %d (error %d); restarting the frame from the last good one",
                      what, self.frame_index, self.errors, exc_info=exc_info)
        self.opt.restore()
        self._in_frame = True
        self._first = False

    def _cleaned(self, strength: float, colours: int = 0) -> torch.Tensor:
        """The grid picture to publish (1, 3, *grid): the post-process network's (post.py), then
        posterized into `colours` flat colours (posterize.py; 0 or 1: not), blended with the
        optimized picture by `strength` 0..1 (0 gives the optimized one back)."""
        with torch.no_grad():
            picture = self.opt.picture()
            if strength <= 0 or (self.post is None and colours < 2):
                return picture
            # A sketch (start = "shapes") is clean already; the network, trained on the painter's
            # frames, would only darken it.
            clean = picture if self.post is None or self.opt.sketching else self.post(picture)
            if colours >= 2:
                clean = self.posterizer(clean, colours)
            return blend(picture, clean, strength)

    def _pixels(self, picture: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            img = self.opt.upsample(picture)[0].clamp(0, 1).mul(255).round().to(torch.uint8)
        return img.permute(1, 2, 0).contiguous().cpu().numpy()

    def _stats(self, snap: Snapshot, mix: Mix, texts: list[str], loss: float, sims: list[float]) -> dict:
        return {
            "iters_per_s": self._iter_rate.per_s(),
            "frames_per_s": self._frame_rate.per_s(),
            "loss": loss,
            "mix": [(slot, text, w) for (slot, w), text in zip(mix, texts)],
            "similarity": dict(zip(texts, sims)),
            "temperature": snap["temperature"],
            "noise": self.last_noise,
            "seed": self.seed,
            "errors": self.errors,
            "iterations": self.iterations,
            "started": self.started,   # clock time the frame started: where the camera stood (motion.py)
        }


