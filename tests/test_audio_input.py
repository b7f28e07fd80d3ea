"""Audio inputs: device trouble said in one sentence and survived, files decoded and paced, the tap.

These machines have no sound card, so device tests replace sounddevice's device list and stream
with fakes (the service, DeviceSource and its callback are the real ones).
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import sounddevice as sd

from engine import make_store
from tests import media
from vj.audio import AudioInput, FileSource
from vj.tables import AUDIO
from vj.audio.source import AudioUnavailable, device_lines, find_input
from vj.setup import parse_setup

SR = 48000


def audio_store():
    store = make_store()
    store.add(AUDIO, [])
    return store


def write_wav(path: Path, samples: np.ndarray, sr: int = SR) -> Path:
    return media.write_wav(path, samples, sr)


def wait_for(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return False


def started(setup_audio: dict, retry_s: float = 2.0) -> tuple[AudioInput, object]:
    store = audio_store()
    audio = AudioInput.from_setup(parse_setup({"audio": setup_audio}), store)
    audio.retry_s = retry_s
    audio.start()
    return audio, store


MIC = {"name": "USB Audio Mic", "index": 0, "hostapi": 0, "max_input_channels": 1, "max_output_channels": 0,
       "default_samplerate": 48000.0}


class FakeInputStream:
    """Stands in for sd.InputStream: a thread calling the real callback with a steady tone."""
    live: list["FakeInputStream"] = []

    def __init__(self, device, channels, samplerate, blocksize, dtype, latency, callback, finished_callback):
        self.callback, self.finished = callback, finished_callback
        self.blocksize, self.channels = blocksize, channels
        self.latency = 0.004
        self._stop = threading.Event()
        FakeInputStream.live.append(self)

    def start(self):
        t = np.arange(self.blocksize) / SR
        block = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None].repeat(self.channels, 1)

        def run():
            while not self._stop.wait(0.002):
                self.callback(block, self.blocksize, None, None)
        threading.Thread(target=run, daemon=True).start()

    def unplug(self):
        self._stop.set()
        self.finished()

    def abort(self):
        self._stop.set()

    def close(self):
        self._stop.set()


@pytest.fixture
def fake_portaudio(monkeypatch):
    """A device list the test edits, fake streams, and no real PortAudio rescans."""
    devices: list[dict] = []
    monkeypatch.setattr(sd, "query_devices", lambda *a, **k: [dict(d) for d in devices])
    monkeypatch.setattr(sd, "InputStream", FakeInputStream)
    monkeypatch.setattr(sd, "_terminate", lambda: None)
    monkeypatch.setattr(sd, "_initialize", lambda: None)
    FakeInputStream.live.clear()
    return devices


def test_missing_device_is_one_sentence_and_the_show_goes_on(fake_portaudio, caplog):
    with caplog.at_level(logging.WARNING):
        audio, store = started({"device": "USB"}, retry_s=0.05)
        time.sleep(0.3)  # several retries
        audio.stop()
    sentence = ("No audio input device found for 'USB' (PortAudio lists none); plug one in, or rehearse with "
                "--audio-file; the show goes on without audio and retries every 0.05 s.")
    assert audio.problem == sentence
    assert [r.getMessage() for r in caplog.records if r.name.startswith("vj.audio")] == [sentence]  # once
    assert store.snapshot()["audio.active"] is False
    assert store.snapshot()["noise"] == store.base("noise") == 1.0
    assert store.set("temperature", 55.0)  # the store (the show) is untouched


def test_bad_device_name_names_the_inputs(fake_portaudio, caplog):
    fake_portaudio.append(MIC)
    with caplog.at_level(logging.WARNING):
        audio, store = started({"device": "Scarlett"})
        assert wait_for(lambda: audio.problem is not None)
        audio.stop()
    assert audio.problem == ("No audio input device matches 'Scarlett' (inputs: 'USB Audio Mic'); `vj devices` "
                             "lists them; the show goes on without audio and retries every 2 s.")
    assert caplog.records[-1].getMessage() == audio.problem


def test_bad_device_index(fake_portaudio):
    fake_portaudio.append(MIC)
    with pytest.raises(AudioUnavailable, match=r"^Audio device 7 is not an input device; `vj devices` lists"):
        find_input("7")
    assert find_input("0")["name"] == "USB Audio Mic" and find_input("usb audio")["index"] == 0


def test_real_portaudio_bad_name_gives_the_sentence():
    """Without fakes: whatever this machine has (here: no sound card), a nonsense name is refused clearly."""
    audio, _ = started({"device": "no such microphone 1234"})
    assert wait_for(lambda: audio.problem is not None)
    audio.stop()
    assert audio.problem.startswith("No audio input device")
    assert "'no such microphone 1234'" in audio.problem
    assert audio.problem.endswith("the show goes on without audio and retries every 2 s.")


def test_devices_listing(fake_portaudio):
    assert device_lines() == ["no audio inputs (PortAudio lists none); rehearse with --audio-file"]
    fake_portaudio.append(MIC)
    assert device_lines() == ["  0  USB Audio Mic  (1 ch, 48000 Hz)"]


def test_device_that_disappears_is_reopened_when_it_returns(fake_portaudio, caplog):
    fake_portaudio.append(MIC)
    with caplog.at_level(logging.INFO, logger="vj.audio"):
        audio, store = started({"device": "usb"}, retry_s=0.05)
        try:
            assert wait_for(lambda: store.snapshot()["audio.energy"] > 0.3)
            assert store.snapshot()["audio.active"] and store.snapshot()["noise"] > 1.3  # energy rides the noise
            fake_portaudio.clear()                 # unplugged: gone from the list and its stream ends
            FakeInputStream.live[-1].unplug()
            assert wait_for(lambda: not store.snapshot()["audio.active"])
            assert store.snapshot()["audio.energy"] == 0.0
            assert store.snapshot()["noise"] == 1.0  # the routes let go: the base value is back
            lost = ("Audio input 'USB Audio Mic' stopped (its stream stopped (unplugged, or a PortAudio error)); "
                    "the show goes on without audio and reopens it when it returns.")
            assert audio.problem == lost and audio.warnings == [f"AUDIO: {lost}"]  # on the HUD too
            time.sleep(0.2)                          # retries meanwhile, quietly
            fake_portaudio.append(MIC)               # plugged back in
            assert wait_for(lambda: store.snapshot()["audio.active"] and store.snapshot()["audio.energy"] > 0.3)
            assert audio.problem is None and audio.warnings == []
        finally:
            audio.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [lost, "Audio input 'USB Audio Mic' is back; audio drives the picture again."]
    assert len(FakeInputStream.live) == 2


def test_silent_device_trips_the_watchdog(fake_portaudio):
    """A device that stops calling back without an error (some USB drivers) counts as lost too."""
    fake_portaudio.append(MIC)
    audio, store = started({"device": "usb"}, retry_s=10)
    audio.watchdog_s = 0.2
    try:
        assert wait_for(lambda: store.snapshot()["audio.active"])
        FakeInputStream.live[-1].abort()  # no more callbacks, no finished callback
        assert wait_for(lambda: not store.snapshot()["audio.active"])
        assert "no sound arrived for 0.2 s" in audio.problem
    finally:
        audio.stop()


def test_file_source_decodes_flac_written_with_pyav(tmp_path):
    import av
    path = tmp_path / "tone.flac"
    sr, seconds = 44100, 0.5
    t = np.arange(int(sr * seconds)) / sr
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 880 * t)])
    with av.open(str(path), "w") as out:
        stream = out.add_stream("flac", rate=sr, layout="stereo")
        frame = av.AudioFrame.from_ndarray((stereo * 32767).astype(np.int16).T.reshape(1, -1), format="s16",
                                           layout="stereo")
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    src = FileSource(path, block_ms=10, loop=False, play=False, sleep=lambda s: None)  # unpaced: as fast as it decodes
    ring = src.open()
    blocks = []
    try:
        while (got := ring.pop(timeout=1.0)) is not None:
            blocks.append(got[0].copy())
    finally:
        src.close()
    assert (src.samplerate, src.channels, src.block) == (44100, 2, 441)
    assert src.ended and src.failure is None
    data = np.concatenate(blocks)
    assert len(data) + ring.overruns * 441 == len(t) // 441 * 441  # a reader too slow loses the oldest, counted
    assert np.sqrt(np.mean(data[:, 0] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)
    assert np.sqrt(np.mean(data[:, 1] ** 2)) == pytest.approx(0.25 / np.sqrt(2), rel=0.02)


@pytest.mark.parametrize("name, content, sentence", [
    ("missing.wav", None, "Audio file '{p}' not found; check [audio] file in the setup or --audio-file; "
                          "the show goes on without audio and retries every 2 s."),
    ("notes.wav", b"this is not audio", "Audio file '{p}' cannot be decoded ("),
])
def test_bad_files_are_one_sentence(tmp_path, name, content, sentence):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    audio, store = started({"file": str(path)})
    assert wait_for(lambda: audio.problem is not None)
    audio.stop()
    assert audio.problem.startswith(sentence.format(p=path))
    assert audio.problem.endswith("the show goes on without audio and retries every 2 s.")
    assert not store.snapshot()["audio.active"]


def test_file_plays_in_real_time_and_feeds_the_tap(tmp_path):
    """0.5 s of file takes about 0.5 s; the listener gets every block, in order, with its time."""
    path = write_wav(tmp_path / "short.wav", 0.2 * np.random.default_rng(1).normal(size=SR // 2), SR)
    store = audio_store()
    audio = AudioInput.from_setup(parse_setup({"audio": {"file": str(path), "loop": False, "play": False}}), store)
    got: list[tuple[int, float, int]] = []
    audio.add_listener(lambda block, t, sr: got.append((block.shape[0], t, sr)))
    audio.add_listener(lambda block, t, sr: 1 / 0)  # a broken listener must not stop the audio
    start = time.perf_counter()
    audio.start()
    assert wait_for(lambda: len(got) == 50)
    took = time.perf_counter() - start
    assert wait_for(lambda: not store.snapshot()["audio.active"])  # the file ended: levels off
    audio.stop()
    assert took > 0.4  # paced by the clock, not decoded at once (no upper bound: a busy machine is slow)
    assert all(n == 480 and sr == SR for n, _, sr in got)
    times = np.array([t for _, t, _ in got])
    assert np.allclose(np.diff(times), 0.01)
    assert audio.listener_errors == 50


def test_file_loops(tmp_path):
    path = write_wav(tmp_path / "loop.wav", 0.2 * np.ones(SR // 10), SR)  # 0.1 s
    src = FileSource(path, block_ms=10, loop=True, play=False, sleep=lambda s: None)
    ring = src.open()
    try:
        blocks = [ring.pop(timeout=1.0) for _ in range(35)]
    finally:
        src.close()
    assert all(b is not None for b in blocks) and not src.ended


def test_file_plays_out_when_an_output_exists_and_survives_losing_it(tmp_path, monkeypatch, caplog):
    written = []

    class FakeOutputStream:
        def __init__(self, samplerate, channels, blocksize, dtype, latency):
            assert (samplerate, channels, blocksize) == (SR, 1, 480)

        def start(self):
            pass

        def write(self, data):
            if len(written) == 5:
                raise sd.PortAudioError("Output device unavailable")
            written.append(data.copy())

        def close(self):
            pass

    monkeypatch.setattr(sd, "OutputStream", FakeOutputStream)
    path = write_wav(tmp_path / "out.wav", 0.1 * np.ones(SR // 5), SR)  # 0.2 s: 20 blocks
    src = FileSource(path, block_ms=10, loop=False, play=True)
    ring = src.open()
    with caplog.at_level(logging.WARNING):
        got = [ring.pop(timeout=1.0) for _ in range(20)]
        assert wait_for(lambda: src.ended)  # the thread marks the end after its last block
    src.close()
    assert all(g is not None for g in got) and src.ended  # every block analysed, heard or not
    assert len(written) == 5 and np.allclose(written[0], 0.1, atol=1e-3)
    assert [r.getMessage() for r in caplog.records] == [
        "Audio file 'out.wav' can no longer be heard (Output device unavailable); the picture still follows it."]
