"""The audio service: a source, an analysis thread, the published levels, the routes, the tap.

    PortAudio callback / file clock ──copy──► BlockRing ──► "audio" thread: Analyzer.process(block)
                                                              ├─► store.set("audio.energy", ...)  (read-only rows)
                                                              ├─► Router.apply: store.modulate(noise, ...)
                                                              └─► listeners(block, t, samplerate)  (the recorder's tap)

Nothing here may stop the show: a missing or vanished device, a PortAudio error or an unreadable
file is said once, in one sentence, the levels go to 0 and the routes let go, and the thread tries
again every `retry_s` seconds until the input returns.

Latency from a sound at the input to the parameter change: the device's input latency (PortAudio
"low", reported when the input opens) + up to one block (10 ms by default) + the analysis (about
50 us) + the handoff. `python -m bench.audio` measures the last three.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from engine.params import ParamStore

from ..setup import AudioSetup, Setup
from .analysis import AnalysisConfig, Analyzer, Features
from .modulation import Router, build_routes
from .source import AudioSource, AudioUnavailable, DeviceSource, FileSource, rescan_devices

log = logging.getLogger(__name__)

Listener = Callable[[np.ndarray, float, int], None]

# Published rows and their decimals: a change finer than this is not written, so silence and
# steady tones do not flood the store's listeners (OSC feedback, timeline) at block rate.
PUBLISHED = {"energy": 3, "bass": 3, "mid": 3, "high": 3, "onset": 3, "db": 1}


class AudioInput:
    """Owns one source and the "audio" thread. `start()` returns at once; the thread opens the source.

    `errors` counts failures caught: an input lost or failing in its callback, the analysis or a
    listener raising. Each is recovered from: the input is reopened (a listener only loses that block).

    `add_listener(fn)`: `fn(block, t, samplerate)` is called on the audio thread (never the PortAudio
    callback) after each block is analysed, with `block` the raw input, float32 (frames, channels),
    read-only and reused later: copy what you keep. `t` is the time of the block's first sample on
    `time.perf_counter()`'s clock; blocks are consecutive, except after an overrun or a reopen.
    """

    def __init__(self, store: ParamStore, make_source: Callable[[], AudioSource] | None,
                 routes: list | None = None, retry_s: float = 2.0, watchdog_s: float = 1.0,
                 warnings: list[str] | None = None) -> None:
        self.store = store
        self.warnings = warnings if warnings is not None else []  # the HUD's list: our trouble shows there
        self.make_source = make_source
        self.router = Router(store, routes if routes is not None else build_routes((), store))
        self.retry_s, self.watchdog_s = retry_s, watchdog_s
        self.source: AudioSource | None = None
        self.ring = None
        self._after_loss = False
        self.analyzer: Analyzer | None = None
        self.problem: str | None = None   # the current one-sentence trouble, for the HUD and tests
        self.listener_errors = 0
        self._errors = 0                  # inputs lost and analysis failures (see `errors`)
        self._closed_source_errors = 0    # callback failures of sources already closed
        self._listeners: list[Listener] = []
        self._published: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_setup(cls, setup: Setup, store: ParamStore, warnings: list[str] | None = None) -> "AudioInput":
        """The service for a setup's [audio] section; routes are checked now (SetupError if wrong).

        `warnings` is the HUD's list (Show.warnings): the current trouble is kept in it while it lasts.
        """
        return cls(store, source_factory(setup), build_routes(setup.audio.route, store, setup.label, setup.mod),
                   warnings=warnings)

    part = "audio"

    @property
    def errors(self) -> int:
        source = self.source
        return (self._errors + self.listener_errors + self._closed_source_errors
                + (getattr(source, "errors", 0) if source is not None else 0))

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if self.make_source is None:
            log.debug("no audio input in the setup ([audio] device or file)")
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="audio", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        self._close()

    # -- the audio thread ------------------------------------------------------------------------
    def _run(self) -> None:
        rescan = False
        while not self._stop.is_set():
            if self._open(rescan):
                try:
                    self._pump()
                except Exception as e:  # a bug in analysis or a route must not end the audio for the night
                    self._lost(f"the analysis failed ({type(e).__name__}: {e})", exc_info=True)
            rescan = True  # whatever happened, the next attempt should see replugged devices
            self._stop.wait(self.retry_s)

    def _open(self, rescan: bool) -> bool:
        source = self.make_source()
        if rescan and isinstance(source, DeviceSource):
            rescan_devices()  # PortAudio only sees a replugged device after a rescan
        try:
            ring = source.open()
        except AudioUnavailable as e:
            self._say(f"{e}; the show goes on without audio and retries every {self.retry_s:g} s.")
            return False
        except Exception as e:  # anything else from a driver: same promise
            source.close()
            self._say(f"{source.describe()} failed to open ({type(e).__name__}: {e}); "
                      f"the show goes on without audio and retries every {self.retry_s:g} s.")
            return False
        if self.problem:
            log.warning("%s is back; audio drives the picture again.", source.describe())
        self._set_problem(None)
        self._after_loss = False
        self.source, self.ring = source, ring
        self.analyzer = Analyzer(AnalysisConfig(source.samplerate, ring.block))
        self._last_block = time.perf_counter()
        log.info("%s: sound to parameter about %.1f ms (input latency + one block + analysis)",
                 source.describe(), 1000 * (source.latency + ring.block / source.samplerate) + 0.1)
        return True

    def _pump(self) -> None:
        """Analyse blocks until the source stops, fails or goes quiet for `watchdog_s`."""
        source, ring, analyzer = self.source, self.ring, self.analyzer
        while not self._stop.is_set():
            got = ring.pop(timeout=0.1)
            now = time.perf_counter()
            if got is None:
                if source.ended:
                    log.info("%s ended; the show goes on without audio.", source.describe())
                    self._close()
                    self._stop.wait()  # a finished file stays finished (loop = true plays it again)
                    return
                if source.failure or now - self._last_block > self.watchdog_s:
                    why = source.failure or f"no sound arrived for {self.watchdog_s:g} s"
                    self._lost(f"{why}")
                    return
                continue
            self._last_block = now
            block, t = got
            snap = self.store.snapshot()
            analyzer.tune(snap["audio.gain"], snap["audio.auto_gain"], snap["audio.attack"] / 1000,
                          snap["audio.release"] / 1000, snap["audio.sensitivity"])
            features = analyzer.process(block, t)
            self._publish(features)
            self.router.apply(features, snap)
            for fn in self._listeners:
                try:
                    fn(block, t, source.samplerate)
                except Exception:
                    self.listener_errors += 1
                    if self.listener_errors <= 3:
                        log.exception("audio listener %r failed (the audio goes on)", fn)

    def _publish(self, f: Features) -> None:
        for name, decimals in PUBLISHED.items():
            value = round(getattr(f, name), decimals)
            if self._published.get(name) != value:
                self._published[name] = value
                self.store.set(f"audio.{name}", min(20.0, value) if name == "db" else value, "app")
        if self._published.get("onsets") != f.onsets:
            self._published["onsets"] = f.onsets
            self.store.set("audio.onsets", f.onsets, "app")
        if not self._published.get("active"):
            self._published["active"] = True
            self.store.set("audio.active", True, "app")

    def _lost(self, why: str, exc_info: bool = False) -> None:
        source = self.source
        self._errors += 1
        self._close()
        self._say(f"{source.describe() if source else 'Audio'} stopped ({why}); the show goes on "
                  "without audio and reopens it when it returns.", exc_info=exc_info)
        self._after_loss = True  # the retries' own reasons go to the debug log: one sentence per event

    def _close(self) -> None:
        """Close the source, zero the levels, let go of every route."""
        source, self.source = self.source, None
        if source is not None:
            source.close()
            self._closed_source_errors += getattr(source, "errors", 0)
        self.router.release()
        for name in ("energy", "bass", "mid", "high", "onset"):
            self.store.set(f"audio.{name}", 0.0, "app")
        self.store.set("audio.db", -120.0, "app")
        self.store.set("audio.active", False, "app")
        self._published.clear()

    def _say(self, sentence: str, exc_info: bool = False) -> None:
        """Log a trouble once (not at every retry) and keep it for the HUD; after a loss, the
        retries' own reasons go to the debug log, so one event reads as one sentence."""
        if self._after_loss:
            log.debug(sentence)
            return
        if sentence != self.problem:
            log.warning(sentence, exc_info=exc_info)
        self._set_problem(sentence)

    def _set_problem(self, sentence: str | None) -> None:
        if self.problem and f"AUDIO: {self.problem}" in self.warnings:
            self.warnings.remove(f"AUDIO: {self.problem}")
        self.problem = sentence
        if sentence:
            self.warnings.append(f"AUDIO: {sentence}")


def source_factory(setup: Setup) -> Callable[[], AudioSource] | None:
    """A function making a fresh source for the setup's [audio]; None when it names no input.

    A file wins over a device. A relative file path is looked up beside the setup file first.
    """
    a: AudioSetup = setup.audio
    if a.file:
        path = Path(a.file).expanduser()
        if not path.is_absolute() and setup.path is not None and (setup.path.parent / path).is_file():
            path = setup.path.parent / path
        return lambda: FileSource(path, a.block_ms, loop=a.loop, play=a.play)
    if a.device:
        return lambda: DeviceSource(a.device, a.block_ms, a.samplerate)
    return None
