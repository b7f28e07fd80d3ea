"""Recording the live app under Xvfb: the real window, generator, audio file input and recorder.

* in process: a few seconds recorded while the display flashes white at the clicks of an audio
  file; the file is decoded and checked against what the output framebuffer showed, frame by frame,
  and the flashes against the clicks (sync within one video frame);
* as a separate `vj run --record` process: killed with SIGKILL mid-set (the file plays up to
  about then), and run with a file-size limit as a FAT32 stick has (one sentence, the show goes
  on, the partial file plays). SIGTERM and SIGHUP: tests/test_stop_signals.py.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from tests import conftest
from tests.conftest import small_setup
from tests.media import write_wav
from vj.app import build
from vj.record.video import PictureClock

SR = 48_000
CLICKS = [0.6 + 0.4 * j for j in range(8)]     # seconds into the audio file
LUMA = np.float32([0.299, 0.587, 0.114])


def click_track(path: Path, seconds: float = 5.0) -> None:
    """A stereo WAV of silence with a 1 ms click at each of CLICKS."""
    audio = np.zeros((round(seconds * SR), 2), np.float32)
    for c in CLICKS:
        audio[round(c * SR):round(c * SR) + SR // 1000] = 0.8
    write_wav(path, audio, SR)


def decode(path: Path):
    with av.open(str(path)) as box:
        rate = box.streams.video[0].average_rate
        frames = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in box.decode(video=0)]
    with av.open(str(path)) as box:
        audio = np.concatenate([f.to_ndarray().T for f in box.decode(audio=0)]) if box.streams.audio else None
    return rate, frames, audio


def test_live_app_recording_matches_the_output_and_the_sound_within_a_frame(xvfb, tmp_path):
    import open_clip  # noqa: F401  (before any GL context: see test_record_recorder.ctx)
    from vj.display import DisplayApp, LiveClock

    click_track(tmp_path / "clicks.wav")
    setup = small_setup(scale=4, hud=False)  # smooth pictures: H.264 keeps them, noise it would not
    setup.display.width, setup.display.height = 160, 120
    setup.display.output_width, setup.display.output_height = 128, 96
    setup.audio.file = str(tmp_path / "clicks.wav")
    setup.record.folder = str(tmp_path / "rec")
    setup.record.fps = 0.0   # at the display rate: every shown frame is in the file
    show, services = build(setup)
    audio = next(s for s in services if type(s).__name__ == "AudioInput")
    recorder = next(s for s in services if type(s).__name__ == "Recorder")
    app = DisplayApp(show, clock=LiveClock(60, pace=True))
    shown: list[tuple[float, np.ndarray]] = []   # what the output framebuffer showed, read synchronously
    app.sinks.append(recorder.on_output)
    app.sinks.append(lambda fbo, t: recorder.recording and shown.append(
        (t, np.frombuffer(fbo.read(components=3), np.uint8).reshape(96, 128, 3)[::-1])))
    flashed: list[tuple[float, float]] = []      # (display time of the white frame, its click's time)
    heard_at: list[float] = []                   # block times: the first is the file's first sample
    audio.add_listener(lambda block, t, samplerate: heard_at.append(t))
    try:
        show.generator.start()
        audio.start()
        recorder.start()
        deadline = time.perf_counter() + 20
        while (len(heard_at) < 5 or show.bus.seq < 2) and time.perf_counter() < deadline:
            app.run_frames(1)
        assert len(heard_at) >= 5 and show.bus.seq >= 2, "no sound or no generator frames"
        show.store.set("record", True, "key")
        clicks = [heard_at[0] + c for c in CLICKS]
        end = clicks[-1] + 0.3
        while app.t < end:
            due = [c for c in clicks if c <= time.perf_counter() and c not in {f[1] for f in flashed}]
            show.store.set("flash", 1.0 if due else 0.0, "test")
            app.run_frames(1)
            if due:
                flashed.append((app.t, due[0]))
        show.store.set("record", False, "key")
        recorder.stop()
    finally:
        for service in (recorder, audio):
            service.stop()
        show.generator.stop()
        app.close()

    take = recorder.take
    rate, frames, sound = decode(take.paths.video)
    assert rate == 60
    assert len(frames) == take.video.written > 60 and take.video.dropped == show.store.get("record.dropped")
    # Frames match what the framebuffer showed, slot by slot (the luma: 4:2:0 video blurs colour).
    slots, expected, slot_of = PictureClock(60), {}, {}
    for t, pixels in shown:
        slot = slots.slot(t + take.offset)
        if slot is not None:
            expected[slot], slot_of[t] = pixels, slot
    pts = [round(p * 60) for p, _ in frames]
    assert set(pts) <= set(expected) and len(pts) >= len(expected) - take.video.dropped
    errors = [np.abs(px.astype(np.float32) @ LUMA - expected[s].astype(np.float32) @ LUMA).mean()
              for s, (_, px) in zip(pts, frames)]
    assert max(errors) < 8 and np.mean(errors) < 4, (max(errors), np.mean(errors))
    # Sound: present, as long as the picture, and in sync within one video frame.
    assert sound is not None and sound.shape[1] == 2
    assert abs(len(sound) / SR - (pts[-1] + 1) / 60) < 1 / 60 + 1024 / SR
    white = [p for p, px in frames if px.mean() > 230]
    loud = np.flatnonzero(np.abs(sound[:, 0]) > 0.4)
    heard = [loud[0] / SR] + [b / SR for a, b in zip(loud, loud[1:]) if b - a > SR // 10]
    assert len(flashed) == len(CLICKS) and len(heard) == len(CLICKS)
    # (a white frame that shared its picture slot with the next display frame is not in the file)
    assert len(white) >= len(CLICKS) // 2
    live_offset = {slot_of[t]: t - c for t, c in flashed if t in slot_of}
    for v in white:
        a = min(heard, key=lambda a: abs(v - a))
        # the file keeps the live relation of picture and sound: flash minus click, within a frame
        assert abs((v - a) - live_offset[round(v * 60)]) <= 1 / 60, (v, a, live_offset[round(v * 60)])


# -- a separate `vj run --record` process ---------------------------------------------------------
def tiny_setup_file(tmp_path: Path) -> Path:
    return conftest.tiny_setup_file(tmp_path / "tiny.toml", """[display]
