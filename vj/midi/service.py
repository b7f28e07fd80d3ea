"""The MIDI service: a controller's ports, watched, mapped onto the parameter store and lit from it.

One path for every message: the port's callback (rtmidi's thread) and the tests both call
`receive()`, which only queues the message; the worker thread drains the queue through
`process_pending()`, applying the mapping or completing a MIDI learn. A watcher thread polls the
port names every couple of seconds: the device is opened when it appears, and an unplugged one is
closed and reopened when it comes back. A missing device is one sentence in the log; the show
goes on without it.

When the input opens, so does the output port of the same name (or `[midi] output`): the state
lights the controller through vj/midi/leds.py. A controller without an output just stays dark.

MIDI learn is armed through the `learn` parameter (`/vj/learn "temperature"` from OSC, a key, or
`vj midi-learn`): the next control moved is mapped to it and saved to the setup file.
"""
from __future__ import annotations

import logging
import queue
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Protocol

import mido

from engine.params import Change, ParamStore

from ..quiet import alsa_to_log
from ..setup import MidiMap, MidiSetup, Setup
from .leds import Leds
from .learn import CannotLearn, learnable, learned_row, save_row
from .mapping import SOURCE, binding, compile_map

log = logging.getLogger(__name__)

POLL_S = 2.0           # how often the watcher looks for the device
NO_MIDI_POLL_S = 30.0  # how often it looks again when the machine has no MIDI system at all
LEARN = "learn"        # the parameter that arms MIDI learn (vj/midi/controls.py)
REALTIME = {"clock", "start", "stop", "continue", "songpos"}   # timing messages: to the listeners, not the map


class Backend(Protocol):
    def names(self) -> list[str]: ...
    def open(self, name: str, callback) -> Any: ...
    def output_names(self) -> list[str]: ...
    def open_output(self, name: str) -> Any: ...


class MidoBackend:
    """Real ports through mido's python-rtmidi backend."""

    def names(self) -> list[str]:
        with alsa_to_log():      # without an ALSA sequencer, rtmidi's C library prints a raw line
            return mido.get_input_names()

    def open(self, name: str, callback) -> Any:
        with alsa_to_log():
            return mido.open_input(name, callback=callback)


def port_key(name: str) -> str:
    """A port name without what the OS renumbers on replug, lower case: ALSA's client:port
    ("nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0" becomes "... 24:0") and Windows' trailing instance
    number ("nanoKONTROL2 1" becomes "nanoKONTROL2 2")."""
    return re.sub(r"(\s+\d+:\d+)?(\s+\d+)?\s*$", "", name.strip()).lower()

    def output_names(self) -> list[str]:
        return mido.get_output_names()

    def open_output(self, name: str) -> Any:
        return mido.open_output(name)


def find_port(device: str, names: list[str]) -> str | None:
    """The first port whose name contains `device`, ignoring case; else the first whose name does
    once the numbers the OS renumbers on replug are taken off both (port_key), so a setup that names
    the full port as `vj devices` showed it still finds the controller after a replug."""
    found = next((n for n in names if device.lower() in n.lower()), None)
    return found or next((n for n in names if port_key(device) and port_key(device) in port_key(n)), None)


def missing_sentence(device: str, names: list[str], poll_s: float = POLL_S) -> str:
    found = ", ".join(repr(n) for n in names) if names else "none"
    return (f"MIDI device {device!r} is not connected (MIDI inputs now: {found}); plug it in and it is "
            f"opened within {poll_s:g} s, or fix [midi] device in the setup. The show goes on without it.")


class _Arm:
    """A learn request travelling through the queue, so arming and messages stay in order."""

    def __init__(self, name: str) -> None:
        self.name = name


