"""The live show's composition root: one setup in, every part wired, the main loop out.

Data flows one way: controls (OSC, MIDI, keys, audio) write the ParamStore; the generator thread
reads it and publishes frames to the bus; the window (main thread, GLFW requires it) reads the
newest frame and the store, renders, and hands pixels to the recorder.

Services are the parts with their own threads or devices (OSC server, MIDI, the control page,
audio input, recorder). Each has `start()` and `stop()`, is built from the setup and the store, and
must never raise into the show: failures are logged with one clear sentence and retried in the background.
"""
from __future__ import annotations

import logging
import time
from typing import Protocol

from .setup import Setup
from .show import Show, build_show
from .signals import StopSignals

log = logging.getLogger(__name__)


class Service(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


def build_services(show: Show) -> list[Service]:
    """The show's background parts, one line each."""
    services: list[Service] = []
    from .osc import OscServer; services.append(OscServer.from_setup(show.setup, show.store, show.warnings))
    from .midi import MidiInput; midi = MidiInput.from_setup(show.setup, show.store, warnings=show.warnings)
    from .tempo import TempoService; tempo = TempoService.from_setup(show.setup, show.store, show.bus, show.warnings)
    midi.add_listener(tempo.midi_message)   # MIDI clock from the [midi] device drives the tempo source `midi`
    services += [midi, tempo]
    from .web import WebServer; services.append(WebServer.from_setup(show.setup, show.store, show.bus, show.warnings))
    from .audio import AudioInput; services.append(AudioInput.from_setup(show.setup, show.store, show.warnings))
    from .input import VideoInput; services.append(VideoInput.from_setup(show.setup, show.store, show.input_bus, show.warnings))
    from .record import Recorder; services.append(Recorder.for_show(show, services))  # after audio: taps it
    from .output import Outputs; services.append(Outputs.from_setup(show.setup, show.store, show.warnings))
    return services


def build(setup: Setup) -> tuple[Show, list[Service]]:
    show = build_show(setup)
    return show, build_services(show)


class Live:
    """The live show wired and running: the show, its services and the window's loop (`app`).

    `Live(setup)` opens the window (`headless`: an offscreen EGL context instead, for a render node;
    `[display] preview` adds the performer's preview window) and builds everything; `start()` starts the generator and the
    services; `stop()` stops them in reverse order on the main thread (while the GL context is
    current, so the recorder can finish its read-backs) and closes the window. A service that wants
    the output picture (the recorder) defines `on_output(output_fbo, t)`; it becomes a frame sink of
    the display loop (vj/display/loop.py says what sinks may do). A service with an `errors` count
    and a `part` name is shown on the HUD's ERRORS line; an input service that refuses messages
    itself defines `refused` (a count) and `source` (its store source name), added up in the HUD's
    refused counter.
    """

    def __init__(self, setup: Setup, headless: bool = False) -> None:
        from .display import DisplayApp, window
        if not headless:
            window.init()  # no display: say so before loading models
        self.show, self.services = build(setup)
        self.app = DisplayApp(self.show, headless=headless, preview=setup.display.preview)
        self.app.sinks.extend(s.on_output for s in self.services if hasattr(s, "on_output"))
        self.app.parts.update({s.part: s for s in self.services if hasattr(s, "part")})
        self.app.input_counters.update({s.source: lambda s=s: s.refused for s in self.services if hasattr(s, "refused")})

    def start(self) -> None:
        self.show.generator.start()
        for service in self.services:
            service.start()

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.show.generator.stop()
        self.app.close()


def run(setup: Setup, seconds: float | None = None, headless: bool = False) -> None:
    """The live show: open the window (or an offscreen context), start the generator and services,
    loop until quit, stop.

    SIGTERM and SIGHUP end the show as a confirmed quit does (vj/signals.py).
    """
    with StopSignals() as signals:
        live = Live(setup, headless)
        signals.on_stop = live.app.finish
        live.start()
        began = time.perf_counter()
        try:
            if not signals.asked:  # a signal while the models loaded: start, then close at once
                live.app.run(seconds)
        finally:
            signals.closing()
            live.stop()
            errors = sum(live.app.error_counts().values())
            log.info("The show ended after %.0f s: %d frames painted (%d iterations), %d shown, %s.",
                     time.perf_counter() - began, live.show.generator.frame_index, live.show.generator.iterations,
                     live.app.frames, f"{errors} failures caught (the log above says which)" if errors else "no failures")
