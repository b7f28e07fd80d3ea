"""Audio analysis, pure numpy: one block of samples in, a handful of 0..1 features out.

The same `Analyzer.process()` runs on microphone blocks, file blocks and the tests' synthetic
signals. Per block (10 ms by default) it computes:

- `rms` and `db`: the block's RMS level and its dBFS (20 log10 RMS; a full-scale sine reads -3).
- `energy`, `bass`, `mid`, `high`: levels after automatic gain, gate and envelope, in 0..1. Bands
  are measured on an FFT of the last ~21 ms: bass 20-250 Hz (kick, bass line), mid 250-4000 Hz
  (voice, snare body, most instruments), high 4000-16000 Hz (hats, cymbals, air).
- `onset` (a hit): spectral flux (how much the log spectrum grew since the last block) in each
  band, against an adaptive threshold: the band's median flux over the current sound plus a number
  of median deviations set by the sensitivity. Per band, so a kick's few low bins are not drowned
  by a hat's many high ones; median-based, so a loud snare does not hide the next quiet hat; over
  the current sound only, so the silence before a sound does not make its own texture look like
  hits. `onset` jumps to 1 at a hit and decays with the release; `onsets` counts hits.

Automatic gain: each level has a reference that follows its loud moments (rises in about
`agc_rise_s`, falls in about `agc_fall_s`); a level at its reference reads `target`. So a quiet room
at -40 dBFS and a club at -6 dBFS both move the picture, while the music's own dynamics (a break,
a drop) still show. Levels below `gate_db` read 0 and leave the references alone, so silence stays
dark instead of being amplified into noise.

The FFT window is asymmetric: a rising half-Hann, then a falling half-Hann one block long, so its
peak sits at the start of the newest block rather than half a window back (a hit shows in the block
it arrives in or the next, whatever the block size) while the leakage stays low (a 60 Hz sine leaks
about -53 dB into the mids).

Every spectrum-sized array is allocated once in `__init__` and `process()` writes into them with
`out=`; numpy's FFT still allocates its own work buffer (about 17 kB at 1024 points) and the onset
statistics a few small temporaries per call. That is fine on the service's audio thread, and one
reason analysis is not run inside the PortAudio callback.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# (name, low edge Hz, high edge Hz): documented in the module docstring and `vj/audio/controls.py`.
BANDS: tuple[tuple[str, float, float], ...] = (("bass", 20.0, 250.0), ("mid", 250.0, 4000.0),
                                               ("high", 4000.0, 16000.0))
SILENCE_DB = -120.0


@dataclass(frozen=True)
class AnalysisConfig:
    samplerate: int
    block: int                     # samples per block (the analysis and publish rate)
    window_s: float = 0.021        # FFT window; rounded to a power of two (1024 at 44.1 and 48 kHz)
    gate_db: float = -60.0         # levels below this read 0 (a soft knee `gate_knee_db` wide)
    gate_knee_db: float = 6.0
    agc_init_db: float = -20.0     # starting reference; the fixed one when auto-gain is off
    agc_floor_db: float = -50.0    # the most gain: a level at -50 dBFS can still read `target`
    agc_rise_s: float = 0.5        # reference catches a louder level in about this time
    agc_fall_s: float = 6.0        # ... and a quieter one in about this time
    band_floor_db: float = 30.0    # a band is never boosted more than this above the overall level
    target: float = 0.7            # what a level at its reference reads
    onset_history_s: float = 0.5   # adaptive threshold: flux statistics over this past (at most)
    onset_delta: float = 0.01      # absolute flux floor for a hit (log-magnitude units)
    onset_premax_s: float = 0.05   # a hit's flux must also top every flux in this past
    onset_refractory_s: float = 0.06  # at most one hit in this time
    onset_compression: float = 100.0  # log(1 + C * magnitude / reference): level-independent flux

    @property
    def n_fft(self) -> int:
        return max(256, 1 << round(math.log2(self.samplerate * self.window_s)), 1 << math.ceil(math.log2(self.block)))

    @property
    def block_s(self) -> float:
        return self.block / self.samplerate


def coefficient(dt: float, tau: float) -> float:
    """One-pole smoothing step: the fraction of the gap closed in `dt` with time constant `tau`."""
    return 1.0 if tau <= 0 else 1.0 - math.exp(-dt / tau)


class Envelope:
    """Attack/release follower: rises toward louder input with `attack`, falls with `release` (seconds).

    After a step the output has closed 63% of the gap after one time constant (exactly, at block
    boundaries), 95% after three.
    """

    def __init__(self, attack: float, release: float) -> None:
        self.attack, self.release = attack, release
        self.value = 0.0

    def step(self, x: float, dt: float) -> float:
        tau = self.attack if x > self.value else self.release
        self.value += (x - self.value) * coefficient(dt, tau)
        return self.value


class Leveler:
    """Automatic gain for one level: a reference in dB that follows the loud moments."""

    def __init__(self, cfg: AnalysisConfig) -> None:
        self.cfg = cfg
        self.ref_db = cfg.agc_init_db

    def read(self, db: float, dt: float, auto: bool, floor_db: float) -> float:
        """The level `db` as 0..1: `target` at the reference, gated near silence."""
        c = self.cfg
        gate = min(1.0, max(0.0, (db - c.gate_db) / c.gate_knee_db))
        if not auto:
            ref = c.agc_init_db
        else:
            if gate > 0:  # silence leaves the reference alone: the next song starts where the last one was
                tau = c.agc_rise_s if db > self.ref_db else c.agc_fall_s
                self.ref_db += (db - self.ref_db) * coefficient(dt, tau)
            self.ref_db = max(self.ref_db, floor_db)
            ref = self.ref_db
        return min(1.0, c.target * 10.0 ** ((db - ref) / 20.0)) * gate


@dataclass
class Features:
    """One block's analysis. The analyzer reuses one instance: copy what you keep."""
    t: float = 0.0          # time of the block's first sample (the source's clock)
    rms: float = 0.0
    db: float = SILENCE_DB
    energy: float = 0.0
    bass: float = 0.0
    mid: float = 0.0
    high: float = 0.0
    onset: float = 0.0      # 1 at a hit, decaying with the release
    onsets: int = 0         # hits since the analyzer started
    hit: bool = False       # a hit in this very block
    flux: float = 0.0


