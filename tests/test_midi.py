"""MIDI: mido messages fed through the same input path a real port uses (these machines have none)."""
from __future__ import annotations

import logging
import threading
import time

import mido
import pytest
import tomlkit

from tests.osc_tools import start_server, wait_for
from vj.midi import MidiInput
from vj.midi.curves import CURVES, shape, unshape
from vj.setup import MIDI_CURVES, SetupError, load_setup, parse_setup
from vj.tables import app_store


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", control=control, value=value, channel=channel)


def note(n: int, velocity: int = 127, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", note=n, velocity=velocity, channel=channel)


def off(n: int, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", note=n, channel=channel)


def midi_input(rows: list[dict], store=None, **midi) -> MidiInput:
    setup = parse_setup({"midi": {"device": "nanoKONTROL2", **midi, "map": rows}}, "<test>")
    return MidiInput.from_setup(setup, store or app_store(), backend=FakeBackend([]))


def feed(inp: MidiInput, *messages: mido.Message) -> None:
    """What the port callback does, then what the worker thread does."""
    for m in messages:
        inp.receive(m)
    inp.process_pending()


class FakeBackend:
    """Port names that tests can plug and unplug; an opened port hands messages to the callback."""

    def __init__(self, names: list[str]) -> None:
        self.names_now = list(names)
        self.opened: list[str] = []
        self.callback = None

    def names(self) -> list[str]:
        return list(self.names_now)

    def open(self, name: str, callback):
        self.opened.append(name)
        self.callback = callback
        return self

    def close(self) -> None:
        self.callback = None

    def output_names(self) -> list[str]:
        return []


# -- curves and mapping ------------------------------------------------------------------------------

def test_curves_match_the_setup_choices_and_invert():
    assert set(CURVES) == set(MIDI_CURVES)
    for name in CURVES:
        assert shape(name, 0.0) == pytest.approx(0.0) and shape(name, 1.0) == pytest.approx(1.0)
        for x in (0.1, 0.37, 0.5, 0.9):
            assert unshape(name, shape(name, x)) == pytest.approx(x)
    assert shape("square", 0.5) == 0.25 and shape("sqrt", 0.25) == 0.5
    assert shape("exp", 0.5) < 0.1 and shape("log", 0.5) > 0.85


def test_cc_moves_a_parameter_over_its_range_or_lo_hi_along_a_curve():
    inp = midi_input([{"cc": 0, "param": "crossfade"},
                      {"cc": 16, "param": "temperature", "lo": 20, "hi": 80},
                      {"cc": 17, "param": "lr", "curve": "exp"},
                      {"cc": 18, "param": "iterations"},
                      {"cc": 19, "param": "mode"}], takeover=False)
    feed(inp, cc(0, 127), cc(16, 0), cc(17, 64), cc(18, 64), cc(19, 127))
    s = inp.store
    assert s.base("crossfade") == 1.0
    assert s.base("temperature") == 20.0
    assert s.base("lr") == pytest.approx(0.001 + shape("exp", 64 / 127) * 0.999)
    assert s.base("iterations") == round(1 + 64 / 127 * 499) and isinstance(s.base("iterations"), int)
    assert s.base("mode") == "schedule"
    feed(inp, cc(16, 127))
    assert s.base("temperature") == 80.0


def test_notes_and_buttons_select_trigger_toggle_and_hold():
    inp = midi_input([{"note": 2, "param": "prompt.select", "value": 3},
                      {"note": 82, "param": "blackout"},
                      {"note": 83, "param": "freeze", "hold": True},
                      {"cc": 41, "action": "next"}])
    s = inp.store
    for i in (1, 2, 3, 4):
        s.set(f"prompt.{i}", f"slot {i}")
    feed(inp, note(2), off(2))
    assert s.base("prompt.select") == 3
    feed(inp, note(82), off(82))
    assert s.base("blackout") is True
    feed(inp, note(82), note(82, velocity=0))                    # note-on with velocity 0 is a release
    assert s.base("blackout") is False
    feed(inp, note(83))
    assert s.base("freeze") is True
    feed(inp, off(83))
    assert s.base("freeze") is False
    feed(inp, cc(41, 127), cc(41, 127), cc(41, 0))               # one press, however long it is held
    assert s.base("prompt.select") == 4


def test_channels_filter_and_unmapped_messages_are_counted():
    inp = midi_input([{"cc": 0, "param": "crossfade", "channel": 2}], takeover=False)
    feed(inp, cc(0, 127, channel=0), mido.Message("clock"), mido.Message("pitchwheel", pitch=100))
    assert inp.store.base("crossfade") == 0.0 and inp.unmapped == 3
    feed(inp, cc(0, 127, channel=1))
    assert inp.store.base("crossfade") == 1.0


# -- soft takeover -----------------------------------------------------------------------------------

def test_soft_takeover_waits_until_the_knob_passes_the_current_value():
    inp = midi_input([{"cc": 0, "param": "crossfade"}])
    s = inp.store
    s.set("crossfade", 0.8, "osc")
    for v in (0, 20, 40, 60, 80, 100):                           # knob below the value: nothing moves
        feed(inp, cc(0, v))
        assert s.base("crossfade") == 0.8
    feed(inp, cc(0, 104))                                        # passes 0.8 (= 101.6 / 127): picked up
    assert s.base("crossfade") == pytest.approx(104 / 127)
    feed(inp, cc(0, 50))                                         # now it follows, down as well
    assert s.base("crossfade") == pytest.approx(50 / 127)


def test_soft_takeover_picks_up_again_after_another_control_moved_the_value():
    inp = midi_input([{"cc": 0, "param": "temperature"}])
    s = inp.store
    s.set("temperature", 0.0)
    feed(inp, cc(0, 0), cc(0, 64))
    assert s.base("temperature") == pytest.approx(64 / 127 * 100)
    s.set("temperature", 90.0, "osc")                            # TouchOSC moves it away
    feed(inp, cc(0, 70))
    assert s.base("temperature") == 90.0
    feed(inp, cc(0, 127))                                        # jumps over 90 (114.3): picked up
    assert s.base("temperature") == 100.0


def test_soft_takeover_with_a_curve_compares_positions_not_values():
    inp = midi_input([{"cc": 0, "param": "lr", "curve": "exp"}])
    s = inp.store
    s.set("lr", 0.1)                        # 10% of the range, but half-way on an exp knob (CC 65.7)
    feed(inp, cc(0, 10), cc(0, 20), cc(0, 40), cc(0, 60))
    assert s.base("lr") == 0.1
    feed(inp, cc(0, 70))
    assert s.base("lr") == pytest.approx(0.001 + shape("exp", 70 / 127) * 0.999)


def test_without_takeover_the_value_jumps():
    inp = midi_input([{"cc": 0, "param": "crossfade"}], takeover=False)
    inp.store.set("crossfade", 0.8)
    feed(inp, cc(0, 0))
    assert inp.store.base("crossfade") == 0.0


# -- learn -------------------------------------------------------------------------------------------

SETUP_WITH_COMMENTS = """\
# my show: comments must survive MIDI learn
name = "learn-test"

[midi]
device = "nanoKONTROL2"   # the Korg on the left

# fader 1 rides the cross-fade
[[midi.map]]
cc = 0
param = "crossfade"
"""


def test_learn_maps_the_moved_control_saves_it_and_it_reloads(tmp_path):
    path = tmp_path / "show.toml"
    path.write_text(SETUP_WITH_COMMENTS)
    store = app_store()
    hud: list[str] = []
    inp = MidiInput.from_setup(load_setup(path), store, backend=FakeBackend([]), warnings=hud)
    store.set("learn", "temperature", "osc")
    feed(inp)
    assert inp.armed == "temperature" and hud == ["MIDI LEARN: MOVE A CONTROL FOR temperature"]
    feed(inp, cc(16, 0, channel=0))                              # the knob the performer turned
    assert store.base("learn") == "" and "CC 16" in inp.learned and hud == []
    feed(inp, cc(16, 0), cc(16, 127))                            # and it works at once
    assert store.base("temperature") == 100.0
    text = path.read_text()
    assert "# my show: comments must survive MIDI learn" in text and "# the Korg on the left" in text
    reloaded = load_setup(path)
    rows = [(r.cc, r.param, r.channel) for r in reloaded.midi.map]
    assert rows == [(0, "crossfade", 0), (16, "temperature", 1)]
    store2 = app_store()
    again = MidiInput.from_setup(reloaded, store2, backend=FakeBackend([]))
    feed(again, cc(16, 0), cc(16, 127))
    assert store2.base("temperature") == 100.0


def test_learn_replaces_the_old_job_of_a_control_and_pads_keep_the_value(tmp_path):
    path = tmp_path / "show.toml"
    path.write_text(SETUP_WITH_COMMENTS)
    store = app_store()
    inp = MidiInput.from_setup(load_setup(path), store, backend=FakeBackend([]))
    store.set("learn", "noise")
    feed(inp, cc(0, 5))                                          # fader 1 now drives noise, not cross-fade
    store.set("prompt.select", 4)
    store.set("learn", "prompt.select")
    feed(inp, note(36, velocity=0), note(36))                    # a release is no move; the press is
    rows = [(r.cc, r.note, r.param, r.value) for r in load_setup(path).midi.map]
    assert rows == [(0, -1, "noise", None), (-1, 36, "prompt.select", 4)]
    store.set("prompt.select", 1)
    feed(inp, note(36))
    assert store.base("prompt.select") == 4


def test_learn_armed_over_osc_end_to_end(tmp_path):
    path = tmp_path / "show.toml"
    path.write_text(SETUP_WITH_COMMENTS)
    store = app_store()
    backend = FakeBackend(["nanoKONTROL2 nanoKONTROL2 _ CTRL 20:0"])
    inp = MidiInput.from_setup(load_setup(path), store, backend=backend)
    server = start_server(store, feedback=False)
    inp.start()
    try:
        from pythonosc.udp_client import SimpleUDPClient
        SimpleUDPClient("127.0.0.1", server.port).send_message("/vj/learn", "next")
        assert wait_for(lambda: inp.armed == "next" and backend.callback is not None)
        backend.callback(cc(45, 127))                            # rtmidi's thread calls the callback
        assert wait_for(lambda: store.base("learn") == "")
    finally:
        inp.stop()
        server.stop()
    assert [(r.cc, r.action) for r in load_setup(path).midi.map][-1] == (45, "next")


def test_learning_an_unknown_name_is_one_sentence_and_disarms(caplog):
    inp = midi_input([])
    inp.store.set("learn", "temprature")
    feed(inp)
    assert inp.armed is None and inp.store.base("learn") == ""
    assert any("no parameter or action named 'temprature'" in r.getMessage() for r in caplog.records)


def test_learn_without_a_midi_device_is_one_sentence(caplog):
    store = app_store()
    MidiInput.from_setup(parse_setup({}, "<test>"), store)
    store.set("learn", "zoom", "osc")
    assert store.base("learn") == ""
    assert [r.getMessage() for r in caplog.records if r.name.startswith("vj.midi")] == [
        "MIDI learn for zoom: <setup> names no [midi] device to learn from; add one and restart."]


def test_learn_without_a_setup_file_still_maps():
    inp = midi_input([])
    inp.store.set("learn", "zoom")
    feed(inp, cc(7, 0))
    assert "until the show ends" in inp.learned
    feed(inp, cc(7, 127))
    assert inp.store.base("zoom") == 1.0


# -- the device --------------------------------------------------------------------------------------

def test_a_missing_device_is_one_clear_sentence_then_it_opens_when_plugged_in(caplog):
    caplog.set_level(logging.INFO, logger="vj.midi")
    backend = FakeBackend(["Midi Through Port-0"])
    setup = parse_setup({"midi": {"device": "nanoKONTROL2", "map": [{"cc": 0, "param": "crossfade"}],
                                  "takeover": False}}, "<test>")
    hud: list[str] = []
    inp = MidiInput.from_setup(setup, app_store(), backend=backend, poll_s=0.02, warnings=hud)
    inp.start()
    try:
        def warnings():
            return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert wait_for(lambda: warnings())
        time.sleep(0.2)                                          # ten more looks: said once only
        assert inp.status == "not connected" and backend.opened == []
        assert hud == ["MIDI nanoKONTROL2: NOT CONNECTED"]
        assert warnings() == ["MIDI device 'nanoKONTROL2' is not connected (MIDI inputs now: 'Midi Through Port-0'); "
                              "plug it in and it is opened within 0.02 s, or fix [midi] device in the setup. "
                              "The show goes on without it."]
        backend.names_now.append("nanoKONTROL2 MIDI 1")         # plugged in
        assert wait_for(lambda: inp.status == "open" and backend.callback is not None)
        assert hud == []
        backend.callback(cc(0, 127))
        assert wait_for(lambda: inp.store.base("crossfade") == 1.0)
        backend.names_now.remove("nanoKONTROL2 MIDI 1")         # unplugged mid-show
        assert wait_for(lambda: inp.status == "unplugged")
        assert hud == ["MIDI nanoKONTROL2: UNPLUGGED"]
        backend.names_now.append("nanoKONTROL2 MIDI 1")         # and back
        assert wait_for(lambda: inp.status == "open")
    finally:
        inp.stop()
    assert backend.opened == ["nanoKONTROL2 MIDI 1", "nanoKONTROL2 MIDI 1"]
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 2 and "was unplugged; it is reopened when it comes back" in said[1]


def test_the_real_backend_on_a_machine_without_the_device_says_so_and_does_not_raise(caplog):
    setup = parse_setup({"midi": {"device": "no such controller 1234"}}, "<test>")
    inp = MidiInput.from_setup(setup, app_store())
    inp.poll()
    inp.poll()
    assert inp.status != "open"
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("vj.midi")]
    assert len(said) == 1
    assert "MIDI is not available on this machine" in said[0] or "'no such controller 1234' is not connected" in said[0]


def test_the_callback_only_hands_off():
    inp = midi_input([{"cc": 0, "param": "crossfade"}], takeover=False)
    inp.receive(cc(0, 127))                                      # on the callback's thread: queued only
    assert inp.store.base("crossfade") == 0.0
    t = threading.Thread(target=inp.process_pending)
    t.start()
    t.join()
    assert inp.store.base("crossfade") == 1.0


# -- bad rows ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("row, key, words", [
    ({"cc": 0, "param": "temprature"}, "midi.map[0].param", "names no parameter"),
    ({"cc": 0, "note": 3, "param": "zoom"}, "midi.map[0].cc", "one of them"),
    ({"cc": 0}, "midi.map[0].param", "one of them"),
    ({"cc": 0, "action": "explode"}, "midi.map[0].action", "names no action"),
    ({"note": 3, "param": "temperature"}, "midi.map[0].value", "is needed"),
    ({"cc": 0, "param": "temperature", "lo": -5}, "midi.map[0].lo", "range 0..100"),
    ({"cc": 0, "param": "zoom", "hold": True}, "midi.map[0].hold", "on/off"),
    ({"note": 3, "param": "prompt.select", "value": 9}, "midi.map[0].value", "must be in 1..8"),
    ({"cc": 0, "param": "prompt.1"}, "midi.map[0].param", "text"),
])
def test_bad_rows_name_the_file_and_key(tmp_path, row, key, words):
    path = tmp_path / "bad.toml"
    path.write_text(tomlkit.dumps({"midi": {"map": [row]}}))
    with pytest.raises(SetupError) as e:
        MidiInput.from_setup(load_setup(path), app_store())
    assert str(e.value).startswith(f"{path}: {key} ") and words in str(e.value)


