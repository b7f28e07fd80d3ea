"""MIDI messages to parameter writes, by the setup's [[midi.map]] rows.

A row becomes one binding:
- `Fader`: a CC moves a parameter over lo..hi along a curve, with soft takeover (a control
  whose position does not match the current value changes nothing until it passes through it);
- `Trigger`: a press fires an action (next, reseed, ...);
- `SetValue`: a press sets a parameter to a value (a pad selects prompt slot 3);
- `Toggle` / `Hold`: a press flips an on/off parameter, or holds it on while held;
- `Encoder`: a relative encoder nudges a parameter by `step` per detent, in either encoding real
  controllers use: offset-64 (65 = one detent up, 63 = one down; Akai, Arturia "relative 1") or
  two's complement (1 = up, 127 = down; Behringer, Novation "relative 2"). It never jumps, so it
  needs no soft takeover.
A Fader with `lsb` reads a 14-bit CC pair: the MSB on `cc`, then the LSB on `lsb` (MIDI 1.0: an MSB
alone means LSB 0), 16384 steps instead of 128.
A press is a note-on with velocity > 0, or a CC rising to 64 or more (factory buttons of the
nanoKONTROL2 send CC 127 on press and 0 on release).
`shown(store)` says what the control's LED, motor fader or ring should show now (vj/midi/leds.py).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import mido

from engine.params import ParamSpec, ParamStore

from ..setup import MidiMap, MidiSetup, SetupError
from .curves import shape, unshape

log = logging.getLogger(__name__)

PRESS = 64              # CC buttons: value >= 64 is down
TOLERANCE = 1.5 / 127   # soft takeover picks up within this much travel of the current value
SOURCE = "midi"


@dataclass
class Binding:
    kind: str                    # "cc" or "note"
    number: int                  # CC or note number
    channel: int | None          # 0-based MIDI channel, None: any
    target: str                  # parameter or action name
    where: str                   # "midi.map[3]", for messages
    down: bool = field(default=False, init=False)

    def listens(self, kind: str, number: int, channel: int) -> bool:
        return self.kind == kind and self.number == number and self.channel in (None, channel)

    def control(self, number: int, value: int, store: ParamStore) -> None:
        """A CC `number` with `value` 0..127 that this binding listens to."""
        self.cc(value, store)

    def shown(self, store: ParamStore) -> bool | float | None:
        """What the controller should show: lit (bool), a position 0..1 (float) or nothing (None)."""
        return None

    def cc(self, value: int, store: ParamStore) -> None:
        """A CC value 0..127; buttons see presses and releases."""
        down = value >= PRESS
        if down != self.down:
            self.down = down
            self.press(store) if down else self.release(store)

    def press(self, store: ParamStore) -> None: ...
    def release(self, store: ParamStore) -> None: ...

    def prime(self, value: int) -> None:
        """Know where the control is (the move that taught it, in MIDI learn) without acting."""
        self.down = value >= PRESS

    def describe(self) -> str:
        ch = "any channel" if self.channel is None else f"channel {self.channel + 1}"
        return f"{'CC' if self.kind == 'cc' else 'note'} {self.number} on {ch}"


@dataclass
class Fader(Binding):
    spec: ParamSpec = None
    lo: float = 0.0
    hi: float = 1.0
    curve: str = "linear"
    takeover: bool = True
    lsb: int = -1                                              # 14-bit: CC number of the low 7 bits
    _msb: int = field(default=0, init=False)
    _last: float | None = field(default=None, init=False)      # previous travel position
    _written: Any = field(default=None, init=False)            # what we last wrote (we are in control)

    def listens(self, kind: str, number: int, channel: int) -> bool:
        return (self.kind == kind and number in (self.number, self.lsb) and number >= 0
                and self.channel in (None, channel))

    def control(self, number: int, value: int, store: ParamStore) -> None:
        if self.lsb < 0:
            self.cc(value, store)
        elif number == self.number:
            self._msb = value
            self.move((value << 7) / 16383.0, store)
        else:
            self.move(((self._msb << 7) | value) / 16383.0, store)

    def shown(self, store: ParamStore) -> float:
        return min(1.0, max(0.0, self.travel_of(store.base(self.target))))

    def value_at(self, travel: float) -> Any:
        s = self.spec
        if s.kind == "enum":
            return s.choices[min(len(s.choices) - 1, int(travel * len(s.choices)))]
        v = self.lo + shape(self.curve, travel) * (self.hi - self.lo)
        return s.clamp(round(v) if s.kind == "int" else v)

    def travel_of(self, value: Any) -> float:
        """Where on the travel `value` sits (clamped: a value outside lo..hi sits at an end)."""
        s = self.spec
        if s.kind == "enum":
            return (s.choices.index(value) + 0.5) / len(s.choices)
        span = self.hi - self.lo
        return unshape(self.curve, (float(value) - self.lo) / span) if span else 0.0

    def prime(self, value: int) -> None:
        self._last = value / 127.0

    def cc(self, value: int, store: ParamStore) -> None:
        self.move(value / 127.0, store)

    def move(self, travel: float, store: ParamStore) -> None:
        """The control is at `travel` (0..1) of its way."""
        current = store.base(self.target)
        last, self._last = self._last, travel
        target = self.value_at(travel)
        if self.takeover and not self._engaged(current, target, travel, last):
            log.debug("%s: %s waits to pick up %s at %r", self.where, self.describe(), self.target, current)
            return
        if target != current:
            store.set(self.target, target, SOURCE)
        self._written = store.base(self.target)

    def _engaged(self, current: Any, target: Any, travel: float, last: float | None) -> bool:
        if self._written is not None and current == self._written:
            return True                                  # nobody else moved it since our last write
        self._written = None
        if target == current:
            return True
        here = self.travel_of(current)
        if abs(travel - here) <= TOLERANCE:
            return True
        return last is not None and min(last, travel) <= here <= max(last, travel)


ENCODERS = ("absolute", "offset64", "twos")


def detents(encoding: str, value: int) -> int:
    """Detents turned in one relative-encoder message: offset64 sends 64 + n, twos sends n mod 128."""
    if encoding == "offset64":
        return value - 64
    return value - 128 if value >= 64 else value


@dataclass
class Encoder(Binding):
    spec: ParamSpec = None
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.01
    encoding: str = "offset64"

    def cc(self, value: int, store: ParamStore) -> None:
        n = detents(self.encoding, value)
        if n == 0:
            return
        v = float(store.base(self.target)) + n * self.step
        v = min(max(v, min(self.lo, self.hi)), max(self.lo, self.hi))
        store.set(self.target, self.spec.clamp(round(v) if self.spec.kind == "int" else v), SOURCE)

    def shown(self, store: ParamStore) -> float:
        span = self.hi - self.lo
        return min(1.0, max(0.0, (float(store.base(self.target)) - self.lo) / span)) if span else 0.0


@dataclass
class Trigger(Binding):
    def press(self, store: ParamStore) -> None:
        store.trigger(self.target, SOURCE)


@dataclass
class SetValue(Binding):
    value: Any = None

    def press(self, store: ParamStore) -> None:
        store.set(self.target, self.value, SOURCE)

    def shown(self, store: ParamStore) -> bool:
        return store.base(self.target) == self.value


@dataclass
class Toggle(Binding):
    def press(self, store: ParamStore) -> None:
        store.set(self.target, not store.base(self.target), SOURCE)

    def shown(self, store: ParamStore) -> bool:
        return bool(store.base(self.target))


@dataclass
class Hold(Toggle):
    def press(self, store: ParamStore) -> None:
        store.set(self.target, True, SOURCE)

    def release(self, store: ParamStore) -> None:
        store.set(self.target, False, SOURCE)


class Mapper:
    """Routes each message to the bindings of its control (several may share one)."""

    def __init__(self, bindings: list[Binding] = ()) -> None:
        self.bindings: list[Binding] = list(bindings)

    def handle(self, msg: mido.Message, store: ParamStore) -> bool:
        """Apply one message; False when no binding listens to it."""
        if msg.type == "control_change":
            kind, number, value = "cc", msg.control, msg.value
        elif msg.type in ("note_on", "note_off"):
            kind, number = "note", msg.note
            value = msg.velocity if msg.type == "note_on" else 0
        else:
            return False                               # clock, sysex, aftertouch...: not ours
        hit = False
        for b in self.bindings:
            if b.listens(kind, number, msg.channel):
                hit = True
                if kind == "cc":
                    b.control(number, value, store)
                elif value > 0:
                    b.press(store)
                else:
                    b.release(store)
        return hit

    def replace(self, binding: Binding) -> None:
        """Give a control a new job (MIDI learn): its other bindings go."""
        self.bindings = [b for b in self.bindings if not (b.kind == binding.kind and b.number == binding.number
                                                          and b.channel in (None, binding.channel))]
        self.bindings.append(binding)


def compile_map(midi: MidiSetup, store: ParamStore, label: str = "<setup>") -> Mapper:
    """The setup's rows checked against the live table; a wrong row raises SetupError naming it."""
    return Mapper([binding(row, store, midi, label, f"midi.map[{i}]") for i, row in enumerate(midi.map)])


