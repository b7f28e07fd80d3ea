"""Audio analysis cost per block, and the time from a sound at the input to the parameter change.

    python -m bench.audio [--seconds 6] [--block-ms 10] [--samplerate 48000]

1. Analysis cost: `Analyzer.process` on stereo blocks of music-like sound (tone + noise), timed
   block by block (the same call the service makes for every device block).
2. Input to parameter: the real service (`AudioInput`: ring, audio thread, analysis, store.set,
   routes) fed by a simulated device that pushes a block every block period, as the PortAudio
   callback does. Every 0.5 s a noise burst starts at a random sample of a block, after silence.
   For each burst: the time from the burst's first sample (its capture time) to the store
   listener seeing `audio.energy` rise (first change), energy and each band reach half their
   plateau (bands come from a 21 ms FFT window whose newest block is tapered, so they rise over 1-2 blocks), `audio.onset`
   fire, and the routed `noise` move. The device's own input latency (PortAudio "low": a few ms,
   reported when a real input opens) comes on top; this machine has no sound card to measure it.
Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import numpy as np

from engine import make_store
from vj.audio import AnalysisConfig, Analyzer, AudioInput, AudioSource
from vj.tables import AUDIO
from vj.audio.modulation import NOISE_ROUTE


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=6.0, help="length of the latency run")
    ap.add_argument("--block-ms", type=float, default=10.0, help="analysis block, as [audio] block_ms")
    ap.add_argument("--samplerate", type=int, default=48000)
    return ap.parse_args()


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def analysis_cost(sr: int, block: int, blocks: int = 3000) -> dict:
    rng = np.random.default_rng(0)
    t = np.arange(block * blocks) / sr
    mono = 0.3 * np.sin(2 * np.pi * 110 * t) + rng.normal(0, 0.05, len(t))
    stereo = np.stack([mono, mono], axis=1).astype(np.float32)
    a = Analyzer(AnalysisConfig(sr, block))
    costs = []
    for i in range(blocks):
        chunk = stereo[i * block:(i + 1) * block]
        t0 = time.perf_counter()
        a.process(chunk)
        costs.append(time.perf_counter() - t0)
    costs = [c * 1e6 for c in costs[100:]]  # after warm-up
    return {"n_fft": a.n_fft, "min_us": round(min(costs), 1), "mean_us": round(statistics.fmean(costs), 1),
            "p50_us": round(pct(costs, 50), 1),
            "p99_us": round(pct(costs, 99), 1), "cpu_share_of_block": round(statistics.fmean(costs) / (1e6 * block / sr), 4)}


class SimulatedDevice(AudioSource):
    """Pushes the signal block by block at the block rate, like a PortAudio callback thread."""
    kind = "input"

    def __init__(self, signal: np.ndarray, samplerate: int, block_ms: float) -> None:
        super().__init__("simulated", block_ms)
        self.signal, self._sr = signal, samplerate
        self.pushed: list[float] = []  # perf_counter() when block k was pushed (its last sample just in)
        self._stop = threading.Event()

    def _open(self) -> None:
        self._make_ring(self._sr, 2)
        threading.Thread(target=self._run, daemon=True, name="simulated-device").start()

    def _run(self) -> None:
        b, period = self.block, self.block / self._sr
        start = time.perf_counter()
        for k in range(len(self.signal) // b):
            due = start + (k + 1) * period
            while (now := time.perf_counter()) < due:  # sleep most of the way, spin the rest: a steady clock
                if due - now > 0.002:
                    time.sleep(due - now - 0.001)
            if self._stop.is_set():
                return
            self.pushed.append(time.perf_counter())
            self.ring.push(self.signal[k * b:(k + 1) * b], self.pushed[-1] - period)
        self.ended = True

    def _close(self) -> None:
        self._stop.set()


WATCHED = ("audio.energy", "audio.bass", "audio.mid", "audio.high", "audio.onset")


def input_to_parameter(sr: int, block_ms: float, seconds: float) -> dict:
    rng = np.random.default_rng(1)
    block = round(sr * block_ms / 1000)
    n = int(sr * seconds)
    signal = np.zeros((n, 2), np.float32)
    starts = []
    for k in range(1, int(seconds / 0.5)):
        s = int(k * 0.5 * sr) + int(rng.integers(0, block))  # anywhere inside a block
        burst = rng.normal(0, 10 ** (-10 / 20), int(0.08 * sr)).astype(np.float32)
        signal[s:s + len(burst)] += burst[:, None]
        starts.append(s)

    store = make_store()
    store.add(AUDIO, [])
    device = SimulatedDevice(signal, sr, block_ms)
    events: list[tuple[float, str, float]] = []
    store.subscribe(lambda c: events.append((time.perf_counter(), c.name, c.value))
                    if c.name in WATCHED else None)
    noise_moves: list[tuple[float, float]] = []
    audio = AudioInput(store, lambda: device, [NOISE_ROUTE])
    audio.add_listener(lambda blk, t, s: noise_moves.append((time.perf_counter(), store.snapshot()["noise"])))
    audio.start()
    while not device.ended:
        time.sleep(0.05)
    time.sleep(0.1)
    audio.stop()

    def capture_time(s: int) -> float:  # when sample s reached the "input": its block's push minus the rest
        k = s // block
        return device.pushed[k] - ((k + 1) * block - s) / sr

    first, onset, noise = [], [], []
    half: dict[str, list[float]] = {name: [] for name in WATCHED[:4]}
    for s in starts:
        t0 = capture_time(s)
        window = [(t, name, v) for t, name, v in events if t0 <= t < t0 + 0.3]
        energy = [t for t, name, v in window if name == "audio.energy"]
        first += [(energy[0] - t0) * 1000] if energy else []
        for feature, ms in half.items():
            rise = [(t, v) for t, name, v in window if name == feature]
            top = max((v for _, v in rise), default=0.0)
            ms += [(next(t for t, v in rise if v >= top / 2) - t0) * 1000] if rise else []
        hits = [t for t, name, v in window if name == "audio.onset" and v >= 0.99]
        onset += [(hits[0] - t0) * 1000] if hits else []
        moved = [t for t, v in noise_moves if t0 <= t < t0 + 0.3 and v > 1.05]
        noise += [(moved[0] - t0) * 1000] if moved else []

    def summary(ms: list[float]) -> dict:
        return {"n": len(ms), "median_ms": round(pct(ms, 50), 2), "max_ms": round(max(ms), 2) if ms else None}
    processing = []  # push -> store change for the block holding each burst start: the part we control
    for s in starts:
        pushed = device.pushed[s // block]
        after = [t for t, name, _ in events if name == "audio.energy" and t >= pushed]
        processing += [(after[0] - pushed) * 1000] if after else []
    return {"bursts": len(starts), "energy_first_change": summary(first),
            **{f"{name.split('.')[1]}_half_plateau": summary(ms) for name, ms in half.items()},
            "onset_fires": summary(onset), "noise_route_moves": summary(noise),
            "push_to_store_ms": summary(processing), "ring_overruns": device.ring.overruns}


def main() -> None:
    a = parse()
    block = round(a.samplerate * a.block_ms / 1000)
    cost = analysis_cost(a.samplerate, block)
    latency = input_to_parameter(a.samplerate, a.block_ms, a.seconds)
    worst = a.block_ms + latency["push_to_store_ms"]["max_ms"]
    print(json.dumps({
        "samplerate": a.samplerate, "block": block, "block_ms": a.block_ms,
        "analysis": cost,
        "input_to_parameter": latency,
        "worst_case_ms_without_device_latency": round(worst, 2),
        "note": "add the device's input latency (logged when a real input opens; PortAudio 'low') to every figure",
    }))


if __name__ == "__main__":
    main()
