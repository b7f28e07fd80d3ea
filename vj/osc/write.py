"""One OSC message applied to the store, by its route: shared by the UDP server and the browser's
WebSocket (vj/web/), so an address means the same thing whichever way it arrives."""
from __future__ import annotations

from typing import Any

from engine.params import ParamStore

from .addresses import ACTION, PARAM, UNIT_PARAM, Route
from .values import Refused, is_number, to_unit, to_value


def write(store: ParamStore, route: Route, args: list[Any], source: str) -> None:
    """Fire the action or set the parameter `route` names from the message's `args`.

    An action takes no argument or one number (0 / false is a button's release and is ignored);
    a parameter takes one value (its own range on the plain address, 0..1 on /unit). Raises Refused
    with the reason when the message does not fit or the address cannot be written.
    """
    kind, name = route.kind, route.name
    if kind == ACTION:
        if len(args) > 1 or (args and not (is_number(args[0]) or isinstance(args[0], bool))):
            raise Refused(f"{name}: an action takes nothing or one number, got {_short(args)}")
        if not args or args[0]:
            store.trigger(name, source)
        return
    if len(args) != 1:
        raise Refused(f"{route.address} takes one value, got {len(args)}")
    spec = store.specs.get(name) if kind in (PARAM, UNIT_PARAM) else None
    if spec is None or spec.readonly:
        raise Refused(f"{route.address} is read-only; send '?' to ask for its value")
    current = store.base(name)
    if kind == PARAM:
        ok = store.set(name, to_value(spec, args[0], current), source)
    else:
        ok = store.set_unit(name, to_unit(spec, args[0], current), source)
    if not ok:
        raise Refused(f"{name} refused by the parameter store")


def _short(x: Any) -> str:
    text = str(x)
    return text if len(text) <= 80 else text[:77] + "..."
