"""OSC flood: how many messages a second the server applies, and what a flood costs the generator.

    python -m bench.osc [--model tests/data/tiny-clip.json] [--rates 0,1000] [--pairs 8] [--seconds 1.5]

The generator runs on its thread as in the show. For each rate, a sender process (0: as fast as
it can; N: N messages/s, paced) is switched on and off: `--pairs` pairs of phases, off then on,
`--seconds` each. Short paired phases compare like with like on a machine whose load drifts
(other jobs share its cores); the figure is the median over pairs of on/off iterations per second.
The flood is valid messages to a mix of addresses (fader positions, values, actions, a prompt),
so every one reaches the store and the feedback. Also reported: the CPU the server and feedback
threads spent per accepted message. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import time
from dataclasses import replace

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from pythonosc.osc_message_builder import OscMessageBuilder  # noqa: E402

from vj.osc import OscServer  # noqa: E402
from vj.setup import OscSetup, parse_setup  # noqa: E402
from vj.show import build_show  # noqa: E402


def flood_packets() -> list[bytes]:
    """Valid messages as a busy TouchOSC page sends them: faders, values, buttons, a prompt."""
    out = []
    for i in range(100):
        x = i / 99
        for address, value in (("/vj/crossfade/unit", x), ("/vj/temperature/unit", x), ("/vj/noise", 4 * x),
                               ("/vj/zoom/unit", x), ("/vj/brightness", 2 * x), ("/vj/flash/hit", None),
                               ("/vj/hue", 2 * x - 1), ("/vj/prompt/select", 1 + i % 4)):
            m = OscMessageBuilder(address)
            if value is not None:
                m.add_arg(float(value))
            out.append(m.build().dgram)
    m = OscMessageBuilder("/vj/prompt/4")
    m.add_arg("a small white cross on an orange background")
    out.append(m.build().dgram)
    return out


def sender(port: int, rate: float, on, done, sent) -> None:
    """Its own process (the flood must not share the generator's interpreter); sends while `on`."""
    import socket
    packets = flood_packets()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = 0
    while not done.is_set():
        if not on.wait(0.05):
            continue
        t0, n0 = time.perf_counter(), n
        while on.is_set():
            if rate and n - n0 >= (time.perf_counter() - t0) * rate:
                time.sleep(0.0005)
                continue
            sock.sendto(packets[n % len(packets)], ("127.0.0.1", port))
            n += 1
            if n % 64 == 0:
                sent.value = n
        sent.value = n


def osc_cpu_s(server: OscServer) -> float:
    """CPU seconds spent so far by the OSC server's and the feedback's threads (Linux)."""
    threads = [t for t in (server._thread, server.feedback._thread) if t is not None and t.is_alive()]
    return sum(time.clock_gettime(time.pthread_getcpuclockid(t.ident)) for t in threads)


def measure(server: OscServer, generator, seconds: float, sent) -> dict:
    before = (time.perf_counter(), generator.iterations, server.accepted, server.refused,
              server.feedback.sent, osc_cpu_s(server), sent.value)
    time.sleep(seconds)
    after = (time.perf_counter(), generator.iterations, server.accepted, server.refused,
             server.feedback.sent, osc_cpu_s(server), sent.value)
    dt, its, acc, ref, fb, cpu, snt = (b - a for a, b in zip(before, after))
    return {"iters_per_s": its / dt, "sent_per_s": snt / dt, "accepted_per_s": acc / dt, "refused": ref,
            "feedback_sent_per_s": fb / dt, "osc_cpu_share": cpu / dt, "osc_cpu_us": cpu / max(1, acc) * 1e6}


def flood(server: OscServer, generator, rate: float, pairs: int, seconds: float) -> dict:
    ctx = mp.get_context("spawn")                              # a fresh interpreter: no torch threads forked
    on, done, sent = ctx.Event(), ctx.Event(), ctx.Value("q", 0)
    proc = ctx.Process(target=sender, args=(server.port, rate, on, done, sent))
    proc.start()
    time.sleep(1.0)                                            # its interpreter starting
    offs, ons = [], []
    for _ in range(pairs):
        offs.append(measure(server, generator, seconds, sent))
        on.set()
        time.sleep(0.1)                                        # the flood under way
        ons.append(measure(server, generator, seconds, sent))
        on.clear()
        time.sleep(0.3)                                        # the socket drained
    done.set()
    proc.join()

    def med(key: str, runs: list[dict]) -> float:
        return statistics.median(r[key] for r in runs)
    change = statistics.median(b["iters_per_s"] / a["iters_per_s"] - 1 for a, b in zip(offs, ons))
    return {"rate_asked": rate or "max", "sent_per_s": round(med("sent_per_s", ons)),
            "accepted_per_s": round(med("accepted_per_s", ons)), "refused": sum(r["refused"] for r in ons),
            "feedback_sent_per_s": round(med("feedback_sent_per_s", ons)),
            "osc_threads_cpu_share": round(med("osc_cpu_share", ons), 3),
            "osc_cpu_us_per_message": round(med("osc_cpu_us", ons), 1),
            "iters_per_s_off": round(med("iters_per_s", offs), 1), "iters_per_s_on": round(med("iters_per_s", ons), 1),
            "iters_change_median_of_pairs": f"{change * 100:+.1f}%"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="tests/data/tiny-clip.json",
                   help="model spec (default: the tiny random test model, about 2 ms an iteration)")
    p.add_argument("--size", default="160x90", help="frame size WxH")
    p.add_argument("--rates", default="0,1000", help="flood rates in messages/s, 0: as fast as possible")
    p.add_argument("--pairs", type=int, default=8, help="off/on phase pairs per rate")
    p.add_argument("--seconds", type=float, default=1.5, help="length of each phase")
    p.add_argument("--threads", type=int, default=1, help="torch threads of the generator")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    w, h = (int(v) for v in a.size.split("x"))
    setup = parse_setup({"model": {"name": a.model, "fallback": False}, "generator": {"width": w, "height": h},
                         "params": {"iterations": 10, "views": 4},
                         "prompts": [{"text": "a red circle"}, {"text": "a blue square"},
                                     {"text": "a green ring"}, {"text": "yellow stripes"}]}, "<bench>")
    show = build_show(setup)
    server = OscServer(show.store, replace(OscSetup(), listen="127.0.0.1", port=0))
    server.start()
    show.generator.start()
    time.sleep(2.0)                                            # warm-up
    floods = [flood(server, show.generator, float(r), a.pairs, a.seconds) for r in a.rates.split(",")]
    show.generator.stop()
    server.stop()
    print(json.dumps({"model": a.model, "size": a.size, "torch_threads": torch.get_num_threads(),
                      "cpu_cores": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 1),
                      "floods": floods}))


if __name__ == "__main__":
    main()