def db_of(power: float) -> float:
    """dBFS of a mean square (power), floored at SILENCE_DB."""
    return 10.0 * math.log10(power) if power > 1e-12 else SILENCE_DB


class Analyzer:
    """Turns blocks of float32 samples (frames, channels) into `Features`; see the module docstring."""

    def __init__(self, cfg: AnalysisConfig) -> None:
        self.cfg = cfg
        n, b = cfg.n_fft, cfg.block
        self.n_fft = n
        fall = min(b, n // 2)
        self.window = np.concatenate([np.hanning(2 * (n - fall) + 1)[:n - fall],
                                      np.hanning(2 * fall + 1)[fall + 1:]]).astype(np.float32)
        self._buf = np.zeros(n, np.float32)         # the last n_fft mono samples
        self._mono = np.zeros(b, np.float32)
        self._windowed = np.zeros(n, np.float32)
        self._spec = np.zeros(n // 2 + 1, np.complex64)
        self._mag = np.zeros(n // 2 + 1, np.float32)
        self._power = np.zeros(n // 2 + 1, np.float32)
        self._logmag = np.zeros(n // 2 + 1, np.float32)
        self._prev_logmag = np.zeros(n // 2 + 1, np.float32)
        # Parseval: a band's mean square = 2 * sum |X_k|^2 / (n * sum w^2), so bands and rms share units.
        self._power_scale = 2.0 / (n * float(np.sum(self.window.astype(np.float64) ** 2)))
        self._amp_scale = math.sqrt(self._power_scale)
        freqs = np.fft.rfftfreq(n, 1.0 / cfg.samplerate)
        nyquist = cfg.samplerate / 2
        self.bands = [(name, *self._bins(freqs, lo, min(hi, nyquist))) for name, lo, hi in BANDS]
        # Flux history per band: a kick's few low bins and a hat's hundreds of high ones each get a
        # threshold of their own, so neither drowns the other.
        self._history = np.zeros((len(self.bands), max(1, round(cfg.onset_history_s / cfg.block_s))), np.float32)
        self._flux = np.zeros(len(self.bands), np.float32)   # this block's flux per band
        self._filled = 0
        self._sounding = 0   # blocks since the input last rose above the gate
        self._premax = max(1, round(cfg.onset_premax_s / cfg.block_s))
        self._since_hit = 1 << 30
        self.overall = Leveler(cfg)
        self.levelers = {name: Leveler(cfg) for name, _, _ in self.bands}
        self.envelopes = {name: Envelope(0.005, 0.2) for name in ("energy", *self.levelers, "onset")}
        self.features = Features()
        self.tune()

    @staticmethod
    def _bins(freqs: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
        idx = np.nonzero((freqs >= lo) & (freqs < hi))[0]
        return (int(idx[0]), int(idx[-1]) + 1) if len(idx) else (0, 0)

    def tune(self, gain_db: float = 0.0, auto_gain: bool = True, attack_s: float = 0.005,
             release_s: float = 0.2, sensitivity: float = 0.5) -> None:
        """Apply the live controls (input trim, auto-gain, envelope times, onset sensitivity)."""
        self.gain = 10.0 ** (gain_db / 20.0)
        self.auto_gain = auto_gain
        self.sensitivity = sensitivity
        for name, env in self.envelopes.items():
            env.attack = 0.0 if name == "onset" else attack_s  # a hit is instant; its decay is the release
            env.release = release_s

    def process(self, block: np.ndarray, t: float = 0.0) -> Features:
        """Analyze one block (frames,) or (frames, channels) float32; returns the shared `Features`."""
        c, f = self.cfg, self.features
        frames = block.shape[0]
        if frames > self.n_fft:  # an oversized block: analyze its newest part only
            block, frames = block[-self.n_fft:], self.n_fft
        mono = self._mono[:frames] if frames <= len(self._mono) else np.empty(frames, np.float32)
        if block.ndim == 2 and block.shape[1] > 1:
            np.copyto(mono, block[:, 0])
            for ch in range(1, block.shape[1]):
                mono += block[:, ch]
            mono *= 1.0 / block.shape[1]
        else:
            np.copyto(mono, block.reshape(frames))
        if self.gain != 1.0:
            mono *= self.gain
        dt = frames / c.samplerate

        # overall level, straight from the samples: no window delay
        power = float(np.dot(mono, mono)) / frames
        f.t, f.rms, f.db = t, math.sqrt(power), db_of(power)
        f.energy = self.envelopes["energy"].step(self.overall.read(f.db, dt, self.auto_gain, c.agc_floor_db), dt)

        # spectrum of the last n_fft samples
        buf = self._buf
        buf[:-frames] = buf[frames:]
        buf[-frames:] = mono
        np.multiply(buf, self.window, out=self._windowed)
        np.fft.rfft(self._windowed, out=self._spec)
        np.abs(self._spec, out=self._mag)
        np.square(self._mag, out=self._power)
        band_floor = max(c.agc_floor_db, self.overall.ref_db - c.band_floor_db)
        for name, lo, hi in self.bands:
            band_db = db_of(float(self._power[lo:hi].sum()) * self._power_scale)
            level = self.levelers[name].read(band_db, dt, self.auto_gain, band_floor)
            setattr(f, name, self.envelopes[name].step(level, dt))

        self._onset(f, dt)
        return f

    def _onset(self, f: Features, dt: float) -> None:
        """Spectral flux of the log-compressed spectrum, per band, against adaptive thresholds."""
        c = self.cfg
        ref = 10.0 ** ((self.overall.ref_db if self.auto_gain else c.agc_init_db) / 20.0)
        logmag, prev = self._logmag, self._prev_logmag
        np.multiply(self._mag, self._amp_scale * c.onset_compression / ref, out=logmag)
        np.log1p(logmag, out=logmag)
        np.subtract(logmag, prev, out=prev)       # prev now holds the growth per bin
        np.maximum(prev, 0.0, out=prev)
        growth = prev
        logmag, prev = prev, logmag               # swap: this block's spectrum is the next one's past
        self._logmag, self._prev_logmag = logmag, prev

        # A hit, in any band: the band's flux tops (1) its median over the current sound (silence
        # before it says nothing about its texture) by `deviations` median absolute deviations, and
        # a multiple of its mean; (2) every flux of the last few blocks (a noisy sound's own flux
        # just after it starts is no new hit); and the last hit is not too recent.
        hist = self._history
        filled = min(self._filled, self._sounding)
        deviations = 10.0 * (1.5 - self.sensitivity)  # sensitivity 0.5: 10; 1: 5; 0: 15
        flux = self._flux
        for i, (_, lo, hi) in enumerate(self.bands):
            flux[i] = growth[lo:hi].mean() if hi > lo else 0.0
        if filled:  # all bands at once: a few small temporaries, far cheaper than a loop of numpy calls
            past = hist[:, -filled:]
            median = np.median(past, axis=1)
            spread = np.median(np.abs(past - median[:, None]), axis=1)
            threshold = np.maximum(median + deviations * spread, 0.3 * deviations * past.mean(axis=1))
            recent = past[:, -self._premax:].max(axis=1)
            hit = bool(np.any((flux > c.onset_delta + threshold) & (flux > recent)))
        else:
            hit = bool(np.any(flux > c.onset_delta))
        hist[:, :-1] = hist[:, 1:]
        hist[:, -1] = flux
        self._filled = min(hist.shape[1], self._filled + 1)
        self._sounding = self._sounding + 1 if f.db > c.gate_db else 0
        self._since_hit += 1
        f.flux = float(flux.max())
        f.hit = hit and f.db > c.gate_db and self._since_hit * c.block_s >= c.onset_refractory_s
        if f.hit:
            self._since_hit = 0
            f.onsets += 1
        f.onset = self.envelopes["onset"].step(1.0 if f.hit else 0.0, dt)
