"""MIDI out: the controller shows the state, as OSC feedback shows it on a tablet.

Each mapped control says what it should show (`Binding.shown`): a pad or button is lit or dark
(the APC mini's slot pads, the nanoKONTROL2's buttons in external LED mode), a fader or encoder
sits at a position (motor faders, LED rings). When a parameter changes, its controls are marked in
a Throttle (vj/throttle.py, the same latest-wins, rate-limited mechanism as OSC feedback), so a
fader dragged at 1000 messages a second sends at most `[midi] feedback_rate` messages a second per
control, always the latest state. Opening the port lights everything at once.
"""
from __future__ import annotations

import logging
from typing import Any

import mido

from engine.params import Change, ParamStore

from ..setup import MidiSetup
from ..throttle import Throttle
from .mapping import Binding, Fader, Mapper

log = logging.getLogger(__name__)


def led_messages(b: Binding, shown: bool | float | None, on: int, off: int) -> list[mido.Message]:
    """The MIDI messages that make control `b` show `shown`.

    Lit/dark: note-on with velocity `on`/`off` (a note-on at 0 is a note-off), or the CC at
    `on`/`off`. A position 0..1: the CC at 0..127, or a 14-bit pair (MSB then LSB) for 14-bit faders.
    """
    if shown is None:
        return []
    channel = b.channel or 0
    if isinstance(shown, bool):
        value = on if shown else off
        if b.kind == "note":
            return [mido.Message("note_on", note=b.number, velocity=value, channel=channel)]
        return [mido.Message("control_change", control=b.number, value=value, channel=channel)]
    if b.kind != "cc":
        return []
    if isinstance(b, Fader) and b.lsb >= 0:
        v = round(shown * 16383)
        return [mido.Message("control_change", control=b.number, value=v >> 7, channel=channel),
                mido.Message("control_change", control=b.lsb, value=v & 127, channel=channel)]
    return [mido.Message("control_change", control=b.number, value=round(shown * 127), channel=channel)]


class Leds:
    """Sends what the mapped controls should show to an output port (anything with `send(msg)`).

    `attach(port)` when the output opens (everything is sent once), `attach(None)` when it goes;
    `sent` counts messages sent. Runs its own Throttle thread between `start()` and `stop()`.
    """

    def __init__(self, store: ParamStore, mapper: Mapper, midi: MidiSetup) -> None:
        self.store, self.mapper, self.on, self.off = store, mapper, midi.on, midi.off
        self.port: Any = None
        self.sent = 0
        self._targets: frozenset[str] = frozenset()
        self._seen: list[Binding] | None = None                # the bindings list _targets was made from
        self._throttle = Throttle(self._deliver, midi.feedback_rate, "midi-leds")
        store.subscribe(self._on_change)

    def start(self) -> None:
        self._throttle.start()

    def stop(self) -> None:
        self._throttle.stop()

    def attach(self, port: Any) -> None:
        self.port = port
        if port is not None:
            for target in self.targets():
                self._throttle.mark(target)

    def targets(self) -> frozenset[str]:
        bindings = self.mapper.bindings                       # MIDI learn replaces the list
        if bindings is not self._seen:
            self._targets, self._seen = frozenset(b.target for b in bindings), bindings
        return self._targets

    def _on_change(self, change: Change) -> None:
        if change.name in self.targets() and not self._throttle.stopped:
            self._throttle.mark(change.name)

    def _deliver(self, keys: list[str]) -> None:
        port = self.port
        if port is None or not keys:
            return
        wanted = set(keys)
        for b in self.mapper.bindings:
            if b.target in wanted:
                for msg in led_messages(b, b.shown(self.store), self.on, self.off):
                    port.send(msg)
                    self.sent += 1
