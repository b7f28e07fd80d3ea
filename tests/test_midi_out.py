"""MIDI as real controllers speak it: relative encoders, 14-bit CC pairs, and LEDs lit from the state."""
from __future__ import annotations

import time

import mido
import pytest

from tests.osc_tools import wait_for
from vj.midi import MidiInput
from vj.midi.leds import Leds
from vj.midi.mapping import compile_map
from vj.setup import SetupError, load_setup, parse_setup
from vj.tables import app_store


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", control=control, value=value, channel=channel)


def mapped(rows: list[dict], **midi):
    store = app_store()
    setup = parse_setup({"midi": {"device": "x", "takeover": False, **midi, "map": rows}}, "<test>")
    return store, compile_map(setup.midi, store), setup.midi


class FakePort:
    """An output port capturing what is sent."""

    def __init__(self) -> None:
        self.messages: list[mido.Message] = []

    def send(self, msg: mido.Message) -> None:
        self.messages.append(msg)

    def close(self) -> None:
        pass

    def last(self, kind: str, number: int) -> mido.Message | None:
        key = "note" if kind == "note_on" else "control"
        return next((m for m in reversed(self.messages) if m.type == kind and getattr(m, key) == number), None)


# -- MIDI in -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, up, down", [("offset64", 65, 63), ("twos", 1, 127)])
def test_each_detent_of_a_relative_encoder_moves_one_step(encoding, up, down):
    store, mapper, _ = mapped([{"cc": 16, "param": "temperature", "encoder": encoding, "step": 2.5}])
    seen = []
    for value in (up, up, down, up):
        mapper.handle(cc(16, value), store)
        seen.append(store.base("temperature"))
    assert seen == [32.5, 35.0, 32.5, 35.0]                # from 30: never a jump to an end
    mapper.handle(cc(16, up + 2 if encoding == "offset64" else 3), store)   # a fast turn: 3 detents
    assert store.base("temperature") == 42.5


def test_relative_encoders_default_to_a_hundredth_of_the_range_and_stop_at_its_ends():
    store, mapper, _ = mapped([{"cc": 16, "param": "crossfade", "encoder": "twos"},
                               {"cc": 17, "param": "iterations", "encoder": "offset64"}])
    mapper.handle(cc(16, 1), store)
    assert store.base("crossfade") == pytest.approx(0.01)
    for _ in range(3):
        mapper.handle(cc(16, 127 - 9), store)               # 10 down each
    assert store.base("crossfade") == 0.0
    mapper.handle(cc(17, 65), store)
    assert store.base("iterations") == 11                  # whole numbers step by 1


def test_a_14_bit_pair_reaches_values_between_two_7_bit_steps():
    store, mapper, _ = mapped([{"cc": 0, "lsb": 32, "param": "crossfade"}])
    mapper.handle(cc(0, 10), store)                        # MSB alone: LSB 0 (MIDI 1.0)
    assert store.base("crossfade") == pytest.approx(10 * 128 / 16383)
    mapper.handle(cc(32, 100), store)
    value = store.base("crossfade")
    assert value == pytest.approx((10 * 128 + 100) / 16383)
    assert 10 / 127 < value < 11 / 127                     # between two 7-bit steps


@pytest.mark.parametrize("row, key", [
    ({"note": 3, "param": "temperature", "encoder": "twos"}, "encoder"),
    ({"cc": 3, "param": "blackout", "encoder": "twos"}, "encoder"),
    ({"cc": 3, "lsb": 3, "param": "temperature"}, "lsb"),
    ({"cc": 3, "param": "temperature", "encoder": "twos", "step": 0}, "step"),
])
def test_wrong_encoder_rows_name_the_key(row, key):
    with pytest.raises(SetupError, match=rf"midi\.map\[0\]\.{key} "):
        mapped([row])


# -- MIDI out ------------------------------------------------------------------------------------------

def lit(store, midi, mapper, rate: float = 1000.0):
    midi.feedback_rate = rate
    leds = Leds(store, mapper, midi)
    port = FakePort()
    leds.start()
    leds.attach(port)
    return leds, port


