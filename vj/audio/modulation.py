"""Audio's part of the modulation matrix (vj/modulation.py): features moving parameters.

The default route is energy -> noise with live depth and offset (`audio.noise.depth`,
`audio.noise.offset`); the setup's `[[mod]]` rows with an `audio.*` source and its older
`[[audio.route]]` rows (source named without `audio.`, kept working) add more. Every route is
scaled by `audio.amount`; letting go of the music (amount 0, input lost, service stopped) sets
every offset to 0 and the base values return. A route whose target is an action (flash.hit,
next, reseed, ...) fires it on each hit and must use source "onset".
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from engine.params import ParamStore, Snapshot

from ..modulation import Matrix, Route, check_route, mod_routes
from ..tables import AUDIO_FEATURES as FEATURES
from .analysis import Features

NOISE_ROUTE = Route("energy", "noise", key="audio.noise", depth_param="audio.noise.depth",
                    offset_param="audio.noise.offset")


def build_routes(rows: Iterable, store: ParamStore, label: str = "<setup>", mods: Iterable = ()) -> list[Route]:
    """The default noise route, the [[audio.route]] `rows` and the audio rows of [[mod]] `mods`,
    each checked against the store's table; sources are feature names (energy, bass, ...).
    Raises SetupError with one sentence naming the row."""
    routes = [NOISE_ROUTE] if "noise" in store.specs else []
    routes += [check_route(row, store, f"{label}: audio.route[{i}]", f"audio.route.{i}", FEATURES, ("onset",),
                           "an audio feature") for i, row in enumerate(rows)]
    routes += [replace(r, source=r.source.removeprefix("audio."))
               for r in mod_routes(mods, store, label) if r.source.startswith("audio.")]
    return routes


class Router(Matrix):
    """Applies the audio routes once per analysed block, scaled by `audio.amount`."""

    def apply(self, features: Features, snap: Snapshot) -> None:  # type: ignore[override]
        values = {f: getattr(features, f) for f in FEATURES}
        super().apply(values, snap["audio.amount"], ("onset",) if features.hit else (), snap)
