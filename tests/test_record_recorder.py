"""The recording service with a real GL framebuffer: start/stop by parameter, read-back, sound sync, faults.

Pictures are drawn into an offscreen framebuffer by the test (a known grey level per display frame)
and handed to `Recorder.on_output` exactly as the display loop does; sound blocks are handed to
`on_audio` the way the audio input does (time of the first sample on perf_counter's clock).
"""
from __future__ import annotations

import json
import threading
import time

import av
import moderngl
import numpy as np
import pytest

from tests.conftest import small_setup
from vj.record import Recorder
from vj.record.video import PictureClock
from vj.show import build_show

SR = 48_000
W, H = 96, 64


@pytest.fixture(scope="module")
def ctx(xvfb):
    """An offscreen GL context on the test session's Xvfb screen (GLX, like the window's)."""
    # open_clip pulls in triton, whose LLVM clashes with Mesa's llvmpipe once a GL context exists
    # (a segfault at import): load it first, as the app does (models before the window).
    import open_clip  # noqa: F401
    context = moderngl.create_standalone_context()
    yield context
    context.release()


def make(tmp_path, **record):
    setup = small_setup()
    setup.record.folder = str(tmp_path / "recordings")
    for k, v in record.items():
        setattr(setup.record, k, v)
    show = build_show(setup)
    recorder = Recorder(show)
    recorder.start()
    return show, recorder


def grey(k: int) -> float:
    return ((k * 7) % 200 + 20) / 255  # distinct, far from black and white


def decode(path):
    with av.open(str(path)) as box:
        rate = box.streams.video[0].average_rate
        frames = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in box.decode(video=0)]
    with av.open(str(path)) as box:
        audio = (np.concatenate([f.to_ndarray().T for f in box.decode(audio=0)])
                 if box.streams.audio else None)
    return rate, frames, audio


def run_display(ctx, recorder, seconds: float, draw, fps: float = 60.0):
    """A display loop on perf_counter's clock (like LiveClock): draw, hand to the recorder, pace."""
    fbo = ctx.simple_framebuffer((W, H))
    fbo.use()
    start = time.perf_counter()
    k = 0
    while True:
        t = time.perf_counter()
        if t - start >= seconds:
            break
        draw(fbo, k, t)
        recorder.on_output(fbo, t)
        k += 1
        time.sleep(max(0.0, start + k / fps - time.perf_counter()))
    fbo.release()
    return k


def test_record_parameter_writes_the_frames_the_framebuffer_showed(ctx, tmp_path):
    show, recorder = make(tmp_path, fps=30.0)
    drawn: list[tuple[float, float]] = []          # (display time, grey level) of every frame drawn

    def draw(fbo, k, t):
        fbo.clear(grey(k), grey(k), grey(k), 1.0)
        fbo.clear(1.0, 1.0, 1.0, 1.0, viewport=(0, H - 8, W, 8))  # GL counts rows from the bottom: the top
        drawn.append((t, grey(k) * 255))

    show.store.set("record", True, "osc")
    run_display(ctx, recorder, 1.5, draw)
    show.store.set("record", False, "osc")
    recorder.stop()
    take = recorder.take
    slots = PictureClock(30)                        # which display frame each picture slot took
    shown = {}
    for t, level in drawn:
        slot = slots.slot(t + take.offset)
        if slot is not None:
            shown[slot] = level
    rate, frames, audio = decode(take.paths.video)
    assert rate == 30 and audio is None
    # every slot taken is in the file (none lost at the end), but those the encoder was too busy for
    assert len(frames) == take.video.written == len(shown) - take.video.dropped >= 30
    for pts, px in frames:
        assert abs(float(px[10:].mean()) - shown[round(pts * 30)]) < 2.0, pts
        assert px[:6].min() > 240                   # upright: the white strip is at the top
    assert show.store.get("record.dropped") == take.video.dropped and show.store.get("record.error") == ""


# Samples. A one-sample click does not survive the file: the recorder's linear resampling splits it
# between two grid samples and AAC smears what is left, so its peak could fall under the detector's
# threshold at every flash of a take (it did, now and then, in clean-clone CI runs).
CLICK = 16