class MidiInput:
    """One controller: its port watched by name, its messages mapped onto the store, MIDI learn.

    `errors` counts failures caught in the port's callback and the worker; the next message is
    handled as usual."""

    part = "midi"

    def __init__(self, store: ParamStore, midi: MidiSetup, path: Path | None = None, label: str = "<setup>",
                 backend: Backend | None = None, poll_s: float = POLL_S, warnings: list[str] | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.store, self.midi, self.path, self.label = store, midi, path, label
        self.warnings = warnings if warnings is not None else []   # the HUD's list (Show.warnings)
        self._hud: dict[str, str] = {}                             # our lines in it: "device", "learn"
        self.mapper = compile_map(midi, store, label)
        self.backend = backend or MidoBackend()
        self.poll_s = poll_s
        self.clock = clock          # stamps each message as it arrives (MIDI clock timing)
        self._listeners: list[Callable[[mido.Message, float], None]] = []
        self.status = "off" if not midi.device else "not connected"
        self.dropped = 0            # messages lost because the worker fell 1024 behind
        self.unmapped = 0           # messages no row listens to
        self.errors = 0             # failures caught (callback or worker), each logged
        self.armed: str | None = None
        self.learned = ""           # the last mapping learned, in words
        self._queue: queue.Queue = queue.Queue(maxsize=1024)
        self._port: Any = None
        self._port_name: str | None = None
        self._output: Any = None
        self.leds = Leds(store, self.mapper, midi) if midi.feedback else None
        self._said: str | None = None          # the last state logged, so each is said once
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        if LEARN in store.specs:
            store.subscribe(self._on_change)

    @classmethod
    def from_setup(cls, setup: Setup, store: ParamStore, **kw: Any) -> "MidiInput":
        return cls(store, setup.midi, setup.path, setup.label, **kw)

    def add_listener(self, fn: Callable[[mido.Message, float], None]) -> None:
        """`fn(msg, t)` gets every realtime message (clock, start, stop, continue, songpos) on the
        worker thread, with `t` the clock() time the port delivered it (the tempo clock's input)."""
        self._listeners.append(fn)

    # -- service -------------------------------------------------------------------------------
    def start(self) -> None:
        if not self.midi.device:
            log.info("MIDI is off: the setup names no [midi] device")
            return
        self._stop.clear()
        if self.leds:
            self.leds.start()
        for target, name in ((self._work, "midi-worker"), (self._watch, "midi-watch")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass
        for t in self._threads:
            t.join(2.0)
        self._threads.clear()
        self._close()
        if self.leds:
            self.leds.stop()
        self._set_status("off")

    # -- the one input path ----------------------------------------------------------------------
    def receive(self, msg: mido.Message) -> None:
        """The port callback (and the tests' entry): stamp the time and hand off, nothing else. Never
        raises: an exception would reach rtmidi's own thread."""
        try:
            self._queue.put_nowait((self.clock(), msg))
        except queue.Full:
            self.dropped += 1
        except Exception:
            self.errors += 1
            if self.errors <= 3:
                log.exception("MIDI callback failed on %s; the controller keeps working", msg)

    def process_pending(self) -> int:
        """Apply every queued message and learn request; returns how many were handled."""
        n = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return n
            if item is not None:
                self._handle(item)
                n += 1

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if item is not None:
                self._handle(item)
            self.process_pending()

    def _handle(self, item: Any) -> None:
        try:
            if isinstance(item, _Arm):
                self._arm(item.name)
                return
            t, item = item
            if item.type in REALTIME:
                for fn in self._listeners:
                    fn(item, t)
                self.unmapped += not self._listeners
            elif self.armed is not None:
                self._learn(item)
            elif not self.mapper.handle(item, self.store):
                self.unmapped += 1
        except Exception:  # a bug in one mapping must not stop the controller
            self.errors += 1
            if self.errors <= 3 or self.errors % 100 == 0:
                log.exception("MIDI message %s failed (error %d); the controller keeps working", item, self.errors)

    # -- MIDI learn ------------------------------------------------------------------------------
    def _on_change(self, change: Change) -> None:
        if change.name != LEARN or change.source == SOURCE:
            return
        if not self.midi.device and change.value:
            log.warning("MIDI learn for %s: %s names no [midi] device to learn from; add one and restart.",
                        change.value, self.label)
            self.store.set(LEARN, "", SOURCE)
            return
        try:
            self._queue.put_nowait(_Arm(change.value))
        except queue.Full:
            self.dropped += 1

    def _arm(self, name: str) -> None:
        name = name.strip()
        if not name:
            if self.armed:
                log.info("MIDI learn for %s cancelled", self.armed)
            self.armed = None
            self._show("learn", None)
            return
        try:
            learnable(name, self.store)
        except CannotLearn as e:
            log.warning("%s", e)
            self._disarm()
            return
        self.armed = name
        self._show("learn", f"MIDI LEARN: MOVE A CONTROL FOR {name}")
        log.info("MIDI learn: move a control to map it to %s", name)

    def _learn(self, msg: mido.Message) -> None:
        try:
            row = learned_row(msg, self.armed, self.store)
        except CannotLearn as e:
            log.warning("%s", e)
            self._disarm()
            return
        if row is None:
            return                                   # a release or clock: keep waiting
        b = binding(MidiMap(**row), self.store, self.midi, self.label, "midi.map[learned]")
        self.mapper.replace(b)
        b.prime(msg.value if msg.type == "control_change" else msg.velocity)
        self.learned = f"{b.describe()} now drives {self.armed}{self._save(row)}"
        log.info("MIDI learn: %s", self.learned)
        self._disarm()

    def _save(self, row: dict) -> str:
        if self.path is None:
            return " (this setup has no file, so the mapping lasts until the show ends)"
        try:
            save_row(self.path, row)
        except Exception as e:   # full disk, read-only file, a file edited into broken TOML...
            log.error("MIDI learn could not save to %s (%s); the mapping works until the show ends.",
                      self.path, e)
            return ""
        return f" (saved to {self.path})"

    def _disarm(self) -> None:
        self.armed = None
        self._show("learn", None)
        if self.store.base(LEARN):
            self.store.set(LEARN, "", SOURCE)

    # -- the device ------------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._stop.is_set():
            delay = self.poll()
            self._stop.wait(delay)

    def poll(self) -> float:
        """Look at the port names once: open, close or say why not. Returns seconds to the next look."""
        device = self.midi.device
        try:
            names = list(self.backend.names())
        except Exception as e:
            self._say("unavailable", "MIDI is not available on this machine (%s); the show goes on without "
                      "it and vj looks again every %g s.", e, NO_MIDI_POLL_S)
            self._set_status("unavailable")
            return NO_MIDI_POLL_S
        if self._port is not None:
            if self._port_name in names:
                return self.poll_s
            self._close()
            self._say("unplugged", "MIDI device %r was unplugged; it is reopened when it comes back. "
                      "The show goes on.", self._port_name)
            self._said = "missing"                   # that sentence said it already
            self._set_status("unplugged")
        name = find_port(device, names)
        if name is None:
            self._say("missing", "%s", missing_sentence(device, names, self.poll_s))
            if self.status != "unplugged":
                self._set_status("not connected")
            return self.poll_s
        try:
            self._port = self.backend.open(name, self.receive)
        except Exception as e:
            self._say("unopenable", "MIDI device %r is there but could not be opened (%s); is another program "
                      "holding it? vj tries again every %g s.", name, e, self.poll_s)
            self._set_status("busy")
            return self.poll_s
        if self._port_name not in (None, name):
            log.info("MIDI device %r is back, now named %r.", self._port_name, name)
        self._port_name = name
        self._set_status("open")
        self._said = None
        log.info("MIDI: listening to %r (%d mapped controls)", name, len(self.mapper.bindings))
        self._open_output()
        return self.poll_s

    def _open_output(self) -> None:
        """The LEDs' port, named like the input unless the setup names one; missing: a log line, dark."""
        if not self.leds:
            return
        wanted = self.midi.output or self.midi.device
        try:
            names = list(self.backend.output_names())
            name = find_port(wanted, names)
            if name is None:
                log.info("MIDI: no output port named like %r (outputs: %s); the controller's LEDs stay dark. "
                         "Set [midi] output to light them.", wanted, ", ".join(map(repr, names)) or "none")
                return
            self._output = self.backend.open_output(name)
        except Exception as e:
            log.warning("MIDI output %r could not be opened (%s); the controller's LEDs stay dark.", wanted, e)
            return
        self.leds.attach(self._output)
        log.info("MIDI: lighting %r", name)

    def _set_status(self, status: str) -> None:
        self.status = status
        self._show("device", None if status in ("open", "off") else f"MIDI {self.midi.device}: {status.upper()}")

    def _show(self, slot: str, line: str | None) -> None:
        """Keep one HUD line (Show.warnings) per slot while it applies, and only then."""
        old = self._hud.pop(slot, None)
        if old in self.warnings:
            self.warnings.remove(old)
        if line:
            self.warnings.append(line)
            self._hud[slot] = line

    def _say(self, state: str, msg: str, *args: Any) -> None:
        if self._said != state:
            self._said = state
            log.warning(msg, *args)

    def _close(self) -> None:
        if self.leds:
            self.leds.attach(None)
        output, self._output = self._output, None
        if output is not None:
            try:
                output.close()
            except Exception:
                log.debug("closing MIDI output failed", exc_info=True)
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # an unplugged device may fail to close; it is gone either way
                log.debug("closing MIDI port %r failed", self._port_name, exc_info=True)
