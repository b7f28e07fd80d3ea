"""The recording service: a take starts when the `record` parameter turns on and ends when it turns off.

A take writes, side by side in the setup's recording folder:
  NAME.mkv             the output as the audience saw it (after effects, before the HUD) with the sound
  NAME.timeline.jsonl  every parameter change, for `vj render --replay`
  NAME.frames[.mkv]    optionally, every generator frame, lossless

Three threads feed it and none of them waits for the disk: the window calls `on_output(fbo, t)` on the
main thread every display frame, the audio input calls `on_audio(block, t, samplerate)`, and store
writers (OSC, MIDI, keys) reach it as a store listener. A take whose disk or folder fails (disk
full) ends itself with one sentence in `record.error` and turns `record` off; one whose encoder fails
otherwise (a bug) is closed and recording goes on in a new take, up to MAX_RESTARTS times while
`record` stays on. The show goes on either way; `errors` counts each failure for the HUD.

Times: the take's clock is `perf_counter()` from the moment `record` turned on, the clock of the
audio input and of the live display. A fixed-step display clock (replays, tests) is anchored to it at
the take's first frame.
"""
from __future__ import annotations

import logging
import threading
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from engine.params import Change

from ..show import Show
from .encoder import VideoFormat
from .frames import GeneratorFrameWriter
from .oserrors import folder_problem
from .paths import TakePaths, take_paths
from .readback import FramebufferReader
from .sound import resample
from .timeline import TimelineWriter, header
from .video import PictureClock, VideoRecording

log = logging.getLogger(__name__)

AUDIO_WAIT_S = 2.0   # a take begun with the show waits this long for the sound input to open
AUDIO_FRESH_S = 2.0  # sound seen this recently means the input is live: give the take a sound track
FLIGHT_GRACE_S = 0.5  # after `record` turns off, how long the last pictures may take off the GPU
SAME_CLOCK_S = 0.5   # a display time this close to perf_counter() is on perf_counter's clock
MAX_RESTARTS = 3     # encoder failures that open a new take while `record` stays on


@dataclass
class Take:
    paths: TakePaths
    p0: float                                  # perf_counter() when `record` turned on
    rate: float                                # video frames per second
    audio: tuple[int, int] | None              # (samplerate, channels) of the sound track
    video: VideoRecording | None = None        # made at the first display frame (its size)
    timeline: TimelineWriter | None = None
    frames: GeneratorFrameWriter | None = None
    offset: float | None = None                # display time + offset = take time
    resampled_from: int | None = None          # the input's rate after it reopened at another one
    clock: PictureClock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = PictureClock(self.rate)

    def parts(self) -> list[Any]:
        return [p for p in (self.video, self.timeline, self.frames) if p is not None]


