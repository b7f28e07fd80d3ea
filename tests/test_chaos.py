"""Chaos: an exception injected into each thread's work while the whole live show runs (issue 15).

The show is the one `vj run` builds (vj.app.Live) under Xvfb: generator, window, OSC on a free port,
MIDI through a fake port, an audio file as the input, and a recording. Into each part's work goes
one exception: the generator's step, a display frame sink, the OSC handler, the MIDI callback and
its worker, the audio input's pushing thread and its analysis, and the recorder's encoder. The
window must keep showing frames, each failure must be counted on the HUD (per part, and in the
read-only `errors` row), and each part must work again afterwards.
"""
from __future__ import annotations

import time

import av
import mido
import numpy as np
from pythonosc.udp_client import SimpleUDPClient

from tests.conftest import small_setup
from tests.media import write_wav
from tests.test_midi import FakeBackend
from vj.audio.analysis import Analyzer
from vj.audio.source import BlockRing, DeviceSource
from vj.display.hud import describe
from vj.record.encoder import VideoFile

PARTS = ("generator", "display", "osc", "midi", "audio", "record")


def fails_once(fn, what: str):
    """`fn`, except that its first call raises; `.failed` says whether that happened."""
    def wrapper(*args, **kw):
        if not wrapper.failed:
            wrapper.failed = True
            raise RuntimeError(f"chaos in {what}")
        return fn(*args, **kw)
    wrapper.failed = False
    return wrapper


def run_until(live, done, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        live.app.run_frames(1)
        if done():
            return True
    return False


def test_an_exception_in_every_thread_is_counted_and_each_part_recovers(xvfb, tmp_path, monkeypatch):
    import open_clip  # noqa: F401  (before any GL context: see test_record_recorder.ctx)
    from vj.app import Live

    sr = 48_000
    write_wav(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 220 * np.arange(20 * sr) / sr), sr)
    setup = small_setup(hud=True, record=True)
    setup.osc.listen, setup.osc.port, setup.osc.feedback = "127.0.0.1", 0, False
    setup.midi.device = "chaos"
    setup.audio.file = str(tmp_path / "tone.wav")
    setup.record.folder = str(tmp_path / "rec")
    live = Live(setup)
    show, app = live.show, live.app
    osc, midi, audio, recorder = (app.parts[p] for p in ("osc", "midi", "audio", "record"))
    midi.backend = FakeBackend(["chaos pad"])
    audio.retry_s = 0.2
    heard = []
    audio.add_listener(lambda block, t, rate: heard.append(time.perf_counter()))
    live.start()
    try:
        assert run_until(live, lambda: show.bus.seq >= 2 and heard and midi.status == "open"
                         and recorder.take and recorder.take.video and recorder.take.video.written > 3)
        first_take = recorder.take

        # -- one exception into each thread's work --------------------------------------------------
        show.generator.opt.step = fails_once(show.generator.opt.step, "the generator")
        sink_calls = []
        app.sinks.append(fails_once(lambda fbo, t: sink_calls.append(t), "a frame sink"))
        monkeypatch.setattr(osc, "_message", fails_once(osc._message, "the OSC handler"))
        monkeypatch.setattr(midi._queue, "put_nowait", fails_once(midi._queue.put_nowait, "the MIDI callback"))
        monkeypatch.setattr(midi.mapper, "handle", fails_once(midi.mapper.handle, "the MIDI worker"))
        monkeypatch.setattr(BlockRing, "push", fails_once(BlockRing.push, "the audio input's thread"))
        monkeypatch.setattr(Analyzer, "process", fails_once(Analyzer.process, "the audio analysis"))
        monkeypatch.setattr(VideoFile, "write_picture", fails_once(VideoFile.write_picture, "the encoder"))
        seq, frames, unmapped = show.bus.seq, app.frames, midi.unmapped
        client = SimpleUDPClient("127.0.0.1", osc.port)
        for value in (41.0, 42.0):                 # the first one meets the failing handler
            client.send_message("/vj/temperature", value)
        for value in (10, 20, 30):                 # the first one meets the failing callback
            midi.backend.callback(mido.Message("control_change", control=99, value=value))

        # -- each part works again ----------------------------------------------------------------
        def checks() -> dict[str, bool]:
            take = recorder.take
            return {"generator paints": show.bus.seq > seq + 2, "sink fed": len(sink_calls) > 5,
                    "osc applies": show.store.get("temperature") == 42.0, "midi handles": midi.unmapped > unmapped,
                    "audio failed twice": audio.errors >= 2, "audio back": show.store.get("audio.active")
                    and heard[-1] > time.perf_counter() - 0.5,
                    "recording again": take is not first_take and take.video is not None and take.video.written > 3}
        assert run_until(live, lambda: all(checks().values()), 60), (checks(), app.error_counts())
        assert app.frames > frames + 10 and not app.finished          # the window went on all along
        counts = app.error_counts()
        assert {p: min(counts[p], 1) for p in PARTS} == dict.fromkeys(PARTS, 1), counts
        assert counts["midi"] == 2 and counts["osc"] == 1 and counts["record"] == 1
        app.run_frames(1)
        assert show.store.get("errors") == sum(counts.values())        # the read-only row, for OSC clients
        hud = [text for text, _ in describe(show.store.snapshot(), show.bus.latest(), app.status())]
        line = next(text for text in hud if text.startswith("ERRORS"))
        assert all(f"{part} {counts[part]}" in line for part in PARTS), line
        assert show.store.get("record") is True                        # still recording, in a new file
    finally:
        live.stop()
    for take in (first_take, recorder.take):                           # both files play
        with av.open(str(take.paths.video)) as box:
            assert len(list(box.decode(video=0))) > 3


