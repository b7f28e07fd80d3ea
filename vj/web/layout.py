"""What the control page shows, by parameter name; everything else about each control (type, range,
value, description) the page reads from the OSCQuery namespace, so both come from the one table."""
from __future__ import annotations

from typing import Any

from engine.controls import SLOTS
from engine.params import ParamStore

from ..osc.addresses import address_of

# (title, kind, names): "slots" are the prompt text fields with their select buttons; "buttons" are
# on/off parameters and actions as large touch targets; "faders" are number parameters. Stage comes
# first: on a phone, blackout must be reachable without scrolling past eight prompt slots.
SECTIONS: list[tuple[str, str, list[str]]] = [
    ("Stage", "buttons", ["blackout", "freeze", "record", "prev", "next", "flash.hit", "zoom.hit"]),
    ("Prompts", "slots", [f"prompt.{i}" for i in range(1, SLOTS + 1)]),
    ("Mix", "faders", ["crossfade", "temperature"]),
    ("Effects", "faders", ["brightness", "smoothing", "flash", "zoom", "hue", "fade.time", "noise"]),
]


def page_layout(store: ParamStore) -> list[dict[str, Any]]:
    """The page's sections as JSON-ready dicts: title, kind, and items {name, address}; names the
    table lacks are left out (a store without the window's rows still gets a page)."""
    return [{"title": title, "kind": kind,
             "items": [{"name": n, "address": address_of(n)} for n in names if n in store.specs or n in store.actions]}
            for title, kind, names in SECTIONS]
