"""Video out: the output picture (never the HUD) goes to other programs over NDI, received here by
the same library's receiver and compared with the output picture; a missing output is one sentence."""
from __future__ import annotations

import logging
import os
import time

import numpy as np
import pytest

from engine.bus import Frame
from tests.conftest import small_setup
from vj.display import DisplayApp, FixedStepClock
from vj.output import Outputs
from vj.show import build_show


def pattern(h: int = 48, w: int = 64) -> np.ndarray:
    """A picture with structure in both directions (a codec cannot pass it by luck)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), ((x // 8 + y // 8) % 2) * 200 + 20], -1).astype(np.uint8)


@pytest.fixture
def headless_app():
    """A headless (EGL) display of a tiny show whose bus holds one still frame; no generator."""
    import open_clip  # noqa: F401  (before any GL context: triton's LLVM clashes with llvmpipe's)
    setup = small_setup()
    setup.name = f"vj-test-{os.getpid()}"
    setup.display.output_height = 96
    show = build_show(setup)
    show.store.set("smoothing", 0.0)
    show.bus.publish(Frame(0, 1, True, time.perf_counter(), pattern()))
    app = DisplayApp(show, clock=FixedStepClock(60), headless=True)
    outputs = Outputs(setup, show.store, show.warnings)
    app.sinks.append(outputs.on_output)
    yield app, outputs
    outputs.stop()
    app.close()


def test_ndi_receivers_get_the_output_picture(ndi_loopback, headless_app):
    from vj.input.ndi import NdiSource
    app, outputs = headless_app
    app.run_frames(30)                       # the cross-fade settles on the still frame
    app.store.set("output.ndi", True)
    app.run_frames(3)
    assert "ndi" in outputs.sinks
    source = NdiSource(app.show.setup.name)
    try:
        got = None
        end = time.monotonic() + 10
        while got is None and time.monotonic() < end:
            app.run_frames(1)
            got = source.latest()
        assert got is not None, "no picture received over NDI"
        expected = app.read_window()         # headless: the output picture
        received = got[1]
        assert received.shape == expected.shape == (96, 128, 3)
        diff = np.abs(received.astype(int) - expected.astype(int))
        # NDI's codec (SpeedHQ, 4:2:2) keeps smooth areas within a few levels and blurs colour across
        # the checker's sharp edges (measured: median 2, mean 4.4, blue worst).
        assert np.median(diff) <= 3 and diff.mean() < 6, (np.median(diff), diff.mean())
        assert np.corrcoef(received.ravel(), expected.ravel())[0, 1] > 0.98
        assert expected.std() > 30                                  # not a blank picture
    finally:
        source.close()
    app.store.set("output.ndi", False)
    app.run_frames(1)
    assert not outputs.sinks


def test_an_output_that_cannot_open_is_one_sentence_and_turns_its_row_off(headless_app, caplog, monkeypatch):
    from vj.output import service, sinks

    def unavailable(*args):
        raise sinks.OutputUnavailable("No v4l2loopback camera to send to (none); load one with `modprobe`.")
    monkeypatch.setattr(service, "open_sink", unavailable)
    app, outputs = headless_app
    app.store.set("output.local", True)
    app.run_frames(3)
    said = [r.getMessage() for r in caplog.records if r.name == "vj.output.service" and r.levelno == logging.WARNING]
    assert len(said) == 1 and "v4l2loopback" in said[0] and "output.local is off" in said[0]
    assert not app.store.get("output.local") and "OUTPUT LOCAL UNAVAILABLE" in app.show.warnings
    assert app.frames == 3 and app.errors == 0                     # the show went on


def test_a_missing_package_is_one_sentence(monkeypatch):
    import sys

    from vj.output.sinks import OutputUnavailable, _need
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)
    with pytest.raises(OutputUnavailable, match=r"pip install pyvirtualcam"):
        _need("pyvirtualcam", "pyvirtualcam", "The virtual camera output")


def test_vj_view_shows_an_ndi_source(xvfb, ndi_loopback):
    import threading

    from vj.output.sinks import NdiSink
    from vj.view import view
    name = f"vj-view-{os.getpid()}"
    sink = NdiSink(name, (64, 48), 30)
    rgba = np.dstack([pattern(), np.full((48, 64), 255, np.uint8)])
    stop = threading.Event()

    def send():
        while not stop.wait(1 / 30):
            sink.send(rgba)
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        assert view(name, size=(320, 240), seconds=2.0) > 0
    finally:
        stop.set()
        sender.join()
        sink.close()


def test_the_recorder_and_the_ndi_output_share_one_read_back_per_frame(headless_app, tmp_path):
    """Both consumers of a frame get the same pixels from one copy (not two read-backs)."""
    from vj.record.readback import FramebufferReader, _rings
    app, _ = headless_app
    app.run_frames(3)
    fbo = app.renderer.output
    a, b = FramebufferReader(app.ctx, lag=0), FramebufferReader(app.ctx, lag=0)
    ring = _rings[app.ctx]
    made = len(ring.free) + len(ring.in_flight)
    a.push(fbo, "recorder", key=1.0)
    b.push(fbo, "ndi", key=1.0)
    assert len(ring.in_flight) == 1                      # one copy queued for both
    (pa, _), = a.ready()
    (pb, _), = b.ready()
    assert pa is pb and np.array_equal(pa[..., :3], app.read_window())
    assert len(ring.free) + len(ring.in_flight) <= made + 1 and not ring.in_flight
