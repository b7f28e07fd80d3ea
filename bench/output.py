"""What sending the output over NDI adds per display frame, at 1280x720 and 60 Hz.

    python -m bench.output [--frames 300] [--size 1280x720] [--no-receiver]

Offscreen (EGL, no display needed): a 1280x720 output framebuffer redrawn every frame, read back
asynchronously (the output service's pixel buffer objects, as the recorder's), converted to a
top-first contiguous RGBA picture and handed to an NDI sender (cyndilib, `write_video_async`).
A receiver in this process (as a mixer at front of house) makes NDI compress for real; its
decoding shares the process's CPU figure. Prints one JSON line: main-thread ms per display frame
of read-back, conversion and send (mean and 95th percentile), the 60 Hz frame budget they take,
process CPU per frame with the sender running, pictures received.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def stats(ms: list[float]) -> dict:
    s = sorted(ms)
    return {"mean": round(sum(s) / len(s), 3), "p95": round(s[int(0.95 * (len(s) - 1))], 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=300, help="display frames measured (after 30 warm-up)")
    ap.add_argument("--size", default="1280x720", help="output picture size")
    ap.add_argument("--no-receiver", action="store_true", help="no receiver (NDI may then skip compressing)")
    a = ap.parse_args()
    w, h = map(int, a.size.lower().split("x"))
    if "NDI_CONFIG_DIR" not in os.environ:   # find the receiver over loopback, multicast or not
        folder = Path(tempfile.mkdtemp(prefix="vj-ndi-"))
        (folder / "ndi-config.v1.json").write_text('{"ndi": {"networks": {"ips": "127.0.0.1", "discovery": ""}}}')
        os.environ["NDI_CONFIG_DIR"] = str(folder)

    import moderngl
    import numpy as np

    from vj.output.sinks import NdiSink
    from vj.record.readback import FramebufferReader

    ctx = moderngl.create_standalone_context(require=330, backend="egl")
    fbo = ctx.framebuffer(color_attachments=[ctx.texture((w, h), 4)])
    reader = FramebufferReader(ctx)
    name = f"vj-bench-{os.getpid()}"
    sink = NdiSink(name, (w, h), 60)
    source = None
    if not a.no_receiver:
        from vj.input.ndi import NdiSource
        source = NdiSource(name)
    parts = {"readback": [], "convert": [], "send": [], "total": []}
    received, last = 0, None
    period = 1 / 60
    next_t = time.perf_counter()
    cpu0 = t0 = None
    for k in range(a.frames + 30):
        if k == 30:
            cpu0, t0 = cpu_s(), time.perf_counter()
            parts = {key: [] for key in parts}
            received = 0
        fbo.use()
        ctx.clear((k % 60) / 60, 0.3, 1 - (k % 60) / 60, 1.0)   # a new picture every frame
        s0 = time.perf_counter()
        reader.push(fbo, k)
        ready = reader.ready()
        s1 = time.perf_counter()
        pictures = [np.ascontiguousarray(rgba) for rgba, _ in ready]
        s2 = time.perf_counter()
        for rgba in pictures:
            sink.send(rgba)
        s3 = time.perf_counter()
        for key, v in zip(parts, (s1 - s0, s2 - s1, s3 - s2, s3 - s0)):
            parts[key].append(v * 1000)
        if source is not None:
            got = source.latest()
            if got is not None and got[0] != last:
                received, last = received + 1, got[0]
        next_t += period
        time.sleep(max(0.0, next_t - time.perf_counter()))   # the display's 60 Hz
    cpu = (cpu_s() - cpu0) / a.frames * 1000
    span = time.perf_counter() - t0
    sink.close()
    if source is not None:
        source.close()
    print(json.dumps({
        "size": f"{w}x{h}", "rate_hz": 60, "frames": a.frames, "receiver": source is not None,
        **{f"{key}_ms": stats(v) for key, v in parts.items()},
        "budget_share": round(stats(parts["total"])["mean"] / (1000 / 60), 4),
        "process_cpu_ms_per_frame": round(cpu, 2), "achieved_hz": round(a.frames / span, 1),
        "pictures_received": received,
    }))


if __name__ == "__main__":
    main()
