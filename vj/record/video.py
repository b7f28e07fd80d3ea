"""One recording's picture and sound, encoded on its own thread behind bounded queues.

The render loop hands pictures over with `add_picture` and never waits: when the encoder falls
behind and the queue is full, the picture is dropped and counted (the HUD shows the count). The
audio thread hands blocks over with `add_sound`, copying only. Both carry times on one clock, the
recording's `t0` being time zero, so picture and sound are placed where they happened.

An I/O failure (disk full, folder gone or read-only) ends the recording with one sentence passed to
`on_fault`; the file is closed where it stands and stays playable. The show never notices.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .encoder import VideoFile, VideoFormat
from .oserrors import could_not_start, stopped
from .sound import SoundPlacer

log = logging.getLogger(__name__)

SOUND_STALL_S = 0.5     # sound this far behind the picture is given up on and filled with silence
SOUND_TAIL_WAIT_S = 0.3 # at the end, how long to wait for the sound of the last pictures
# The encoder's CPU priority (0: as the display and generator threads). At +5 it lost to every other
# process on the shared 2-core machine and dropped 12-16% of pictures at 30 fps (bench.record, runs
# interleaved with the same at 0, which dropped 0-0.7% with the display rate unchanged).
ENCODER_NICENESS = 0


class PictureClock:
    """Which display frames to record at `rate` frames per second, on the recording's clock.

    A display frame at time t becomes picture round(t * rate) unless that slot is already taken;
    so a 60 Hz display recorded at 30 keeps every other frame, and jitter never shifts a picture
    by more than half a slot.
    """

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.last = -1

    def slot(self, t: float) -> int | None:
        ideal = t * self.rate
        if ideal < self.last + 0.5:
            return None
        self.last = max(self.last + 1, round(ideal))
        return self.last


class VideoRecording:
    def __init__(self, path: Path, fmt: VideoFormat, on_fault: Callable[[str], None] = lambda s: None,
                 max_pictures: int = 8) -> None:
        self.path = path
        self.fmt = fmt
        self.on_fault = on_fault
        self.rate = float(fmt.rate)
        self.dropped = 0
        self.encode_s = 0.0      # wall time spent encoding pictures on this thread (bench.record)
        self.error: str | None = None
        self.disk_fault = False  # the error was the disk's or folder's (retrying at once would fail again)
        self._pictures: queue.Queue[tuple[np.ndarray, int]] = queue.Queue(max_pictures)
        self._sound: queue.Queue[tuple[np.ndarray, float]] = queue.Queue(512)
        self._next_sample = 0               # samples written to the file
        self._placer = SoundPlacer(fmt.audio_rate or 1, 1 if fmt.audio_channels == 1 else 2)
        self._sound_end: int | None = None  # set at the end: the last picture's end, in samples
        self._last_index = -1
        self._file: VideoFile | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"encoder {path.name}", daemon=True)
        self._thread.start()

    # -- producers (render loop, audio callback) -----------------------------------------------
    def add_picture(self, pixels: np.ndarray, index: int) -> bool:
        """Queue an (H, W, 3) RGB picture for slot `index`; False (and counted) if the encoder is behind."""
        if self._stopping.is_set():
            return False
        try:
            self._pictures.put_nowait((pixels, index))
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def add_sound(self, block: np.ndarray, t: float) -> None:
        """Queue (frames, channels) float32 samples whose first sample sounded at `t` (recording clock)."""
        if self.fmt.audio_rate and not self._stopping.is_set():
            try:
                self._sound.put_nowait((np.array(block, np.float32, copy=True), t))
            except queue.Full:
                pass  # the gap is filled with silence when the next block is placed

    def finish(self, grace: float = 0.0) -> None:
        """Encode what is queued, then close the file. Returns at once; `wait()` joins.

        With `grace`, pictures are still taken for that many seconds (those in flight on the GPU)
        unless `finish()` is called again sooner.
        """
        if grace > 0:
            timer = threading.Timer(grace, self._stopping.set)
            timer.daemon = True
            timer.start()
        else:
            self._stopping.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopping.is_set()

    @property
    def written(self) -> int:
        return self._file.pictures if self._file else 0

    @property
    def seconds(self) -> float:
        return (self._last_index + 1) / self.rate

    # -- encoder thread --------------------------------------------------------------------------
    def _run(self) -> None:
        yield_to_the_show()
        try:
            self._open()
            while not (self._stopping.is_set() and self._pictures.empty()):
                try:
                    pixels, index = self._pictures.get(timeout=0.05)
                except queue.Empty:
                    self._place_sound()
                    continue
                self._place_sound()
                started = time.perf_counter()
                self._file.write_picture(pixels, index)
                self.encode_s += time.perf_counter() - started
                self._last_index = index
                self._keep_sound_moving()
            self._finish_sound()
        except Exception as e:  # anything at all: the recording ends, the show goes on
            self._fault(e)
        finally:
            self._stopping.set()
            if self._file is not None:
                self._file.close()
            self._drop_queued()
        if self.error is None:
            log.info("recorded %s: %d pictures (%.1f s), %d dropped", self.path, self.written, self.seconds,
                     self.dropped)

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = VideoFile(self.path, self.fmt)
        except OSError as e:
            raise RecordingError(could_not_start(e, self.path.parent)) from e

    def _place_sound(self) -> None:
        """Write every queued sound block where its time stamp says, through clock drift (sound.py)."""
        while True:
            try:
                block, t = self._sound.get_nowait()
            except queue.Empty:
                return
            for piece in self._placer.place(block, t):
                self._write_sound(piece)

    def _keep_sound_moving(self) -> None:
        """A stalled sound source must not hold the picture back in the muxer: fill with silence."""
        if not self.fmt.audio_rate:
            return
        behind = (self._last_index / self.rate) - self._next_sample / self.fmt.audio_rate
        if behind > SOUND_STALL_S:
            self._silence(round((behind - SOUND_STALL_S / 2) * self.fmt.audio_rate))

    def _finish_sound(self) -> None:
        """Make the sound end with the last picture: wait briefly for it, pad or cut to length."""
        if not self.fmt.audio_rate or self._last_index < 0:
            return
        end = self._sound_end = round((self._last_index + 1) / self.rate * self.fmt.audio_rate)
        deadline = time.monotonic() + SOUND_TAIL_WAIT_S
        while self._next_sample < end and time.monotonic() < deadline:
            self._place_sound()
            time.sleep(0.01)
        self._place_sound()
        if self._next_sample < end:
            self._silence(end - self._next_sample)

    def _silence(self, samples: int) -> None:
        for piece in self._placer.silence(samples):
            self._write_sound(piece)

    def _write_sound(self, block: np.ndarray) -> None:
        if self._sound_end is not None:
            block = block[:max(0, self._sound_end - self._next_sample)]  # nothing after the last picture
        if len(block):
            self._file.write_sound(block, self._next_sample)
            self._next_sample += len(block)

    def _fault(self, e: Exception) -> None:
        if isinstance(e, RecordingError):
            sentence = str(e)
        elif isinstance(e, OSError):
            sentence = stopped(e, self.path, self.seconds)
        else:
            sentence = (f"Recording stopped: writing {self.path} failed ({e}); "
                        f"the {self.seconds:.1f} s before are kept and playable.")
            log.debug("recording failure", exc_info=True)
        self.error = sentence
        self.disk_fault = isinstance(e, (OSError, RecordingError))
        log.error(sentence)
        try:
            self.on_fault(sentence)
        except Exception:
            log.exception("recording fault handler failed")

    def _drop_queued(self) -> None:
        for q in (self._pictures, self._sound):
            while True:
                try:
                    q.get_nowait()
                except queue.Empty:
                    break


def yield_to_the_show(niceness: int = ENCODER_NICENESS) -> None:
    """Set this thread's CPU niceness (Linux: per thread; x264's workers, started from it, inherit it):
    above 0 the encoder falls behind and drops pictures before the display slows down."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError) as e:  # not Linux, or not allowed: the encoder runs at normal priority
        log.debug("encoder priority unchanged: %s", e)


class RecordingError(RuntimeError):
    """A recording cannot go on; the message is one sentence for the performer."""
