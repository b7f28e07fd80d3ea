"""Where sound comes from: an input device (sounddevice/PortAudio) or a file played in real time.

Both sources deliver the same thing: fixed-size float32 blocks (frames, channels) pushed into a
preallocated `BlockRing`, each with the time of its first sample on `time.perf_counter()`'s clock.
The pushing side (the PortAudio callback, the file's pacing thread) only copies and signals;
analysis happens on the consumer's thread (see service.py).

`AudioSource` holds the shared mechanism; backends override `_open` / `_close`. A source that
cannot start raises `AudioUnavailable` with one sentence for the performer; a source that dies
while running sets `failure`; a file that reached its end (without `loop`) sets `ended`.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..quiet import alsa_to_log

log = logging.getLogger(__name__)

MAX_CHANNELS = 2  # analysis mixes to mono; the recorder gets up to stereo


class AudioUnavailable(Exception):
    """An audio source cannot start; the message says what happened and what to do."""


class BlockRing:
    """Preallocated slots between one pushing thread and one popping thread.

    `push` copies into the next slot and releases a semaphore: no allocation, no waiting. When the
    consumer falls more than `slots` blocks behind, the oldest blocks are skipped and counted in
    `overruns` (analysis wants the newest sound, not a backlog).
    """

    def __init__(self, block: int, channels: int, slots: int = 32) -> None:
        self.block, self.channels = block, channels
        self._data = np.zeros((slots, block, channels), np.float32)
        self._times = np.zeros(slots, np.float64)
        self._written = 0
        self._read = 0
        self._ready = threading.Semaphore(0)
        self.overruns = 0

    def push(self, data: np.ndarray, t: float) -> None:
        slot = self._written % len(self._data)
        np.copyto(self._data[slot], data)
        self._times[slot] = t
        self._written += 1
        self._ready.release()

    def pop(self, timeout: float) -> tuple[np.ndarray, float] | None:
        """The next block (a read-only view, valid until `slots` more are pushed) or None on timeout."""
        if not self._ready.acquire(timeout=timeout):
            return None
        behind = self._written - self._read
        if behind > len(self._data) - 1:
            skip = behind - (len(self._data) - 1)
            self.overruns += skip
            self._read += skip
            for _ in range(skip):  # keep the semaphore's count equal to the unread blocks
                self._ready.acquire(blocking=False)
        slot = self._read % len(self._data)
        self._read += 1
        view = self._data[slot]
        view.flags.writeable = False
        return view, float(self._times[slot])


class AudioSource:
    """Base class: a stream of blocks into `self.ring`. Backends override `_open` and `_close`.

    `_open` calls `self._make_ring(samplerate, channels)` (which sets `samplerate`, `channels` and
    `block`) before sound flows, and sets `latency` (input latency, seconds) when it knows it.
    """

    kind = "source"

    def __init__(self, spec: str, block_ms: float) -> None:
        self.spec = spec
        self.block_ms = block_ms
        self.name = spec
        self.samplerate = 0
        self.channels = 0
        self.block = 0
        self.latency = 0.0
        self.ring: BlockRing | None = None
        self.failure: str | None = None
        self.ended = False
        self.errors = 0          # failures caught in the pushing thread (PortAudio callback), block lost

    def open(self) -> BlockRing:
        self.failure, self.ended = None, False
        self._open()
        assert self.ring is not None, "a backend's _open must call _make_ring()"
        log.info("audio %s %r open: %d Hz, %d channel(s), %d-sample blocks (%.1f ms), input latency %.1f ms",
                 self.kind, self.name, self.samplerate, self.channels, self.block,
                 1000 * self.block / self.samplerate, 1000 * self.latency)
        return self.ring

    def close(self) -> None:
        try:
            self._close()
        except Exception as e:  # closing a vanished device may fail; it is gone either way
            log.debug("closing audio %s %r: %s", self.kind, self.name, e)

    def describe(self) -> str:
        """How log lines and the HUD name this source, e.g. "Audio input 'USB Mic'"."""
        return f"Audio {self.kind} {self.name!r}"

    def _make_ring(self, samplerate: int, channels: int) -> BlockRing:
        self.samplerate, self.channels = int(samplerate), int(channels)
        self.block = max(16, round(self.samplerate * self.block_ms / 1000))
        self.ring = BlockRing(self.block, self.channels)
        return self.ring

    def _open(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


# -- devices --------------------------------------------------------------------------------------
def _sd() -> Any:
    """The sounddevice module, or AudioUnavailable when PortAudio itself is missing."""
    try:
        import sounddevice
    except OSError as e:  # raised at import when libportaudio cannot be loaded
        raise AudioUnavailable(f"PortAudio is not installed ({e}); install libportaudio2 "
                               "(scripts/bootstrap does)") from e
    return sounddevice


def input_devices() -> list[dict]:
    """Every device with input channels, as sounddevice describes them (with 'index')."""
    try:
        with alsa_to_log():   # PortAudio's ALSA host API prints raw lines for absent cards
            devices = _sd().query_devices()
    except Exception as e:  # PortAudio errors while scanning: treat as no devices, say why
        log.warning("listing audio devices failed: %s", e)
        return []
    return [dict(d) for d in devices if d.get("max_input_channels", 0) > 0]


def device_lines() -> list[str]:
    """`vj devices`: one line per audio input, index first (what [audio] device accepts)."""
    try:
        devices = input_devices()
    except AudioUnavailable as e:
        return [str(e)]
    if not devices:
        return ["no audio inputs (PortAudio lists none); rehearse with --audio-file"]
    return [f"{d['index']:3d}  {d['name']}  ({d['max_input_channels']} ch, {d['default_samplerate']:g} Hz)"
            for d in devices]


def find_input(spec: str) -> dict:
    """The input device named by `spec`: an index, "default", or a case-insensitive name substring."""
    devices = input_devices()
    if not devices:
        raise AudioUnavailable(f"No audio input device found for {spec!r} (PortAudio lists none); "
                               "plug one in, or rehearse with --audio-file")
    if spec.strip().lower() == "default":
        default = _sd().default.device[0]
        spec = str(default if default is not None and default >= 0 else devices[0]["index"])
    if spec.strip().isdigit():
        for d in devices:
            if d["index"] == int(spec):
                return d
        raise AudioUnavailable(f"Audio device {spec} is not an input device; "
                               "`vj devices` lists the inputs and their numbers")
    matches = [d for d in devices if spec.lower() in d["name"].lower()]
    if not matches:
        names = ", ".join(repr(d["name"]) for d in devices[:6])
        raise AudioUnavailable(f"No audio input device matches {spec!r} (inputs: {names}); "
                               "`vj devices` lists them")
    exact = [d for d in matches if d["name"].lower() == spec.lower()]
    return (exact or matches)[0]


def rescan_devices() -> None:
    """Make PortAudio look for devices again (it scans only when initialized).

    Terminating PortAudio closes every stream of this process, so call it only while none is open:
    the service does, between attempts to reopen a missing device.
    """
    sd = _sd()
    try:
        sd._terminate()
        sd._initialize()
    except Exception as e:
        log.debug("PortAudio rescan failed: %s", e)


class DeviceSource(AudioSource):
    """A sounddevice InputStream; the callback only copies the block into the ring."""

    kind = "input"

    def __init__(self, spec: str, block_ms: float, samplerate: int = 0) -> None:
        super().__init__(spec, block_ms)
        self.want_samplerate = samplerate
        self._stream = None
        self._closing = False
        self.xruns = 0

    def _open(self) -> None:
        sd = _sd()
        info = find_input(self.spec)
        self.name = info["name"]
        ring = self._make_ring(self.want_samplerate or info["default_samplerate"],
                               min(MAX_CHANNELS, info["max_input_channels"]))
        self._block_s = ring.block / self.samplerate
        self._closing = False
        try:
            self._stream = sd.InputStream(device=info["index"], channels=self.channels,
                                          samplerate=self.samplerate, blocksize=self.block, dtype="float32",
                                          latency="low", callback=self._callback,
                                          finished_callback=self._finished)
            self.latency = float(self._stream.latency)
            self._stream.start()
        except Exception as e:  # PortAudioError, or ValueError for an unsupported rate/channel count
            self._close()
            raise AudioUnavailable(f"Audio input {self.name!r} could not be opened ({e}); "
                                   "check that no other program holds it and that it supports "
                                   f"{self.samplerate} Hz") from e

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy and signal only. The first sample was captured one block plus the
        # input latency ago. Nothing may escape: sounddevice would end the stream on an exception.
        try:
            if status:
                self.xruns += 1
            self.ring.push(indata, time.perf_counter() - self._block_s - self.latency)
        except Exception:
            self.errors += 1
            if self.errors <= 3:
                log.exception("audio callback of %r failed; that block is lost, the input goes on", self.name)

    def _finished(self) -> None:
        if not self._closing:
            self.failure = "its stream stopped (unplugged, or a PortAudio error)"

    def _close(self) -> None:
        self._closing = True
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
            finally:
                stream.close()


# -- files ----------------------------------------------------------------------------------------
class FileSource(AudioSource):
    """An audio file (anything FFmpeg decodes: wav, mp3, flac, ogg, ...) played in real time.

    A thread decodes with PyAV and pushes one block whenever the clock says that block has been
    "captured", so analysis sees the same timing as from a microphone. With `play` and an output
    device, the blocks are also played out (and the sound card paces them instead of the clock).
    `clock` and `sleep` are injectable for tests.
    """

    kind = "file"

    def __init__(self, path: str | Path, block_ms: float, loop: bool = True, play: bool = False,
                 clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(str(path), block_ms)
        self.path = Path(path)
        self.name = self.path.name
        self.loop, self.play = loop, play
        self.clock, self.sleep = clock, sleep
        self.started_at = 0.0   # clock time of the file's first sample
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._container = None
        self._out = None
        self.bad_packets = 0    # packets the decoder refused and that were skipped
        self.format_changes = 0  # times the decoded sound changed rate, layout or sample format

    def _open(self) -> None:
        import av
        if not self.path.is_file():
            raise AudioUnavailable(f"Audio file {str(self.path)!r} not found; check [audio] file in the "
                                   "setup or --audio-file")
        try:
            container = av.open(str(self.path))
        except (av.FFmpegError, OSError) as e:
            raise AudioUnavailable(f"Audio file {str(self.path)!r} cannot be decoded ({e}); "
                                   "use wav, mp3, flac or ogg") from e
        if not container.streams.audio:
            container.close()
            raise AudioUnavailable(f"Audio file {str(self.path)!r} has no audio track")
        self._container = container
        stream = container.streams.audio[0]
        channels = min(MAX_CHANNELS, stream.codec_context.channels or 1)
        self._make_ring(stream.codec_context.sample_rate or 48000, channels)
        self._layout = "mono" if channels == 1 else "stereo"
        self._resampler = av.AudioResampler(format="flt", layout=self._layout, rate=self.samplerate)
        self._shape: tuple | None = None    # (rate, layout, format) of the decoded frames so far
        if self.play:
            self._open_output()
        log.info("audio file %r: %.1f s, %s", self.name, float(stream.duration * stream.time_base)
                 if stream.duration else float(container.duration or 0) / 1e6,
                 "played in a loop ([audio] loop = false plays it once)" if self.loop else "played once")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="audio-file", daemon=True)
        self._thread.start()

    def _open_output(self) -> None:
        try:
            sd = _sd()
            self._out = sd.OutputStream(samplerate=self.samplerate, channels=self.channels,
                                        blocksize=self.block, dtype="float32", latency="low")
            self._out.start()
        except Exception as e:  # no output device is normal on a rehearsal laptop's headless twin
            self._out = None
            log.info("audio file %r plays silently (no output device: %s); analysis is unaffected", self.name, e)

    def _blocks(self):
        """Decoded float32 blocks (block, channels), looping when asked."""
        import av
        fifo = av.AudioFifo()
        while not self._stop.is_set():
            for packet_frame in self._decoded():
                for frame in self._resample(packet_frame):
                    frame.pts = None  # the fifo checks timestamps for gaps; a loop restarts them
                    fifo.write(frame)
                while fifo.samples >= self.block:
                    yield fifo.read(self.block).to_ndarray().reshape(self.block, self.channels)
                if self._stop.is_set():
                    return
            if not self.loop:
                return
            self._container.seek(0)

    def _decoded(self):
        """The audio frames of one pass through the file. A packet the decoder refuses (a damaged
        stretch, the seam of two joined files) is skipped and counted, said once: the sound goes on
        after it instead of the file stopping for the night."""
        import av
        stream = self._container.streams.audio[0]
        for packet in self._container.demux(stream):
            try:
                yield from packet.decode()
            except av.InvalidDataError as e:
                self.bad_packets += 1
                if self.bad_packets == 1:
                    log.warning("Audio file %r has damaged data at %.1f s (%s); skipping it, the sound goes on.",
                                self.name, float(packet.pts * packet.time_base) if packet.pts is not None else 0.0, e)

    def _resample(self, frame) -> list:
        """`frame` in the ring's format. A stream whose rate, layout or sample format changes midway
        (concatenated mp3s, a broadcast AAC stream switching mono and stereo) gets a new resampler to
        the same output: PyAV's refuses frames unlike its first. Said once per file."""
        import av
        shape = (frame.sample_rate, frame.layout.name, frame.format.name)
        if self._shape is not None and shape != self._shape:
            said = log.debug if self.format_changes else log.warning   # one sentence per file, not per seam
            said("Audio file %r changes format at %.1f s (%d Hz %s, was %d Hz %s); it is converted to %d Hz, "
                 "the picture keeps following it.", self.name, float(frame.time or 0.0), shape[0], shape[1],
                 self._shape[0], self._shape[1], self.samplerate)
            self.format_changes += 1
            tail = self._resampler.resample(None)      # what the old resampler still holds
            self._resampler = av.AudioResampler(format="flt", layout=self._layout, rate=self.samplerate)
            self._shape = shape
            return [*tail, *self._resampler.resample(frame)]
        self._shape = shape
        return self._resampler.resample(frame)

    def _run(self) -> None:
        block_s = self.block / self.samplerate
        start = self.clock()
        self.started_at = start
        n = 0
        try:
            for data in self._blocks():
                captured = start + n * block_s
                if self._out is not None:
                    self._play(data)  # the sound card's clock paces the file: stamp by arrival, as a device
                    captured = self.clock() - block_s
                else:
                    wait = captured + block_s - self.clock()  # a block "arrives" once its last sample is in
                    if wait > 0:
                        self.sleep(wait)
                self.ring.push(data, captured)
                n += 1
                if self._stop.is_set():
                    return
            self.ended = not self._stop.is_set()  # stopped by close() is not the file's end
        except Exception as e:  # a corrupt file in the middle: stop with one sentence, keep the show
            self.errors += 1
            self.failure = f"reading failed ({e})"

    def _play(self, data: np.ndarray) -> None:
        """Play a block out; blocks while the sound card's buffer is full, which paces the file."""
        try:
            self._out.write(data)
        except Exception as e:  # the output vanished: keep analysing, paced by the clock from now on
            log.warning("Audio file %r can no longer be heard (%s); the picture still follows it.", self.name, e)
            self._out = None

    def _close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        self._thread = None
        for thing in (self._out, self._container):
            if thing is not None:
                try:
                    thing.close()
                except Exception as e:
                    log.debug("closing %s: %s", thing, e)
        self._out = self._container = None
