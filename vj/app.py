"""The live show's composition root: one setup in, every part wired, the main loop out.

Data flows one way: controls (OSC, MIDI, keys, audio) write the ParamStore; the generator thread
reads it and publishes frames to the bus; the window (main thread, GLFW requires it) reads the
newest frame and the store, renders, and hands pixels to the recorder.

Services are the parts with their own threads or devices (OSC server, MIDI input, audio input,
recorder). Each has `start()` and `stop()`, is built from the setup and the store, and must never
raise into the show: failures are logged with one clear sentence and retried in the background.
"""
from __future__ import annotations

import logging
from typing import Protocol

from .setup import Setup
from .show import Show, build_show

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
    from .audio import AudioInput; services.append(AudioInput.from_setup(show.setup, show.store, show.warnings))
    from .record import Recorder; services.append(Recorder.for_show(show, services))  # after audio: taps it
    return services


def build(setup: Setup) -> tuple[Show, list[Service]]:
    show = build_show(setup)
    return show, build_services(show)


def run(setup: Setup, seconds: float | None = None) -> None:
    """The live show: open the window, start the generator and services, loop until quit, stop.

    A service that wants the output picture (the recorder) defines `on_output(output_fbo, t)`; it
    becomes a frame sink of the display loop (vj/display/loop.py says what sinks may do). Services
    stop on the main thread while the GL context is still current, so they can finish read-backs.
    """
    from .display import DisplayApp, window
    window.init()  # no display: say so before loading models
    show, services = build(setup)
    app = DisplayApp(show)
    app.sinks.extend(s.on_output for s in services if hasattr(s, "on_output"))
    show.generator.start()
    for service in services:
        service.start()
    try:
        app.run(seconds)
    finally:
        for service in reversed(services):
            service.stop()
        show.generator.stop()
        app.close()