width = 160
height = 120
output_height = 96
[record]
folder = "rec"
""")


def start_show(setup: Path, *args: str, limit_bytes: int | None = None) -> subprocess.Popen:
    def limit():  # a file-size limit stands in for a full disk; SIGXFSZ ignored, writes fail (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "vj", "run", str(setup), "--record", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=limit if limit_bytes else None)


def wait_for_line(proc: subprocess.Popen, text: str, timeout: float = 60.0) -> tuple[str, list[str]]:
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if text in line:
            return line, lines
    raise AssertionError(f"{text!r} never appeared:\n{''.join(lines[-20:])}")


def test_sigkill_mid_recording_leaves_a_file_that_plays_up_to_about_then(xvfb, tmp_path):
    proc = start_show(tiny_setup_file(tmp_path))
    try:
        wait_for_line(proc, "recording to")
        started = time.monotonic()
        time.sleep(3.0)
        proc.send_signal(signal.SIGKILL)
        recorded_s = time.monotonic() - started
        proc.wait(10)
    finally:
        proc.kill()
    video = next((tmp_path / "rec").glob("*.mkv"))
    with av.open(str(video)) as box:
        frames = [f.time for f in box.decode(video=0)]  # decodes without an error to its end
    assert frames and frames[-1] > recorded_s - 1.0, (frames[-1] if frames else None, recorded_s)
    timeline = next((tmp_path / "rec").glob("*.timeline.jsonl")).read_text().splitlines()
    assert timeline[0].startswith('{"kind": "header"') and len(timeline) > 10


def test_a_file_size_limit_stops_the_recording_with_one_sentence_and_the_show_goes_on(xvfb, tmp_path):
    """A process file-size limit fails writes as a FAT32 stick does at 4 GB (EFBIG): not a full disk."""
    proc = start_show(tiny_setup_file(tmp_path), "--seconds", "6", limit_bytes=40_000)
    try:
        line, _ = wait_for_line(proc, "Recording stopped")
        assert proc.poll() is None                 # the show is still running
        rest = proc.communicate(timeout=60)[0]
    finally:
        proc.kill()
    sentence = line.split("ERROR vj.record.video: ", 1)[1].strip()
    assert sentence.startswith("Recording stopped: ") and "reached the largest file its disk allows" in sentence
    assert sentence.endswith("s before are kept and playable; record to a disk formatted exFAT, NTFS or ext4.")
    assert proc.returncode == 0, rest[-2000:]      # ran its 6 seconds and quit normally
    assert "Traceback" not in rest
    video = next((tmp_path / "rec").glob("*.mkv"))
    assert video.stat().st_size <= 40_000
    with av.open(str(video)) as box:
        frames = [f.time for f in box.decode(video=0)]
    assert len(frames) > 5