def test_sound_is_in_sync_with_the_picture_within_one_frame(ctx, tmp_path):
    """Flash/click: a white frame now and then, and a click in the sound at that frame's time."""
    show, recorder = make(tmp_path, fps=0.0)   # at the display rate: sync within a 60 Hz frame
    flashes: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()

    def audio_input():  # 10 ms blocks handed over once captured, stamped with their first sample
        block = SR // 100
        a0 = time.perf_counter()
        n = 0
        while not stop.is_set():
            start = a0 + n * block / SR
            time.sleep(max(0.0, start + block / SR - time.perf_counter()))
            data = np.zeros((block, 2), np.float32)
            with lock:
                for f in flashes:  # a click CLICK samples long, starting at the flash
                    i = round((f - start) * SR)
                    if -CLICK < i < block:
                        data[max(0, i): i + CLICK] = 0.8
            recorder.on_audio(data, start, SR)
            n += 1

    def draw(fbo, k, t):
        white = k % 20 == 10                       # every third of a second
        if white:
            with lock:
                flashes.append(t)
        fbo.clear(*(1.0, 1.0, 1.0) if white else (0.0, 0.0, 0.0), 1.0)

    mic = threading.Thread(target=audio_input, daemon=True)
    mic.start()
    time.sleep(0.1)                                # the input is live before recording starts
    show.store.set("record", True, "key")
    run_display(ctx, recorder, 2.0, draw)
    show.store.set("record", False, "key")
    recorder.stop()
    stop.set()
    mic.join()
    rate, frames, audio = decode(recorder.take.paths.video)
    assert rate == 60 and audio is not None and audio.shape[1] == 2
    video_s = (round(frames[-1][0] * 60) + 1) / 60
    assert abs(len(audio) / SR - video_s) < 1024 / SR + 1e-9   # the track is as long as the picture
    white = [pts for pts, px in frames if px.mean() > 128]
    loud = np.flatnonzero(np.abs(audio[:, 0]) > 0.4)
    clicks = [loud[0]] + [b for a, b in zip(loud, loud[1:]) if b - a > SR // 10]
    # A white frame that shared its picture slot with the next display frame (the loop catching up
    # after a late frame) is not in the file; every one that is must sit on its click.
    assert len(clicks) >= 5 and len(white) >= len(clicks) // 2
    for v in white:
        nearest = min(clicks, key=lambda a: abs(v - a / SR))
        assert abs(v - nearest / SR) <= 1 / 60, (v, nearest / SR)


def test_unwritable_folder_stops_with_one_sentence_and_the_show_goes_on(ctx, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    show, recorder = make(tmp_path)
    show.setup.record.folder = str(blocker / "recordings")
    show.store.set("record", True, "midi")
    frames = run_display(ctx, recorder, 0.5, lambda fbo, k, t: fbo.clear(0.5, 0.5, 0.5, 1.0))
    assert frames > 10
    error = show.store.get("record.error")
    assert error == (f"Recording could not start: {blocker} is a file, not a folder; move that file away or "
                     "set another [record] folder in the setup.")
    assert show.store.get("record") is False and not recorder.recording
    recorder.stop()


def test_timeline_beside_the_video_has_a_header_and_every_change(ctx, tmp_path):
    show, recorder = make(tmp_path)
    show.store.set("record", True, "cli")
    show.store.set("temperature", 55.0, "osc")
    show.store.trigger("reseed", "key")
    show.store.set("record.dropped", 3, "app")       # published by the app: not a change to replay
    run_display(ctx, recorder, 0.2, lambda fbo, k, t: fbo.clear(0.1, 0.2, 0.3, 1.0))
    show.store.set("record", False, "cli")
    recorder.stop()
    take = recorder.take
    assert take.paths.timeline.parent == take.paths.video.parent
    lines = [json.loads(x) for x in take.paths.timeline.read_text().splitlines()]
    head = lines[0]
    assert head["kind"] == "header" and head["setup"] == "test" and head["model"].endswith("tiny-clip.json")
    assert (head["width"], head["height"], head["seed"]) == (64, 48, 1)
    assert head["video"] == take.paths.video.name and head["params"]["temperature"] == 30.0
    events = [(e["kind"], e.get("name"), e.get("value"), e.get("source")) for e in lines[1:]]
    assert events[:2] == [("set", "temperature", 55.0, "osc"), ("action", "reseed", None, "key")]
    assert ("set", "record", False, "cli") in events
    assert not any(name == "record.dropped" for _, name, _, _ in events)
    assert all({"t", "frame", "it"} <= set(e) for e in lines[1:])


def test_the_r_key_toggles_recording_and_the_hud_shows_the_drop_counter(tmp_path):
    from vj.display.keys import press
    from vj.display.hud import Status, describe
    show, recorder = make(tmp_path)
    press(show.store, "R")
    assert recorder.recording
    show.store.set("record.dropped", 7, "app")
    lines = [text for text, _ in describe(show.store.snapshot(), None, Status())]
    assert "REC  recording   7 pictures dropped" in lines
    press(show.store, "R")
    assert not recorder.recording
    recorder.stop()
    assert recorder.take.paths.timeline.exists()


def test_a_sound_input_that_reopens_at_another_rate_keeps_the_take_sounding(ctx, tmp_path, caplog):
    """The take starts with a 48 kHz stereo input; the input reopens at 44.1 kHz mono (another device):
    its sound is resampled into the take, at its pitch, with one sentence (it used to fall silent)."""
    show, recorder = make(tmp_path, fps=0.0)
    stop = threading.Event()
    switch_at: list[float] = []

    def audio_input():
        a0, n, rate = time.perf_counter(), 0, SR
        start = a0
        while not stop.is_set():
            if rate == SR and time.perf_counter() - a0 > 1.0:
                rate, start, n = 44_100, time.perf_counter(), 0
                switch_at.append(start)
            block = rate // 100
            t = start + n * block / rate
            time.sleep(max(0.0, t + block / rate - time.perf_counter()))
            tone = np.sin(2 * np.pi * (440 if rate == SR else 880) * (np.arange(block) + n * block) / rate)
            data = 0.5 * tone.astype(np.float32)[:, None]
            recorder.on_audio(np.repeat(data, 2, 1) if rate == SR else data, t, rate)
            n += 1

    mic = threading.Thread(target=audio_input, daemon=True)
    mic.start()
    time.sleep(0.1)
    show.store.set("record", True, "key")
    t0 = time.perf_counter()
    run_display(ctx, recorder, 2.2, lambda fbo, k, t: fbo.clear(0.2, 0.2, 0.2, 1.0))
    show.store.set("record", False, "key")
    recorder.stop()
    stop.set()
    mic.join()
    _, _, audio = decode(recorder.take.paths.video)
    after = audio[round((switch_at[0] - t0 + 0.2) * SR):][:SR // 2, 0]    # half a second after the switch
    assert len(after) >= SR // 4 and np.sqrt(np.mean(after ** 2)) > 0.2  # sound, not silence
    peak = np.argmax(np.abs(np.fft.rfft(after * np.hanning(len(after))))) * SR / len(after)
    assert abs(peak - 880) < 10                                           # at its own pitch
    said = [r.getMessage() for r in caplog.records if "44100 Hz" in r.getMessage()]
    assert len(said) == 1 and "resampled" in said[0]
