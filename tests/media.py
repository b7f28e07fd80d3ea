"""Test media written with the standard library: audio files for the file input and the recorder."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def write_wav(path: Path, samples: np.ndarray, sr: int) -> Path:
    """16-bit PCM wav of float samples (frames,) or (frames, channels)."""
    data = samples if samples.ndim == 2 else samples[:, None]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(data.shape[1])
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(data, -1, 1) * 32767).astype("<i2").tobytes())
    return path
