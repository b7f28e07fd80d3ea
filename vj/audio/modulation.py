"""Routing: audio features modulate parameters, adding to the performer's value, never writing it.

One route = source feature, target parameter, depth (in the target's units), curve, offset:

    audio.amount x (offset + depth x curve(feature))

is handed to `store.modulate(target, key, ...)`, which the snapshot adds to the base value and
clamps to the target's range. Letting go of the music (audio.amount 0, input lost, service stopped)
sets every route's offset to 0 and the base values return.

The default route is energy -> noise with live depth and offset (`audio.noise.depth`,
`audio.noise.offset`); the setup's [[audio.route]] rows add more. A route whose target is an action
(flash.hit, next, reseed, ...) fires it on each hit and must use source "onset".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

from engine.params import ParamStore, Snapshot

from ..setup import SetupError
from .analysis import Features
from ..tables import AUDIO_FEATURES as FEATURES

CURVES: dict[str, Callable[[float], float]] = {
    "linear": lambda x: x,
    "square": lambda x: x * x,                       # quiet passages barely move, peaks stand out
    "sqrt": math.sqrt,                               # quiet passages already move
    "smooth": lambda x: x * x * (3.0 - 2.0 * x),     # smoothstep: soft at both ends
    "gate": lambda x: 1.0 if x >= 0.5 else 0.0,      # on/off at half level
}


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


NOISE_ROUTE = Route("energy", "noise", key="audio.noise", depth_param="audio.noise.depth",
                    offset_param="audio.noise.offset")


def build_routes(rows: Iterable, store: ParamStore, label: str = "<setup>") -> list[Route]:
    """The default noise route plus the setup's rows, each checked against the store's table.

    `rows` have .source, .target, .depth, .curve, .offset (the setup's AudioRoute). Raises
    SetupError with one sentence naming the row.
    """
    routes = [NOISE_ROUTE] if "noise" in store.specs else []
    for i, row in enumerate(rows):
        where = f"{label}: audio.route[{i}]"
        if row.source not in FEATURES:
            raise SetupError(f"{where} source {row.source!r} is not an audio feature; use one of {', '.join(FEATURES)}.")
        if row.curve not in CURVES:
            raise SetupError(f"{where} curve {row.curve!r} is unknown; use one of {', '.join(CURVES)}.")
        if not (math.isfinite(row.depth) and math.isfinite(row.offset)):
            raise SetupError(f"{where} depth and offset must be finite numbers.")
        if row.target in store.actions:
            if row.source != "onset":
                raise SetupError(f"{where} target {row.target!r} is an action, fired on hits: its source must be "
                                 f"'onset', not {row.source!r}.")
            routes.append(Route(row.source, row.target, key=f"audio.route.{i}", action=True))
            continue
        spec = store.specs.get(row.target)
        if spec is None:
            raise SetupError(f"{where} target {row.target!r} is not a live parameter; `vj osc-spec` lists them.")
        if not spec.numeric or spec.readonly:
            raise SetupError(f"{where} target {row.target!r} is {'read-only' if spec.readonly else spec.kind}; "
                             "a route needs a writable number parameter.")
        routes.append(Route(row.source, row.target, row.depth, row.curve, row.offset, key=f"audio.route.{i}"))
    return routes


class Router:
    """Applies routes once per analysed block; `release()` lets go of every target."""

    def __init__(self, store: ParamStore, routes: list[Route]) -> None:
        self.store, self.routes = store, routes

    def apply(self, features: Features, snap: Snapshot) -> None:
        amount = snap["audio.amount"]
        for r in self.routes:
            if r.action:
                if features.hit and amount > 0:
                    self.store.trigger(r.target, "audio")
                continue
            x = CURVES[r.curve](min(1.0, max(0.0, getattr(features, r.source))))
            depth = snap[r.depth_param] if r.depth_param else r.depth
            offset = snap[r.offset_param] if r.offset_param else r.offset
            self.store.modulate(r.target, r.key, amount * (offset + depth * x))

    def release(self) -> None:
        for r in self.routes:
            if not r.action:
                self.store.modulate(r.target, r.key, 0.0)
