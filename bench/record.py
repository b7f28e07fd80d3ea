"""What recording costs the live show: encode time per frame and dropped frames.

    python -m bench.record [--seconds 8] [--size 1280x720] [--fps 60] [--preset veryfast] [--no-generator]

Runs the live window on a private Xvfb screen (re-running itself under xvfb-run) with a 1280x720
output picture at 60 Hz and the generator painting (the tiny test model: the CPU is shared the
way a show shares it), recording with the setup's default [record] settings unless told otherwise,
and the encoder the recorder picks (a hardware one where this machine has one). Measures the same span twice, without and then with recording: display
rate, process CPU per display frame, then the recorder's main-thread cost per frame (read-back),
the encoder thread's time per picture, pictures written and dropped. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

from bench import on_private_screen

ROOT = Path(__file__).resolve().parents[1]
TINY_MODEL = ROOT / "tests" / "data" / "tiny-clip.json"


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="each measured span (after a 3 s warm-up)")
    ap.add_argument("--size", default="1280x720", help="output picture (and window) size")
    ap.add_argument("--preset", default=None, help="x264 preset ([record] preset; default: the setup's default)")
    ap.add_argument("--fps", type=float, default=None, help="recording rate ([record] fps; default: the setup's default)")
    ap.add_argument("--software", action="store_true", help="x264 even where a hardware encoder exists")
    ap.add_argument("--no-generator", action="store_true",
                    help="no painting: random pictures ten a second instead (the display and recorder alone)")
    return ap.parse_args()


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))] if s else 0.0


def main() -> None:
    a = parse()
    on_private_screen("bench.record", a.size)

    import logging
    logging.basicConfig(level=logging.WARNING)
    import open_clip  # noqa: F401  (before the GL context: triton's LLVM and Mesa's collide otherwise)
    from vj.app import build
    from vj.display import DisplayApp, LiveClock
    from vj.setup import parse_setup

    width, height = (int(x) for x in a.size.split("x"))
    folder = tempfile.mkdtemp(prefix="bench-record-")
    setup = parse_setup({
        "name": "bench", "model": {"name": str(TINY_MODEL), "fallback": False},
        "generator": {"width": 128, "height": 72, "scale": 2},
        "display": {"width": width, "height": height, "output_width": width, "output_height": height},
        "params": {"iterations": 4, "first_iterations": 4, "views": 2, "hud": False},
        "prompts": [{"text": "a red circle"}, {"text": "a blue square"}],
        "web": {"enabled": False},
        "record": {"folder": folder, "hardware": not a.software,
                   **({"preset": a.preset} if a.preset else {}), **({"fps": a.fps} if a.fps is not None else {})},
    }, "<bench>")
    from vj.record.encoder import choose_h264
    choice = choose_h264(setup.record.hardware)
    show, services = build(setup)
    from vj.record import Recorder
    recorder = next(s for s in services if isinstance(s, Recorder))   # other services read the output too
    app = DisplayApp(show, clock=LiveClock(60, pace=True))
    sink_s: list[float] = []

    def timed_sink(fbo, t):
        started = time.perf_counter()
        recorder.on_output(fbo, t)
        sink_s.append(time.perf_counter() - started)
    app.sinks.append(timed_sink)
    show.store.set("mode", "schedule")
    stop_pictures = threading.Event()
    if a.no_generator:  # pictures still change: a smooth random frame every 0.1 s, cross-faded
        threading.Thread(target=publish_pictures, args=(show.bus, stop_pictures), daemon=True).start()
    else:
        show.generator.start()

    def span() -> dict:
        frames0, cpu0, t0 = app.frames, cpu_s(), time.perf_counter()
        app.run(a.seconds)
        frames, elapsed = app.frames - frames0, time.perf_counter() - t0
        return {"display_fps": round(frames / elapsed, 1),
                "cpu_ms_per_display_frame": round(1000 * (cpu_s() - cpu0) / max(1, frames), 2)}

    try:
        app.run(3.0)                                   # warm-up: model, shaders, caches
        baseline = span()
        show.store.set("record", True, "bench")
        sink_s.clear()
        recording = span()
        show.store.set("record", False, "bench")
        recorder.stop()
    finally:
        stop_pictures.set()
        show.generator.stop()
        app.close()
    take = recorder.take
    video = take.video
    alone = {preset: encode_alone(take.paths.video, preset) for preset in ("ultrafast", "superfast", "veryfast")}
    print(json.dumps({
        "size": a.size, "display_hz": 60, "record_fps": take.rate, "preset": setup.record.preset,
        "crf": setup.record.crf, "encoder": choice.name, "encoder_why": choice.why, "generator": not a.no_generator,
        "seconds": a.seconds, "cpus": os.cpu_count(),
        "without_recording": baseline,
        "recording": recording,
        "readback_ms_per_frame": {"mean": round(1000 * sum(sink_s) / max(1, len(sink_s)), 3),
                                  "p99": round(1000 * percentile(sink_s, 99), 3)},
        "encode_ms_per_frame": round(1000 * video.encode_s / max(1, video.written), 2),
        "pictures_written": video.written, "pictures_dropped": video.dropped,
        "dropped_percent": round(100 * video.dropped / max(1, video.written + video.dropped), 1),
        "file_mb": round(take.paths.video.stat().st_size / 1e6, 2), "file": str(take.paths.video),
        "encode_alone": alone,
    }))


def publish_pictures(bus, stop: threading.Event) -> None:
    """Stand-in for the generator: smooth random 128x72 pictures, ten a second."""
    import numpy as np
    from engine.bus import Frame
    rng = np.random.default_rng(0)
    n = 0
    while not stop.wait(0.1):
        coarse = rng.random((9, 16, 3)) * 255
        pixels = coarse.repeat(8, 0).repeat(8, 1).astype(np.uint8)
        bus.publish(Frame(n, 1, True, time.perf_counter(), pixels))
        n += 1


def encode_alone(recorded: Path, preset: str, n: int = 90) -> dict:
    """The recorded pictures encoded again with nothing else running: the encoder's own cost per frame."""
    import av
    from vj.record.encoder import VideoFile, VideoFormat
    with av.open(str(recorded)) as box:
        pictures = [f.to_ndarray(format="rgb24") for _, f in zip(range(n), box.decode(video=0))]
    h, w = pictures[0].shape[:2]
    out = Path(tempfile.mkdtemp(prefix="bench-encode-")) / f"{preset}.mkv"
    cpu0, t0 = cpu_s(), time.perf_counter()
    f = VideoFile(out, VideoFormat(w, h, 60, preset=preset))
    for i, p in enumerate(pictures):
        f.write_picture(p, i)
    f.close()
    return {"wall_ms_per_frame": round(1000 * (time.perf_counter() - t0) / len(pictures), 2),
            "cpu_ms_per_frame": round(1000 * (cpu_s() - cpu0) / len(pictures), 2),
            "kb_per_frame": round(out.stat().st_size / 1024 / len(pictures), 1)}


if __name__ == "__main__":
    main()