class Recorder:
    """The show's recorder: a service (`start`/`stop`), a frame sink (`on_output`), an audio listener."""

    part = "record"

    def __init__(self, show: Show) -> None:
        self.show = show
        self.store = show.store
        self.cfg = show.setup.record
        self._monitor_rate: float | None = None          # looked up on the main thread (GLFW)
        self.expect_audio = False                        # the setup names a sound input: wait for it
        self._reader: FramebufferReader | None = None   # main thread only (GL)
        self._reader_take: Take | None = None
        self._take: Take | None = None
        self._last: Take | None = None
        self._lock = threading.Lock()                   # begin/end come from any writer's thread
        self._audio_seen: tuple[float, int, int] | None = None  # (perf_counter, samplerate, channels)
        self._published_drops = 0
        self.errors = 0                                 # takes (or their timeline/frames) that failed
        self._restarts = 0                              # new takes opened after encoder failures
        self.store.subscribe(self._on_change)

    @classmethod
    def for_show(cls, show: Show, services: list) -> "Recorder":
        """The recorder of a show, tapping the sound of whichever service offers `add_listener` (audio)."""
        recorder = cls(show)
        for service in services:
            if hasattr(service, "add_listener"):
                service.add_listener(recorder.on_audio)
                audio = show.setup.audio
                recorder.expect_audio = bool(audio.device or audio.file)
        return recorder

    # -- service ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self.store.base("record"):
            self._begin()

    def stop(self, timeout: float = 10.0) -> None:
        """End the take (if any) and wait until its files are closed."""
        take = self._end() or self._last
        if threading.current_thread() is threading.main_thread():
            self._switch_reader(None)  # main thread: the GL context is ours, hand over the last pictures
        for part in take.parts() if take else ():
            if part is take.video:
                part.finish()
            part.wait(timeout)
        if take and take.video and take.video.dropped != self.store.base("record.dropped"):
            self.store.set("record.dropped", take.video.dropped, "app")   # those dropped while closing

    @property
    def recording(self) -> bool:
        return self._take is not None

    @property
    def take(self) -> Take | None:
        """The current take, or the last one after it ended (tests and the HUD read counters here)."""
        return self._take or self._last

    @property
    def dropped(self) -> int:
        take = self.take
        return take.video.dropped if take and take.video else 0

    # -- inputs ------------------------------------------------------------------------------------
    def on_output(self, fbo: Any, t: float) -> None:
        """Frame sink (main thread, every display frame): read the output back without waiting."""
        if self._monitor_rate is None:
            self._monitor_rate = monitor_refresh_rate()
        take = self._take
        if take is not self._reader_take:
            self._switch_reader(take)
        if take is None:
            return
        if take.offset is None:
            now = time.perf_counter()
            take.offset = -take.p0 if abs(t - now) < SAME_CLOCK_S else (now - take.p0) - t
        if take.video is None:
            take.audio = take.audio or self._audio_format()
            if take.audio is None and self.expect_audio and self.cfg.audio:
                if time.perf_counter() - take.p0 < AUDIO_WAIT_S:
                    return  # the sound input is still opening (`vj run --record`): a moment more
                log.warning("no sound arrived within %g s of the recording's start; recording without sound",
                            AUDIO_WAIT_S)
            if not self.cfg.fps:  # the take began before the first frame: the monitor is known now
                take.rate = self.display_rate()
                take.clock = PictureClock(take.rate)
            take.video = VideoRecording(take.paths.video, self._format(take, fbo.size), self._fault)
        if self._reader is None:
            self._reader = FramebufferReader(fbo.ctx)
        for pixels, index in self._reader.ready():
            take.video.add_picture(pixels, index)
        slot = take.clock.slot(t + take.offset)
        if slot is not None and take.video.alive:
            self._reader.push(fbo, slot, key=t)   # one copy with the other outputs of this frame
        if take.video.dropped != self._published_drops:
            self._published_drops = take.video.dropped
            self.store.set("record.dropped", self._published_drops, "app")

    def on_audio(self, block: np.ndarray, t: float, samplerate: int) -> None:
        """Audio listener (the audio input's thread): `block` (frames, channels) starts at perf_counter `t`."""
        self._audio_seen = (time.perf_counter(), int(samplerate), int(block.shape[1]) if block.ndim > 1 else 1)
        take = self._take
        if take is None or take.video is None or not take.audio:
            return
        if samplerate != take.audio[0]:
            if take.resampled_from != samplerate:   # said once per change, not per block
                take.resampled_from = samplerate
                log.warning("The sound input now runs at %d Hz; this recording started at %d Hz, so its "
                            "sound is resampled to that until the take ends.", samplerate, take.audio[0])
            block = resample(block, samplerate, take.audio[0])
        take.video.add_sound(block, t - take.p0)

    def _on_change(self, change: Change) -> None:
        take = self._take
        if take is not None and take.timeline is not None:
            take.timeline.on_change(change)
        if change.name == "record":
            if change.value:
                if change.source != "recorder":
                    self._restarts = 0
                self._begin()
            else:
                self._end()

    # -- takes -------------------------------------------------------------------------------------
    def _begin(self) -> None:
        if self._take is not None:
            return
        frames_kind = self.cfg.generator_frames
        paths = take_paths(self.show.setup, frames_kind=frames_kind)
        problem = folder_problem(paths.video.parent)
        if problem:
            log.error(problem)
            # Not from inside this listener: the store's other listeners (OSC feedback) would hear
            # `record` go off before they hear it go on.
            threading.Thread(target=self._fault, args=(problem,), name="record-fault", daemon=True).start()
            return
        with self._lock:
            if self._take is not None:
                return
            rate = self.cfg.fps or self.display_rate()
            take = Take(paths, time.perf_counter(), rate, self._audio_format())
            clock = time.perf_counter
            if self.cfg.timeline:
                take.timeline = TimelineWriter(paths.timeline, self.show, clock, take.p0,
                                               header(self.show, paths.video.name, rate), self._part_fault)
            if frames_kind != "off":
                take.frames = GeneratorFrameWriter(self.show.bus, paths.frames, frames_kind, clock, take.p0,
                                                   self._part_fault)
            self._published_drops = 0
            self.store.set("record.dropped", 0, "app")
            self.store.set("record.error", "", "app")
            self._take = take
        log.info("recording to %s (%g fps%s)", paths.video, rate,
                 f", sound {take.audio[0]} Hz" if take.audio else
                 ", sound when the input opens" if self.expect_audio and self.cfg.audio else ", no sound input")

    def _end(self) -> Take | None:
        with self._lock:
            take, self._take = self._take, None
            if take is None:
                return None
            self._last = take
        for part in take.parts():
            if part is take.video:
                part.finish(grace=FLIGHT_GRACE_S)  # the main thread hands over the last pictures
            else:
                part.finish()
        return take

    def _switch_reader(self, take: Take | None) -> None:
        """A take ended or began: the pictures still in flight go to the take they belong to."""
        old = self._reader_take
        if self._reader is not None:
            try:
                pictures = self._reader.drain()
            except Exception as e:  # the window (and its GL context) closed first: nothing to read
                log.debug("last pictures lost with the GL context: %s", e)
                pictures, self._reader = [], None
            if old is not None and old.video is not None:
                for pixels, index in pictures:
                    old.video.add_picture(pixels, index)
        if old is not None and old.video is not None and old is not self._take:
            old.video.finish()
        self._reader_take = take

    def display_rate(self) -> float:
        """The display's nominal rate: the monitor's refresh, else the setup's [display] fps."""
        return self._monitor_rate or float(getattr(self.show.setup.display, "fps", 60.0))

    def _format(self, take: Take, size: tuple[int, int]) -> VideoFormat:
        rate = Fraction(take.rate).limit_denominator(1001)
        rate_hz, channels = take.audio or (0, 2)
        return VideoFormat(size[0], size[1], rate, preset=self.cfg.preset, crf=self.cfg.crf,
                           audio_rate=rate_hz, audio_channels=channels, hardware=self.cfg.hardware)

    def _audio_format(self) -> tuple[int, int] | None:
        seen = self._audio_seen
        if not self.cfg.audio or seen is None or time.perf_counter() - seen[0] > AUDIO_FRESH_S:
            return None
        return seen[1], min(2, seen[2])

    def _fault(self, sentence: str) -> None:
        """The video failed: say so and keep the show. A disk or folder fault stops recording; any other
        (the encoder's own) closes this take and opens the next, unless it keeps happening."""
        self.errors += 1
        take = self._take
        if take is not None and take.video is not None and not take.video.disk_fault \
                and self._restarts < MAX_RESTARTS:
            self._restarts += 1
            log.warning("recording goes on in a new file (encoder failure %d of at most %d in a row)",
                        self._restarts, MAX_RESTARTS)
            threading.Thread(target=self._next_take, name="record-restart", daemon=True).start()
            return
        self.store.set("record.error", sentence, "app")
        self.store.set("record", False, "recorder")

    def _next_take(self) -> None:
        self._end()
        if self.store.base("record"):
            self._begin()

    def _part_fault(self, sentence: str) -> None:
        """The timeline or the frame copy failed: say so (unless the video's own failure says more)."""
        self.errors += 1
        take = self._take or self._last
        if take is None or take.video is None or take.video.error is None:
            self.store.set("record.error", sentence, "app")


def monitor_refresh_rate() -> float:
    """Refresh rate of the monitor of the current GL context's window; 0.0 where unknown (Xvfb, no GLFW)."""
    try:
        import glfw
        with warnings.catch_warnings():  # pyGLFW reports "not initialized" as a warning or an error
            warnings.simplefilter("ignore")
            window = glfw.get_current_context()
            monitor = (glfw.get_window_monitor(window) or glfw.get_primary_monitor()) if window else None
            return float(glfw.get_video_mode(monitor).refresh_rate) if monitor else 0.0
    except Exception:  # GLFW not initialized (offscreen contexts) or no monitor: unknown
        return 0.0