def binding(row: MidiMap, store: ParamStore, midi: MidiSetup, label: str, where: str) -> Binding:
    def bad(key: str, why: str) -> SetupError:
        return SetupError(f"{label}: {where}.{key} {why}.")

    if (row.cc >= 0) == (row.note >= 0):
        raise bad("cc", "or note must be given, one of them (cc = 7 for a knob, note = 36 for a pad)")
    if bool(row.param) == bool(row.action):
        raise bad("param", "or action must be given, one of them")
    kind, number = ("cc", row.cc) if row.cc >= 0 else ("note", row.note)
    channel = (row.channel or midi.channel or 0) - 1
    common = dict(kind=kind, number=number, channel=None if channel < 0 else channel, where=where)
    if row.action:
        if row.action not in store.actions:
            raise bad("action", f"names no action ({', '.join(store.actions)}), got {row.action!r}")
        return Trigger(target=row.action, **common)
    spec = store.specs.get(row.param)
    if spec is None:
        raise bad("param", f"names no parameter (`vj osc-spec` lists them), got {row.param!r}")
    if spec.readonly or spec.kind == "str":
        raise bad("param", f"{row.param} cannot be driven by MIDI ({'read-only' if spec.readonly else 'text'})")
    if row.hold and spec.kind != "bool":
        raise bad("hold", f"only applies to on/off parameters; {row.param} is {spec.describe()}")
    relative = row.encoder != "absolute"
    if relative and (kind != "cc" or not spec.numeric or row.value is not None):
        raise bad("encoder", f"{row.encoder} needs a CC row on a number parameter without value; {row.param} is "
                             f"{spec.describe()}")
    if row.lsb >= 0 and (kind != "cc" or relative or not spec.numeric or row.lsb == row.cc):
        raise bad("lsb", "needs an absolute CC row on a number parameter, on another CC than cc (usually cc + 32)")
    if row.value is not None:
        value = _coerce(spec, row.value)
        ok, why = spec.check(value)
        if not ok:
            raise bad("value", f"{why} for {row.param}, got {row.value!r}")
        return SetValue(target=row.param, value=value, **common)
    if spec.kind == "bool":
        return (Hold if row.hold else Toggle)(target=row.param, **common)
    if kind == "note":
        raise bad("value", f"is needed: a note sets {row.param} to a value (value = ...)")
    lo = spec.lo if row.lo is None else row.lo
    hi = spec.hi if row.hi is None else row.hi
    if spec.numeric:
        for key, v in (("lo", lo), ("hi", hi)):
            if not spec.lo <= v <= spec.hi:
                raise bad(key, f"must be inside {row.param}'s range {spec.lo:g}..{spec.hi:g}, got {v!r}")
    if relative:
        step = row.step if row.step is not None else (1 if spec.kind == "int" else (hi - lo) / 100)
        if not step > 0:
            raise bad("step", f"must be above 0 (the change per detent), got {row.step!r}")
        return Encoder(target=row.param, spec=spec, lo=lo, hi=hi, step=step, encoding=row.encoder, **common)
    return Fader(target=row.param, spec=spec, lo=lo or 0.0, hi=hi if hi is not None else 1.0,
                 curve=row.curve, takeover=midi.takeover, lsb=row.lsb, **common)


def _coerce(spec: ParamSpec, value: float) -> Any:
    if spec.kind == "bool":
        return value >= 0.5
    if spec.kind == "int" and float(value).is_integer():
        return int(value)
    return value
