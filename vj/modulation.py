"""The one modulation matrix: sources (audio features, LFOs, the beat) moving number parameters.

A route = source, target, depth (in the target's units), curve, offset. Each time its source has a
new value x, the producer of that source (the audio thread for `audio.*`, the tempo thread for
`lfo.*` and `beat`) hands

    amount x (offset + depth x curve(x))

to `store.modulate(target, key, ...)`, which the snapshot adds to the performer's value and clamps
to the target's range: the base value is never written, so letting go (amount 0, input lost,
service stopped) returns it. Sources are 0..1 (audio features, the beat pulse) or -1..1 (LFOs);
curves shape the magnitude and keep the sign. A route whose target is an action fires it at each
hit of its source (an audio onset, a beat).

The setup's routing table is `[[mod]]`; the older `[[audio.route]]` rows (sources named without
`audio.`) are read into the same table (vj/audio/modulation.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Collection, Iterable, Mapping

from engine.params import ParamStore

from .setup import SetupError
from .tables import AUDIO_FEATURES, LFO_COUNT

CURVES: dict[str, Callable[[float], float]] = {
    "linear": lambda x: x,
    "square": lambda x: x * x,                       # quiet passages barely move, peaks stand out
    "sqrt": math.sqrt,                               # quiet passages already move
    "smooth": lambda x: x * x * (3.0 - 2.0 * x),     # smoothstep: soft at both ends
    "gate": lambda x: 1.0 if x >= 0.5 else 0.0,      # on/off at half level
}

LFO_SOURCES = tuple(f"lfo.{i}" for i in range(1, LFO_COUNT + 1))
SOURCES = (*(f"audio.{f}" for f in AUDIO_FEATURES), *LFO_SOURCES, "beat")
HIT_SOURCES = ("audio.onset", "beat")   # sources whose hits can fire actions


@dataclass(frozen=True)
class Route:
    source: str
    target: str
    depth: float = 1.0
    curve: str = "linear"
    offset: float = 0.0
    key: str = "audio"                # modulation source name in the store (one per route)
    depth_param: str | None = None    # live parameter overriding `depth`
    offset_param: str | None = None   # live parameter overriding `offset`
    action: bool = False              # target is an action fired on each hit


def shape(curve: str, x: float) -> float:
    """`curve` applied to the magnitude of x (clamped to -1..1), keeping its sign."""
    x = min(1.0, max(-1.0, x))
    return math.copysign(CURVES[curve](abs(x)), x)


def check_route(row, store: ParamStore, where: str, key: str, sources: Collection[str] = SOURCES,
                hits: Collection[str] = HIT_SOURCES, what: str = "a modulation source") -> Route:
    """One routing row (.source, .target, .depth, .curve, .offset) checked against the live table.
    Raises SetupError naming `where` in one sentence."""
    if row.source not in sources:
        raise SetupError(f"{where} source {row.source!r} is not {what}; use one of {', '.join(sources)}.")
    if row.curve not in CURVES:
        raise SetupError(f"{where} curve {row.curve!r} is unknown; use one of {', '.join(CURVES)}.")
    if not (math.isfinite(row.depth) and math.isfinite(row.offset)):
        raise SetupError(f"{where} depth and offset must be finite numbers.")
    if row.target in store.actions:
        if row.source not in hits:
            raise SetupError(f"{where} target {row.target!r} is an action, fired on hits: its source must be "
                             f"{' or '.join(repr(h) for h in hits)}, not {row.source!r}.")
        return Route(row.source, row.target, key=key, action=True)
    spec = store.specs.get(row.target)
    if spec is None:
        raise SetupError(f"{where} target {row.target!r} is not a live parameter; `vj osc-spec` lists them.")
    if not spec.numeric or spec.readonly:
        raise SetupError(f"{where} target {row.target!r} is {'read-only' if spec.readonly else spec.kind}; "
                         "a route needs a writable number parameter.")
    return Route(row.source, row.target, row.depth, row.curve, row.offset, key=key)


def mod_routes(rows: Iterable, store: ParamStore, label: str = "<setup>") -> list[Route]:
    """The setup's [[mod]] rows as routes, all checked (SetupError names the row)."""
    return [check_route(row, store, f"{label}: mod[{i}]", f"mod.{i}") for i, row in enumerate(rows)]


class Matrix:
    """Applies routes for the sources one producer owns; `release()` lets go of every target."""

    def __init__(self, store: ParamStore, routes: list[Route]) -> None:
        self.store, self.routes = store, routes

    def apply(self, values: Mapping[str, float], amount: float, hits: Collection[str] = (),
              params: Mapping[str, float] | None = None) -> None:
        """`values`: source -> level; `hits`: sources with a hit now; `params`: a snapshot for
        routes with live depth/offset parameters."""
        for r in self.routes:
            if r.source not in values:
                continue
            if r.action:
                if r.source in hits and amount > 0:
                    self.store.trigger(r.target, r.source.split(".")[0])
                continue
            depth = params[r.depth_param] if r.depth_param else r.depth
            offset = params[r.offset_param] if r.offset_param else r.offset
            self.store.modulate(r.target, r.key, amount * (offset + depth * shape(r.curve, values[r.source])))

    def release(self) -> None:
        for r in self.routes:
            if not r.action:
                self.store.modulate(r.target, r.key, 0.0)