def test_selecting_slot_3_lights_pad_3_and_darkens_the_old_one_and_blackout_lights_its_button():
    setup = load_setup("setups/apcmini.toml")
    store = app_store()
    leds, port = lit(store, setup.midi, compile_map(setup.midi, store))
    try:
        assert wait_for(lambda: (m := port.last("note_on", 0)) is not None and m.velocity == 1)   # slot 1 lit
        assert port.last("note_on", 2).velocity == 0
        store.set("prompt.select", 3)
        assert wait_for(lambda: port.last("note_on", 2).velocity == 1)      # pad 3 (note 2) lit green
        assert port.last("note_on", 0).velocity == 0                        # pad 1 dark again
        assert port.last("note_on", 82).velocity == 0
        store.set("blackout", True)
        assert wait_for(lambda: port.last("note_on", 82).velocity == 1)     # the blackout button
    finally:
        leds.stop()


def test_nanokontrol2_buttons_light_by_cc_in_external_led_mode():
    setup = load_setup("setups/nanokontrol2.toml")
    store = app_store()
    leds, port = lit(store, setup.midi, compile_map(setup.midi, store))
    try:
        store.set("prompt.select", 3)
        store.set("blackout", True)
        assert wait_for(lambda: (m := port.last("control_change", 42)) is not None and m.value == 127)   # stop
        assert wait_for(lambda: port.last("control_change", 34).value == 127)      # S3
        assert port.last("control_change", 32).value == 0                          # S1 dark
    finally:
        leds.stop()


def test_faders_and_encoders_show_their_value_for_motor_faders_and_rings():
    store, mapper, midi = mapped([{"cc": 0, "param": "crossfade"}, {"cc": 1, "lsb": 33, "param": "crossfade"},
                                  {"cc": 16, "param": "temperature", "encoder": "twos"}])
    leds, port = lit(store, midi, mapper)
    try:
        store.set("crossfade", 0.5)
        store.set("temperature", 25.0)
        assert wait_for(lambda: port.last("control_change", 16) is not None
                        and port.last("control_change", 16).value == 32)     # 25 of 0..100 -> 32 of 127
        assert wait_for(lambda: port.last("control_change", 33) is not None)
        assert port.last("control_change", 0).value == 64
        assert (port.last("control_change", 1).value, port.last("control_change", 33).value) == (64, 0)
    finally:
        leds.stop()


def test_a_burst_of_1000_changes_sends_at_most_the_rate_limit_latest_value_last():
    store, mapper, midi = mapped([{"cc": 49, "param": "temperature"}])
    leds, port = lit(store, midi, mapper, rate=2.0)
    try:
        assert wait_for(lambda: port.messages)                              # the state at attach
        start = time.monotonic()
        for i in range(1000):
            store.set("temperature", i / 10)
        burst = time.monotonic() - start
        time.sleep(0.6)                                                     # one more interval: the latest goes
        sent = [m.value for m in port.messages if m.control == 49]
    finally:
        leds.stop()
    assert len(sent) <= 2 + int(burst * 2.0) + 1                            # attach + one per 0.5 s, not 1000
    assert sent[-1] == round(99.9 / 100 * 127)                              # the latest value won


def test_the_service_opens_the_output_named_like_the_input_and_lights_it():
    class Backend:
        def __init__(self) -> None:
            self.port = FakePort()

        def names(self):
            return ["APC MINI MIDI 1"]

        def open(self, name, callback):
            return FakePort()

        def output_names(self):
            return ["Midi Through", "APC MINI MIDI 1"]

        def open_output(self, name):
            self.opened = name
            return self.port

    backend = Backend()
    setup = load_setup("setups/apcmini.toml")
    inp = MidiInput.from_setup(setup, app_store(), backend=backend, poll_s=10)
    inp.start()
    try:
        assert wait_for(lambda: (m := backend.port.last("note_on", 0)) is not None and m.velocity == 1)
        assert backend.opened == "APC MINI MIDI 1"
    finally:
        inp.stop()