def test_the_audio_callback_survives_an_exception_and_counts_it():
    """PortAudio's callback (no sound card here: called as PortAudio calls it). sounddevice ends the
    stream when its callback raises, so a failure there must stay inside: counted, the block lost."""
    source = DeviceSource("chaos", block_ms=10)
    source._make_ring(48_000, 1)
    source._block_s, source.latency = 0.01, 0.0
    block = np.zeros((source.block, 1), np.float32)
    real_push = source.ring.push
    source.ring.push = fails_once(real_push, "the ring")
    for _ in range(3):
        source._callback(block, source.block, None, None)
    assert source.errors == 1 and source.ring.pop(timeout=0.1) is not None   # the next blocks went through
    assert source.ring.pop(timeout=0.1) is not None and source.ring.pop(timeout=0.01) is None


def test_a_recorder_whose_encoder_keeps_failing_stops_after_a_few_new_files(tmp_path, monkeypatch):
    """Recovery must not become a loop: after MAX_RESTARTS new takes in a row, recording stops with the
    sentence, and `record` turns off."""
    from tests.test_record_recorder import make
    from vj.record import recorder as recorder_module

    show, recorder = make(tmp_path)
    show.store.set("record", True, "key")

    class Broken:                      # an encoder that failed with a bug (not the disk)
        disk_fault, written, dropped, alive, error = False, 0, 0, False, "broken"

        def finish(self, grace: float = 0.0) -> None: ...

        def wait(self, timeout=None) -> bool:
            return True

    takes = []
    for _ in range(recorder_module.MAX_RESTARTS + 1):
        deadline = time.monotonic() + 5
        while recorder._take is None or recorder._take in takes:   # the next take, opened by the last failure
            assert time.monotonic() < deadline, "no new take"
            time.sleep(0.01)
        takes.append(recorder._take)
        takes[-1].video = Broken()
        recorder._fault("Recording stopped: writing x failed (chaos).")
    deadline = time.monotonic() + 5
    while show.store.get("record") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert recorder.errors == recorder_module.MAX_RESTARTS + 1 and len({id(t) for t in takes}) == len(takes)
    assert show.store.get("record") is False and show.store.get("record.error").endswith("(chaos).")
    recorder.stop()
