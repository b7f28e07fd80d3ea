"""The tempo thread: one beat clock from the chosen source, published, and everything on the beat.

Every `period_s` (5 ms) it reads the source into the clock (tap, fixed, MIDI clock, Link), fires
the held changes whose grid line the clock has reached, less the lookahead (quantize.py), steps a
cross-fade over beats and the deck every N bars, and sends the LFOs and the beat pulse through
the modulation matrix (vj/modulation.py: `store.modulate`, never a performer's value). The
read-only rows tempo.bpm, tempo.beat, tempo.phase, tempo.bar_phase and tempo.running are
written at most every `publish_s` (20 ms) and only when they change.

Inputs reach it as they reach the store: the `tap` action (T key, /vj/tap, a mapped MIDI note),
and the MIDI input's realtime messages (`midi_message`, a listener of vj/midi/service.py, with
the time the port delivered them). Time is `clock()` seconds, perf_counter live.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from typing import Any, Callable

from engine.params import ParamStore

from ..modulation import LFO_SOURCES, Matrix, Route, mod_routes
from .clock import BeatClock, MidiClock, TapTempo
from .lfo import pulse, wave
from .link import LinkPeer, LinkUnavailable
from .quantize import SOURCE, Held, Quantizer, grid_beats

log = logging.getLogger(__name__)

PERIOD_S = 0.005
PUBLISH_S = 0.02


class TempoService:
    """Owns the beat clock and the "tempo" thread; `tick(now)` is one step of it (tests call it)."""

    def __init__(self, store: ParamStore, routes: list[Route] = (), latency: Callable[[], float] = lambda: 0.0,
                 clock: Callable[[], float] = time.perf_counter, period_s: float = PERIOD_S,
                 warnings: list[str] | None = None, link: Callable[[float], Any] = LinkPeer) -> None:
        self.store, self.clock, self.period_s, self.latency = store, clock, period_s, latency
        self.warnings = warnings if warnings is not None else []
        self.beats = BeatClock(store.base("tempo.fixed"), clock())
        self.taps, self.midi = TapTempo(), MidiClock()
        self.tapped: float | None = None      # BPM of the last taps (source tap)
        self.matrix = Matrix(store, list(routes))
        self.quantizer = Quantizer(store, lambda: self.beats.beat(self.clock()) if self.beats.running else None)
        self.fired: deque[tuple[Held, float, float]] = deque(maxlen=1000)  # (change, fired, meant): bench.tempo
        self._link_factory, self.link, self._link_problem = link, None, None
        self._lock = threading.Lock()
        self._published: dict[str, Any] = {}
        self._published_at = -math.inf
        self._last_beat: int | None = None
        self._deck: int | None = None
        self._fade: tuple[float, float] | None = None   # (start beat, beats) of a cross-fade to the next prompt
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        store.on_action("tap", self.tap)
        store.on_action("downbeat", self.downbeat)

    @classmethod
    def from_setup(cls, setup, store: ParamStore, bus=None, warnings: list[str] | None = None) -> "TempoService":
        """The [[mod]] rows with LFO or beat sources (checked now: SetupError), and the generator's
        time per frame from the bus as the latency."""
        routes = [r for r in mod_routes(setup.mod, store, setup.label) if not r.source.startswith("audio.")]

        def latency() -> float:
            frame = bus.latest() if bus is not None else None
            fps = frame.stats.get("frames_per_s", 0.0) if frame is not None else 0.0
            return 1.0 / fps if fps > 0 else 0.0
        return cls(store, routes, latency, warnings=warnings)

    # -- service -------------------------------------------------------------------------------
    def start(self) -> None:
        self.quantizer.install()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tempo", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        for held in self.quantizer.flush():   # nothing a performer sent is lost
            self._fire(held, self.beats.beat(self.clock()))
        self.quantizer.uninstall()
        self.matrix.release()
        self._close_link()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick(self.clock())
            except Exception:   # a bug here must not stop the beat for the night
                log.exception("tempo step failed; the clock goes on")
            self._stop.wait(self.period_s)

    # -- inputs --------------------------------------------------------------------------------
    def tap(self) -> None:
        """A tap now: the tap source takes its BPM; every source but MIDI and Link puts a beat on it."""
        t = self.clock()
        with self._lock:
            bpm = self.taps.tap(t)
            source = self.store.snapshot()["tempo.source"]
            if source in ("midi", "link"):
                return
            if bpm is not None and source == "tap":
                self.tapped = bpm
                self.beats.set_bpm(bpm, t)
            self.beats.place(t, round(self.beats.beat(t)))

    def downbeat(self) -> None:
        """The next beat starts a bar."""
        t = self.clock()
        with self._lock:
            b, bar = self.beats.beat(t), self.store.snapshot()["tempo.beats_per_bar"]
            self.beats.place(t, b + (-math.ceil(b)) % bar)

    def midi_message(self, msg, t: float) -> None:
        """A MIDI message with the time it arrived (the MIDI input's listener, its worker thread)."""
        with self._lock:
            self.midi.message(msg.type, t, getattr(msg, "pos", 0))

    # -- one step ------------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        snap = self.store.snapshot()
        with self._lock:
            self._follow(snap, now)
        ahead = snap["quantize.lookahead"] / 1000.0 + (self.latency() if snap["quantize.latency"] else 0.0)
        grid = grid_beats(snap["quantize"], snap["tempo.beats_per_bar"])
        if grid and self.beats.bpm > 0:   # never earlier than the line before (a slow frame, a long lookahead)
            ahead = min(ahead, 0.9 * grid * 60.0 / self.beats.bpm)
        beat, beat_ahead = self.beats.beat(now), self.beats.beat(now + ahead)
        for held in self.quantizer.due(beat_ahead if self.beats.running else math.inf):   # stopped: all now
            self.fired.append((held, now, self.beats.time_of(held.beat) - ahead))
            self._fire(held, beat_ahead)
        self._step_deck(snap, beat_ahead)
        self._step_fade(beat_ahead)
        self._modulate(snap, now, beat)
        if now - self._published_at >= PUBLISH_S:
            self._publish(snap, beat)
            self._published_at = now

    def _follow(self, snap, now: float) -> None:
        """Set the clock from the chosen source."""
        source = snap["tempo.source"]
        if source != "link":
            self._close_link()
        if source == "fixed" or (source == "tap" and self.tapped is None):
            if self.beats.bpm != snap["tempo.fixed"]:
                self.beats.set_bpm(snap["tempo.fixed"], now)
            if not self.beats.running:
                self.beats.start(now)
        elif source == "tap":
            if not self.beats.running:
                self.beats.start(now)
        elif source == "midi":
            m = self.midi
            if m.bpm:
                self.beats.bpm = m.bpm
            if m.running and m.last_t is not None:
                self.beats.running = True
                self.beats.place(m.last_t, m.beat)
            elif not m.running and self.beats.running:
                self.beats.stop(now)
                self.beats.place(now, m.beat)
        elif source == "link":
            self._follow_link(snap, now)

    def _follow_link(self, snap, now: float) -> None:
        if self.link is None:
            try:
                self.link = self._link_factory(self.beats.bpm)
            except LinkUnavailable as e:
                if self._link_problem != str(e):
                    log.warning("%s The clock runs on meanwhile.", e)
                    self._link_problem = str(e)
                    self.warnings.append("TEMPO: LINK UNAVAILABLE")
                return
        bpm, beat = self.link.read(snap["tempo.beats_per_bar"])
        self.beats.bpm, self.beats.running = bpm, True
        self.beats.place(now, beat)

    def _close_link(self) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None

    # -- on the beat ---------------------------------------------------------------------------
    def _fire(self, held: Held, beat: float) -> None:
        fade = self.store.snapshot()["crossfade.beats"]
        if held.name == "next" and fade > 0:
            self._fade = (held.beat, fade)   # from the grid line, over `fade` beats
        elif held.value is None:
            self.store.trigger(held.name, SOURCE)
        else:
            self.store.set(held.name, held.value, SOURCE)

    def _step_fade(self, beat: float) -> None:
        if self._fade is None:
            return
        start, beats = self._fade
        p = min(1.0, max(0.0, (beat - start) / beats))
        if p < 1.0:
            if abs(self.store.base("crossfade") - p) >= 0.005:
                self.store.set("crossfade", round(p, 3), SOURCE)
            return
        self._fade = None
        self.store.set("crossfade", 0.0, SOURCE)
        self.store.trigger("next", SOURCE)

    def _step_deck(self, snap, beat: float) -> None:
        bars = snap["deck.bars"]
        if not bars:
            self._deck = None
            return
        span = bars * snap["tempo.beats_per_bar"]
        n = math.floor(beat / span)
        if self._deck is not None and n > self._deck:
            held = Held("next", None, n * span, beat)
            self.fired.append((held, self.clock(), self.beats.time_of(held.beat)))
            self._fire(held, beat)
        self._deck = n

    def _modulate(self, snap, now: float, beat: float) -> None:
        if not self.matrix.routes:
            return
        values = {}
        for i, name in enumerate(LFO_SOURCES, start=1):
            period = snap[f"lfo.{i}.beats"]
            cycles = beat / period if period > 0 else now * snap[f"lfo.{i}.hz"]
            values[name] = wave(snap[f"lfo.{i}.shape"], cycles + snap[f"lfo.{i}.phase"])
        whole = math.floor(beat)
        hit = self.beats.running and self._last_beat is not None and whole > self._last_beat
        self._last_beat = whole
        running = self.beats.running
        values["beat"] = pulse(now - self.beats.time_of(whole), snap["tempo.pulse.decay"]) if running else 0.0
        self.matrix.apply(values, snap["lfo.amount"], ("beat",) if hit else (), snap)

    def _publish(self, snap, beat: float) -> None:
        bar = snap["tempo.beats_per_bar"]
        rows = {"tempo.bpm": round(self.beats.bpm, 2), "tempo.beat": math.floor(beat),
                "tempo.phase": round(beat % 1.0, 3), "tempo.bar_phase": round((beat % bar) / bar, 3),
                "tempo.running": self.beats.running}
        for name, value in rows.items():
            if self._published.get(name) != value:
                self._published[name] = value
                self.store.set(name, min(999.0, value) if name == "tempo.bpm" else value, "app")