# -- the command line --------------------------------------------------------------------------------

def test_vj_midi_learn_maps_the_next_moved_control_into_the_file(tmp_path):
    from vj.midi.tools import learn_from_device
    path = tmp_path / "show.toml"
    path.write_text(SETUP_WITH_COMMENTS)
    backend = FakeBackend(["nanoKONTROL2 MIDI 1"])

    def turn_a_knob():
        assert wait_for(lambda: backend.callback is not None)
        time.sleep(0.1)
        backend.callback(cc(17, 90))
    threading.Thread(target=turn_a_knob, daemon=True).start()
    said = learn_from_device(load_setup(path), "noise", timeout=10, backend=backend)
    assert said.startswith("CC 17 on channel 1 now drives noise (saved to")
    assert [(r.cc, r.param) for r in load_setup(path).midi.map][-1] == (17, "noise")


def test_vj_midi_learn_without_the_device_is_one_sentence(tmp_path, capsys):
    from vj.cli import main
    path = tmp_path / "show.toml"
    path.write_text(SETUP_WITH_COMMENTS)
    assert main(["midi-learn", str(path), "temperature", "--timeout", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"vj: {path}: MIDI device 'nanoKONTROL2' could not be opened")
    assert path.read_text() == SETUP_WITH_COMMENTS
