"""OSC arguments to parameter values, and back, by the parameter's spec.

Incoming: one argument per message. Numbers are checked for type, finiteness and range before
the store sees them, so a flood of bad values costs a counter, not a log line each.
Resolume-style extras: the string "?" asks for the current value, a string starting with + or -
("+0.1", "-5") changes a number relative to its current value (clamped to the range).
Outgoing: what TouchOSC shows best: floats for faders and toggles, ints, strings.
"""
from __future__ import annotations

import math
from typing import Any

from engine.params import ParamSpec

QUERY = "?"


class Refused(ValueError):
    """An OSC message that does not fit; the message says why, `kind` groups it for the counters."""

    def __init__(self, why: str, kind: str = "value") -> None:
        super().__init__(why)
        self.kind = kind


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def finite_number(x: Any, what: str) -> float:
    if not is_number(x):
        raise Refused(f"{what} must be a number, got {type(x).__name__}")
    if not math.isfinite(x):
        raise Refused(f"{what} must be finite, got {x!r}")
    return float(x)


def relative(arg: Any) -> float | None:
    """The delta of a "+0.1"/"-5" string, else None."""
    if not isinstance(arg, str) or len(arg) > 32 or arg[:1] not in "+-" or not arg[1:]:
        return None
    try:
        delta = float(arg)
    except ValueError:
        return None
    return delta if math.isfinite(delta) else None


def to_value(spec: ParamSpec, arg: Any, current: Any) -> Any:
    """The value an OSC argument asks for on the plain address; raises Refused."""
    k = spec.kind
    if spec.numeric:
        delta = relative(arg)
        if delta is not None:
            v = current + delta
            return spec.clamp(round(v) if k == "int" else v)
        x = finite_number(arg, spec.name)
        value: Any = round(x) if k == "int" else x
    elif k == "bool":
        if not (isinstance(arg, bool) or is_number(arg)):
            raise Refused(f"{spec.name} is on/off: send 1 or 0 (or T/F), got {type(arg).__name__} {_short(arg)}")
        value = arg if isinstance(arg, bool) else finite_number(arg, spec.name) >= 0.5
    else:
        if not isinstance(arg, str):
            raise Refused(f"{spec.name} must be a string, got {type(arg).__name__}")
        value = arg
    ok, why = spec.check(value)
    if not ok:
        raise Refused(f"{spec.name} {why}, got {_short(arg)}")
    return value


def to_unit(spec: ParamSpec, arg: Any, current: Any) -> float:
    """The 0..1 fader position an argument asks for on the /unit address; raises Refused."""
    delta = relative(arg)
    if delta is not None:
        return min(1.0, max(0.0, spec.to_unit(current) + delta))
    x = finite_number(arg, f"{spec.name}/unit")
    if not 0.0 <= x <= 1.0:
        raise Refused(f"{spec.name}/unit takes a fader position in 0..1, got {x!r}")
    return x


def outgoing(spec: ParamSpec, value: Any) -> Any:
    """The value as sent back: bools as 1.0/0.0 (TouchOSC toggles), the rest as they are."""
    if spec.kind == "bool":
        return 1.0 if value else 0.0
    return value


def _short(arg: Any) -> str:
    text = repr(arg)
    return text if len(text) <= 60 else text[:57] + "..."
