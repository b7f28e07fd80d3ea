"""A long live show, measured: does it stay whole for an hour?

    python -m bench.soak [--minutes 60] [--setup setups/default.toml] [--size 1280x720] [--model SPEC]
                         [--warmup-minutes W] [--out FOLDER]

Runs the show `vj run` runs (vj.app.Live) on a private Xvfb screen (re-running itself under
xvfb-run), with an audio file as the input (a generated beat, looping), recording on, OSC traffic
from a client on this machine (faders 20 times a second, a prompt change and a `next` every 20 s,
motion parameters where the table has them; the feedback it gets back is counted), and prints one
JSON line:

  rss_mb          resident memory at the start (window open, models loaded), after the warm-up and
                  at the end; the least-squares slope after the warm-up, in MB and % per 10 minutes;
                  `flat`: every sample after the warm-up within 5% of the after-warm-up figure
  errors          failures caught per part (the HUD's ERRORS line), and OSC refusals
  display         frame interval percentiles (ms) after the warm-up, frames shown
  generator       frames painted and frames per second
  record          pictures written and dropped, the take's length, and what the file decodes to
                  (`full_length`: the video decodes without error to within a second of the take's
                  length, and the sound as long within half a second: sound is written up to the
                  moment, pictures the encoder had no time for are dropped at the end)
  osc             messages sent, applied, feedback messages received

Memory is read from /proc/self/statm (Linux). Figures depend on the machine: compare runs on one.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

from bench import on_private_screen

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
TINY_MODEL = ROOT / "tests" / "data" / "tiny-clip.json"
BUILTIN_WEIGHTS = ROOT / "engine" / "builtin" / "weights"
PROMPTS = ["a big red circle on a blue background", "yellow stripes on a purple background",
           "a green ring on a black background", "a small white cross on an orange background"]
CHUNK_S = 5.0          # the loop runs this long between memory samples


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the show, warm-up included")
    ap.add_argument("--warmup-minutes", type=float, default=None,
                    help="memory and display figures start after this (default: a fifth of the show, at most 5)")
    ap.add_argument("--size", default="1280x720", help="window (and Xvfb screen) size")
    ap.add_argument("--setup", default=str(ROOT / "setups" / "default.toml"))
    ap.add_argument("--model", default=None, help="model spec (default: the setup's if present, else the tiny model)")
    ap.add_argument("--out", default=None, help="recording folder (default: a temporary one, removed after)")
    return ap.parse_args()


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))] if s else 0.0


def slope_per_10min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per 10 minutes."""
    if len(samples) < 2:
        return 0.0
    ts = [t for t, _ in samples]
    ms = [m for _, m in samples]
    t0, m0 = sum(ts) / len(ts), sum(ms) / len(ms)
    den = sum((t - t0) ** 2 for t in ts)
    return 600 * sum((t - t0) * (m - m0) for t, m in samples) / den if den else 0.0


def beat_file(path: Path, seconds: float = 32.0, sr: int = 48_000) -> Path:
    """A stereo WAV loop: a 120 BPM kick, a hat on the off-beats, a chord changing every 4 s."""
    import wave

    import numpy as np
    t = np.arange(round(seconds * sr)) / sr
    beat = np.mod(t, 0.5)
    kick = np.sin(2 * np.pi * 55 * beat) * np.exp(-beat * 18)
    off = np.mod(t - 0.25, 0.5)
    hat = np.random.default_rng(0).standard_normal(len(t)) * np.exp(-off * 60) * 0.15
    root = 220 * 2 ** (np.floor(t / 4) % 4 / 12 * 3)
    chord = sum(np.sin(2 * np.pi * root * r * t) for r in (1, 1.26, 1.5)) * 0.08
    mono = np.clip(0.6 * kick + hat + chord, -1, 1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.repeat(mono[:, None], 2, 1) * 32767).astype("<i2").tobytes())
    return path


