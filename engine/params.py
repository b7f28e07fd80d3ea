"""Live parameters: one table of specs, one validated, versioned, thread-safe store.

Every live value (prompt slots, cross-fade, temperature, display effects, audio gains, ...) is a
`ParamSpec` row. OSC addresses, MIDI mappings, keys, the HUD, feedback and the docs are all derived
from the rows, so adding a control is adding a row.

Writers call `set()`; a value that fails its spec is refused with a log line and never applied.
Readers take a `snapshot()`: an immutable dict of *effective* values (base value plus any
modulation, clamped to range). Modulation (audio routing) is kept apart from the base value, so
letting go of the music returns the performer's value. Every accepted write bumps a global version;
`changes_since(v)` tells a consumer what changed.
"""
from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

log = logging.getLogger(__name__)

KINDS = ("float", "int", "bool", "str", "enum")


@dataclass(frozen=True)
class ParamSpec:
    """One live value. `lo`/`hi` bound numbers; `choices` lists enum values; `max_len` bounds str."""
    name: str
    kind: str
    default: Any
    doc: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    max_len: int = 256
    readonly: bool = False  # published by the app (audio levels), not written by performers

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}, not {self.kind!r}")
        ok, why = self.check(self.default)
        if not ok:
            raise ValueError(f"{self.name}: default {self.default!r} {why}")

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int")

    def check(self, value: Any) -> tuple[bool, str]:
        """(True, "") if `value` fits this spec, else (False, reason). Never raises."""
        k = self.kind
        if k == "bool":
            return (True, "") if isinstance(value, bool) else (False, "must be true or false")
        if k == "str":
            if not isinstance(value, str):
                return False, "must be text"
            if len(value) > self.max_len:
                return False, f"is longer than {self.max_len} characters"
            return True, ""
        if k == "enum":
            return (True, "") if value in self.choices else (False, f"must be one of {', '.join(self.choices)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False, f"must be a number ({k})"
        if k == "int" and not float(value).is_integer():
            return False, "must be a whole number"
        if not math.isfinite(value):
            return False, "must be finite"
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            return False, f"must be in {self.lo:g}..{self.hi:g}"
        return True, ""

    def coerce(self, value: Any) -> Any:
        """The canonical Python value for an accepted write (ints stay ints, floats floats)."""
        if self.kind == "int":
            return int(value)
        if self.kind == "float":
            return float(value)
        return value

    def from_unit(self, x: float) -> Any:
        """Map a fader's 0..1 onto this spec's range (for controls that only send 0..1)."""
        x = min(1.0, max(0.0, float(x)))
        if self.kind == "bool":
            return x >= 0.5
        if self.kind == "enum":
            return self.choices[min(len(self.choices) - 1, int(x * len(self.choices)))]
        v = self.lo + x * (self.hi - self.lo)
        return round(v) if self.kind == "int" else v

    def to_unit(self, value: Any) -> float:
        """Inverse of `from_unit`: where `value` sits on a 0..1 fader."""
        if self.kind == "bool":
            return 1.0 if value else 0.0
        if self.kind == "enum":
            return self.choices.index(value) / max(1, len(self.choices) - 1)
        span = (self.hi - self.lo) or 1.0
        return (float(value) - self.lo) / span

    def clamp(self, value: float) -> Any:
        return self.coerce(min(self.hi, max(self.lo, value)))

    def describe(self) -> str:
        if self.numeric:
            return f"{self.kind} {self.lo:g}..{self.hi:g}"
        if self.kind == "enum":
            return "enum " + "|".join(self.choices)
        return self.kind


@dataclass(frozen=True)
class Action:
    """A momentary command (next prompt, reseed, ...): no value, just a trigger."""
    name: str
    doc: str


@dataclass(frozen=True)
class Snapshot:
    """An immutable view of every effective value at one version."""
    values: Mapping[str, Any]
    version: int

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


@dataclass
class Change:
    """One accepted write, handed to listeners (timeline recorder, OSC feedback)."""
    name: str
    value: Any
    version: int
    source: str


class ParamStore:
    """The one live state shared by all threads.

    Writes are short critical sections; snapshots are built lazily once per version, so a reader
    polling every iteration or display frame costs a dict lookup. Listeners are called outside the
    lock and must only copy and hand off.
    """

    def __init__(self, specs: Iterable[ParamSpec] = (), actions: Iterable[Action] = ()) -> None:
        self._lock = threading.Lock()
        self.specs: dict[str, ParamSpec] = {}
        self.actions: dict[str, Action] = {}
        self._handlers: dict[str, list[Callable[[], None]]] = {}
        self._base: dict[str, Any] = {}
        self._mods: dict[str, dict[str, float]] = {}
        self._versions: dict[str, int] = {}
        self._version = 0
        self._snapshot: Snapshot | None = None
        self._listeners: list[Callable[[Change], None]] = []
        self.refused = 0
        self.refused_by: dict[str, int] = {}    # refusals per writer ("osc", "midi", "key", ...)
        # A gate may hold a valid write or action to re-issue it later (the tempo quantizer puts
        # changes on the beat): gate(name, value, source) -> True when it took it (value None: action).
        self.gate: Callable[[str, Any, str], bool] | None = None
        self.add(specs, actions)

    # -- table ---------------------------------------------------------------------------------
    def add(self, specs: Iterable[ParamSpec] = (), actions: Iterable[Action] = ()) -> None:
        """Register more rows (the app composes engine, display and audio tables)."""
        with self._lock:
            for s in specs:
                if s.name in self.specs or s.name in self.actions:
                    raise ValueError(f"parameter {s.name!r} is defined twice")
                self.specs[s.name] = s
                self._base[s.name] = s.default
                self._versions[s.name] = 0
            for a in actions:
                if a.name in self.specs or a.name in self.actions:
                    raise ValueError(f"action {a.name!r} is defined twice")
                self.actions[a.name] = a
            self._snapshot = None

    # -- writes --------------------------------------------------------------------------------
    def set(self, name: str, value: Any, source: str = "api") -> bool:
        """Validate and apply one write. Returns False (and logs why) when refused."""
        spec = self.specs.get(name)
        if spec is None:
            return self._refuse(f"unknown parameter {name!r}", source)
        if spec.readonly and source != "app":
            return self._refuse(f"{name} is read-only", source)
        ok, why = spec.check(value)
        if not ok:
            return self._refuse(f"{name} {why}, got {value!r}", source)
        value = spec.coerce(value)
        if self.gate is not None and self.gate(name, value, source):
            return True
        with self._lock:
            self._version += 1
            self._base[name] = value
            self._versions[name] = self._version
            self._snapshot = None
            change = Change(name, value, self._version, source)
        for fn in self._listeners:
            fn(change)
        return True

    def set_unit(self, name: str, x: Any, source: str = "api") -> bool:
        """Write from a 0..1 control: the value is mapped onto the parameter's range."""
        spec = self.specs.get(name)
        if spec is None:
            return self._refuse(f"unknown parameter {name!r}", source)
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or not 0 <= x <= 1:
            return self._refuse(f"{name}: a 0..1 control value must be a number in 0..1, got {x!r}", source)
        return self.set(name, spec.from_unit(x), source)

    def modulate(self, name: str, source: str, offset: float) -> None:
        """Set one modulation source's offset on a numeric parameter (0 removes its effect).

        Modulation never touches the base value; the snapshot shows base + sum(offsets), clamped.
        Not versioned per call (audio writes at block rate); consumers read it from snapshots.
        """
        spec = self.specs.get(name)
        if spec is None or not spec.numeric or not math.isfinite(offset):
            self._refuse(f"cannot modulate {name!r} by {offset!r}", source)
            return
        with self._lock:
            self._mods.setdefault(name, {})[source] = float(offset)
            self._snapshot = None

    def trigger(self, name: str, source: str = "api") -> bool:
        """Fire an action; its handlers run in the caller's thread and must be quick."""
        if name not in self.actions:
            return self._refuse(f"unknown action {name!r}", source)
        if self.gate is not None and self.gate(name, None, source):
            return True
        for fn in list(self._handlers.get(name, ())):
            fn()
        with self._lock:
            self._version += 1
            change = Change(name, None, self._version, source)
        for fn in self._listeners:
            fn(change)
        return True

    def on_action(self, name: str, fn: Callable[[], None]) -> None:
        if name not in self.actions:
            raise KeyError(name)
        self._handlers.setdefault(name, []).append(fn)

    def subscribe(self, fn: Callable[[Change], None]) -> None:
        """Call `fn(change)` after every accepted write or action (in the writer's thread)."""
        self._listeners.append(fn)

    def _refuse(self, why: str, source: str) -> bool:
        self.refused += 1
        self.refused_by[source] = self.refused_by.get(source, 0) + 1
        log.warning("refused from %s: %s", source, why)
        return False

    # -- reads ---------------------------------------------------------------------------------
    def get(self, name: str) -> Any:
        return self.snapshot()[name]

    def base(self, name: str) -> Any:
        """The performer's value, without modulation (what feedback echoes and MIDI picks up)."""
        with self._lock:
            return self._base[name]

    def snapshot(self) -> Snapshot:
        snap = self._snapshot
        if snap is not None:
            return snap
        with self._lock:
            values = dict(self._base)
            for name, offsets in self._mods.items():
                spec = self.specs[name]
                values[name] = spec.clamp(values[name] + sum(offsets.values()))
            snap = Snapshot(MappingProxyType(values), self._version)
            self._snapshot = snap
        return snap

    @property
    def version(self) -> int:
        return self._version

    def changes_since(self, version: int) -> dict[str, Any]:
        """Base values of the parameters written after `version`."""
        with self._lock:
            return {n: self._base[n] for n, v in self._versions.items() if v > version}

