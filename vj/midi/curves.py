"""Response curves of MIDI controls: a knob's travel 0..1 to a share of its lo..hi range.

Each curve comes with its inverse, which soft takeover needs to find where on the travel the
current value sits. `exp` gives fine control at the bottom (learning rates, zooms: two decades
over the travel); `log` is its mirror; `square` and `sqrt` are gentler versions of the same.
"""
from __future__ import annotations

import math
from typing import Callable

Curve = tuple[Callable[[float], float], Callable[[float], float]]

CURVES: dict[str, Curve] = {
    "linear": (lambda x: x, lambda y: y),
    "square": (lambda x: x * x, lambda y: math.sqrt(y)),
    "sqrt": (lambda x: math.sqrt(x), lambda y: y * y),
    "exp": (lambda x: (100.0 ** x - 1.0) / 99.0, lambda y: math.log(1.0 + 99.0 * y, 100.0)),
    "log": (lambda x: math.log(1.0 + 99.0 * x, 100.0), lambda y: (100.0 ** y - 1.0) / 99.0),
}


def shape(curve: str, x: float) -> float:
    """The curve applied to a travel position in 0..1 (clamped)."""
    return CURVES[curve][0](min(1.0, max(0.0, x)))


def unshape(curve: str, y: float) -> float:
    """The travel position where the curve reaches `y` (clamped to 0..1)."""
    return CURVES[curve][1](min(1.0, max(0.0, y)))
