"""Sound blocks laid on the recording's sample grid by their time stamps, through clock drift.

A sound card counts samples on its own crystal, the show on `perf_counter()`; the two drift apart
(a card 100 ppm fast makes 0.36 s more sound an hour than its nominal rate says). Writing blocks
back to back lets the sound slide off the picture; re-placing a block whenever the stamps disagree
by more than a slack makes a gap or a cut each time (at 100 ppm and 10 ms, one every 100 s).

Instead a delay-locked loop filters the stamps into a smooth time line of block boundaries
(F. Adriaensen, "Using a DLL to filter time", Linux Audio Conference 2005; JACK's cycle times and
zita-ajbridge's card-to-card resampling use the same kind of loop), and each block is resampled by
linear interpolation onto the stretch of the recording's grid that time line gives it. The track
stays continuous and follows the stamps to within a millisecond or two (tests/test_record_drift.py),
whether the callback comes on time, late, or in bursts; the pitch moves by the drift itself (100 ppm
is 0.17 cent). A stamp that jumps by more than `JUMP_S` (lost blocks, a reopened device) restarts
the loop there: silence fills a gap, and sound already written is not written twice.
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np

JUMP_S = 0.05          # a stamp this far from the loop's prediction is a jump, not jitter (bursty hosts
                       # deliver a few 10 ms blocks at once: their stamps are off by up to ~30 ms)
BANDWIDTH_HZ = 0.05    # the loop's bandwidth: jitter averaged over ~20 s, drift followed within seconds


class SoundPlacer:
    """Turns time-stamped blocks into the pieces of one continuous track at `rate` samples per second.

    `place(block, t)` takes (frames, channels) float32 samples whose first sample sounded at `t`
    seconds on the recording's clock and yields the pieces to write next, in order: silence
    (where the stamps say sound is missing, `channels` wide) and the block resampled to its place
    (as wide as the block). `next` is the track's length in samples so far; `silence(n)` extends
    it with n zero samples.
    """

    def __init__(self, rate: int, channels: int, jump_s: float = JUMP_S, bandwidth_hz: float = BANDWIDTH_HZ) -> None:
        self.rate, self.channels = rate, channels
        self.jump_s, self.bandwidth_hz = jump_s, bandwidth_hz
        self.next = 0                    # samples in the track so far
        self.jumps = 0                   # restarts of the loop (lost sound or overlapping stamps)
        self._t1: float | None = None    # filtered time of the next block's first sample, seconds
        self._p = 1.0 / rate             # filtered seconds per input sample (the card's true period)
        self._last = np.zeros(channels, np.float32)  # previous block's last sample, to interpolate across

    @property
    def ratio(self) -> float:
        """Output samples per input sample now (1.0002: the card runs 200 ppm slow on our clock)."""
        return self._p * self.rate

    def silence(self, samples: int) -> Iterator[np.ndarray]:
        """`samples` zero samples, in pieces of at most a second (a long gap allocates no long buffer)."""
        while samples > 0:
            n = min(samples, self.rate)
            self.next += n
            samples -= n
            yield np.zeros((n, self.channels), np.float32)

    def place(self, block: np.ndarray, t: float) -> Iterator[np.ndarray]:
        n = len(block)
        if n == 0:
            return
        t0, t1 = self._advance(n, t)
        first = max(self.next, math.ceil(t0 * self.rate))   # before `next`: written already
        yield from self.silence(first - self.next)
        end = math.ceil(t1 * self.rate)
        block = block.reshape(n, -1)
        if self._last.shape[0] != block.shape[1]:      # the input's channel count changed: start afresh
            self._last = np.zeros(block.shape[1], np.float32)
        padded = np.concatenate([self._last[None], block])
        self._last = padded[-1].copy()
        if end <= first:
            return
        # Input sample i sounds at t0 + i * (t1 - t0) / n; output sample j at j / rate. Each output
        # sample interpolates the two input samples around it (one sample late: the previous block's
        # last sample starts this one, so no sample of the next block is needed yet).
        u = (np.arange(first, end) / self.rate - t0) * (n / (t1 - t0))
        i = np.clip(u.astype(np.int64), 0, n - 1)
        frac = (u - i).astype(np.float32)[:, None]
        self.next = end
        yield padded[i] + frac * (padded[i + 1] - padded[i])

    def _advance(self, n: int, t: float) -> tuple[float, float]:
        """The DLL: (start, end) of this block on the filtered time line, given its stamp `t`."""
        if self._t1 is None or abs(t - self._t1) > self.jump_s:
            if self._t1 is not None:
                self.jumps += 1
            self._t1 = t                 # (re)start at the stamp, keeping the period learned so far
        omega = 2 * math.pi * self.bandwidth_hz * n * self._p
        b, c = math.sqrt(2) * omega, omega * omega
        e = t - self._t1
        t0 = self._t1
        self._t1 = t0 + n * self._p + b * e
        self._p += c * e / n
        return t0, self._t1


def resample(block: np.ndarray, rate: int, to_rate: int) -> np.ndarray:
    """(frames, channels) float32 samples at `rate` Hz -> the same sound at `to_rate` Hz, by linear
    interpolation within the block (a take keeps the rate it started with when the input reopens at
    another one; the placer then lays the block by its stamp, so rounding its length costs nothing)."""
    n = len(block)
    if rate == to_rate or n == 0:
        return block
    m = max(1, round(n * to_rate / rate))
    x = np.arange(m) * (rate / to_rate)
    i = np.minimum(x.astype(np.int64), n - 1)
    j = np.minimum(i + 1, n - 1)
    frac = (x - i).astype(np.float32)[:, None]
    block = block.reshape(n, -1)
    return block[i] + frac * (block[j] - block[i])
