"""What every input is: a PictureSource yielding pictures, and the one-sentence InputError."""
from __future__ import annotations

from typing import Iterator

import numpy as np


class InputError(RuntimeError):
    """An input cannot be opened or read; the message is one sentence for the performer."""


class PictureSource:
    """One opened input. `pictures()` yields pictures as they become due; `close()` never raises."""
    name = "input"
    loops = False  # a file that starts again at its end
    still = False  # one picture, kept for ever

    def pictures(self) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        pass