class OscTraffic:
    """A client on this machine: faders at 20 Hz, a prompt and a `next` every 20 s, motion if present."""

    def __init__(self, port: int, store, feedback_port: int) -> None:
        from pythonosc.udp_client import SimpleUDPClient
        self.client = SimpleUDPClient("127.0.0.1", port)
        self.motion = [n for n, s in store.specs.items() if n.startswith("motion.") and s.numeric and not s.readonly]
        self.sent = self.feedback = 0
        self._stop = threading.Event()
        self._listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._listen.bind(("127.0.0.1", feedback_port))
        self._listen.settimeout(0.2)
        self._threads = [threading.Thread(target=f, daemon=True) for f in (self._send, self._receive)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(2.0)
        self._listen.close()

    def _send(self) -> None:
        k = 0
        while not self._stop.wait(0.05):
            phase = k * 0.05
            self._message("/vj/temperature/unit", 0.3 + 0.2 * math.sin(phase / 7))
            self._message("/vj/crossfade/unit", 0.5 + 0.5 * math.sin(phase / 3))
            for name in self.motion:
                self._message(f"/vj/{name.replace('.', '/')}/unit", 0.5 + 0.05 * math.sin(phase / 5))
            if k % 400 == 0:                               # every 20 s
                self._message(f"/vj/prompt/{1 + (k // 400) % 4}", PROMPTS[(k // 400 + 1) % 4])
                self._message("/vj/next", 1.0)
            k += 1

    def _message(self, address: str, value) -> None:
        self.client.send_message(address, value)
        self.sent += 1

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen.recv(65535)
                self.feedback += 1
            except (socket.timeout, OSError):
                continue


def decoded(path: Path) -> dict:
    """What the recording decodes to: last picture's time and sound length, or the decoder's error."""
    import av
    try:
        with av.open(str(path)) as box:
            last = 0.0
            for frame in box.decode(video=0):
                last = float(frame.time or 0.0)
            rate = float(box.streams.video[0].average_rate or 0)
        sound = 0
        with av.open(str(path)) as box:
            if box.streams.audio:
                for frame in box.decode(audio=0):
                    sound += frame.samples
                    sr = frame.sample_rate
        return {"video_s": round(last + (1 / rate if rate else 0), 2),
                "sound_s": round(sound / sr, 2) if sound else 0.0, "error": None}
    except Exception as e:  # a file that does not decode is the finding, not a crash of the bench
        return {"video_s": 0.0, "sound_s": 0.0, "error": f"{type(e).__name__}: {e}"}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    a = parse()
    on_private_screen("bench.soak", a.size)

    import logging
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from vj.app import Live
    from vj.setup import load_setup

    total_s = a.minutes * 60
    warmup_s = 60 * (a.warmup_minutes if a.warmup_minutes is not None else min(5.0, a.minutes / 5))
    work = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="vj-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    setup = load_setup(a.setup)
    width, height = (int(v) for v in a.size.split("x"))
    setup.display.width, setup.display.height, setup.display.fullscreen, setup.display.hud = width, height, False, True
    if a.model:
        setup.model.name = a.model
    elif setup.model.name.startswith("builtin") and not any(BUILTIN_WEIGHTS.glob("*.safetensors")):
        setup.model.name = str(TINY_MODEL)
    setup.model.fallback = False
    feedback_port = free_udp_port()
    setup.osc.enabled, setup.osc.listen, setup.osc.port = True, "127.0.0.1", free_udp_port()
    setup.osc.feedback, setup.osc.feedback_port = True, feedback_port
    setup.midi.device = ""
    setup.audio.device, setup.audio.file, setup.audio.loop = "", str(beat_file(work / "beat.wav")), True
    setup.record.folder = str(work / "recordings")
    setup.params["record"] = True

    live = Live(setup)
    show, app = live.show, live.app
    osc = app.parts["osc"]
    recorder = app.parts["record"]
    rss: list[tuple[float, float]] = [(0.0, rss_mb())]
    intervals: list[float] = []
    live.start()
    traffic = OscTraffic(osc.port, show.store, feedback_port)
    traffic.start()
    t0 = time.perf_counter()
    seq0 = show.bus.seq
    after_warmup: float | None = None
    try:
        while (elapsed := time.perf_counter() - t0) < total_s:
            frames = app.frames
            app.run(min(CHUNK_S, total_s - elapsed))
            swaps = list(app.swap_times)[-(app.frames - frames + 1):]
            now = time.perf_counter() - t0
            if now >= warmup_s:
                intervals += [1000 * (b - c) for c, b in zip(swaps, swaps[1:])]
                after_warmup = after_warmup if after_warmup is not None else rss_mb()
            rss.append((now, rss_mb()))
    finally:
        seconds = time.perf_counter() - t0
        generator_frames = show.bus.seq - seq0
        traffic.stop()
        take = recorder.take
        counts = app.error_counts()
        live.stop()
    settled = [(t, m) for t, m in rss if t >= warmup_s]
    base = after_warmup or rss[-1][1]
    slope = slope_per_10min(settled)
    video = take.video if take else None
    file = decoded(take.paths.video) if take else {"video_s": 0.0, "sound_s": 0.0, "error": "no take"}
    take_s = video.seconds if video else 0.0
    result = {
        "minutes": round(seconds / 60, 2), "warmup_minutes": round(warmup_s / 60, 2),
        "rss_mb": {"start": round(rss[0][1], 1), "after_warmup": round(base, 1), "end": round(rss[-1][1], 1),
                   "slope_mb_per_10min": round(slope, 2), "slope_pct_per_10min": round(100 * slope / base, 2),
                   "max_dev_pct": round(max((abs(m - base) / base * 100 for _, m in settled), default=0.0), 2),
                   "flat": all(abs(m - base) <= 0.05 * base for _, m in settled)},
        "errors": {**counts, "osc_refused": osc.refused},
        "display": {"p50_ms": round(percentile(intervals, 50), 2), "p95_ms": round(percentile(intervals, 95), 2),
                    "p99_ms": round(percentile(intervals, 99), 2), "frames": app.frames},
        "generator": {"model": setup.model.name, "frames": generator_frames,
                      "frames_per_s": round(generator_frames / seconds, 3)},
        "record": {"pictures": video.written if video else 0, "dropped": video.dropped if video else 0,
                   "take_s": round(take_s, 2), "decoded": file,
                   "full_length": file["error"] is None and abs(file["video_s"] - take_s) <= 1.0
                   and (file["sound_s"] == 0.0 or abs(file["sound_s"] - file["video_s"]) <= 0.5),
                   "error": show.store.get("record.error") or None},
        "osc": {"sent": traffic.sent, "accepted": osc.accepted, "feedback_received": traffic.feedback},
    }
    if not a.out:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
