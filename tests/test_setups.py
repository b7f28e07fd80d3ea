"""Setup files: every shipped show loads and wires up; a broken one says which file and key."""
from __future__ import annotations

from pathlib import Path

import pytest

from vj.midi import MidiInput
from vj.osc import OscServer
from vj.setup import SETUPS_DIR, SetupError, apply_to_store, load_setup
from vj.tables import app_store

SHIPPED = sorted(SETUPS_DIR.glob("*.toml"))


def test_the_documented_setups_are_shipped():
    assert {p.stem for p in SHIPPED} >= {"default", "touchosc", "nanokontrol2", "apcmini"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_setup_loads_and_its_controls_compile(path):
    setup = load_setup(path)
    store = app_store()
    apply_to_store(setup, store)
    midi = MidiInput.from_setup(setup, store)
    OscServer.from_setup(setup, store)
    assert setup.prompts, "a shipped show paints something"
    if setup.midi.device:
        assert midi.mapper.bindings, "a controller setup maps its controls"


def test_factory_layouts_of_the_controllers():
    nano = load_setup("nanokontrol2").midi
    ccs = {r.cc for r in nano.map}
    assert set(range(0, 8)) <= ccs and set(range(16, 24)) <= ccs and set(range(32, 40)) <= ccs
    assert {41, 42, 43, 44, 45, 46, 58, 59, 60, 61, 62} <= ccs and nano.channel == 1
    apc = load_setup("apcmini").midi
    notes = {r.note for r in apc.map}
    assert set(range(0, 8)) <= notes and set(range(64, 72)) <= notes and 82 in notes
    assert {r.cc for r in apc.map if r.cc >= 0} == set(range(48, 57))


@pytest.mark.parametrize("text, key, words", [
    ("[osc]\nprot = 8000\n", "'osc.prot'", "unknown key"),
    ("[midi]\ndevice = 7\n", "midi.device", "must be text"),
    ("[osc]\nport = 70000\n", "osc.port", "must be in 1..65535"),
    ("[osc]\nfeedback_rate = 0\n", "osc.feedback_rate", "must be in 1..1000"),
    ("[[midi.map]]\ncc = 200\nparam = 'zoom'\n", "midi.map[0].cc", "must be in -1..127"),
    ("[[midi.map]]\ncc = 1\nparam = 'zoom'\ncurve = 'wobbly'\n", "midi.map[0].curve", "must be one of linear"),
    ("[[midi.map]]\ncc = 1\nparm = 'zoom'\n", "'midi.map[0].parm'", "unknown key"),
    ("[midi]\ntakeover = 'yes'\n", "midi.takeover", "must be true or false"),
    ("[params]\ntemprature = 3\n", "'params.temprature'", "unknown key"),
])
def test_bad_setup_files_name_the_file_and_the_key(tmp_path, text, key, words):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(SetupError) as e:
        setup = load_setup(path)
        apply_to_store(setup, app_store())
    message = str(e.value)
    assert message.startswith(f"{path}: ") and key in message and words in message, message


def test_a_bad_feedback_host_names_the_file_and_key(tmp_path):
    path = tmp_path / "hosts.toml"
    path.write_text('[osc]\nfeedback_hosts = ["192.168.1.20:notaport"]\n')
    with pytest.raises(SetupError, match=r"hosts.toml: osc.feedback_hosts\[0\] port 'notaport' is not a number"):
        OscServer.from_setup(load_setup(path), app_store())


def test_a_missing_setup_file_names_it():
    with pytest.raises(SetupError, match=r"^shows/nowhere.toml: no such setup file"):
        load_setup(Path("shows/nowhere.toml"))


def test_set_overrides_change_a_setup_without_editing_it_and_are_checked_as_the_file_is(tmp_path):
    """`vj run SETUP --set osc.port=8001`: a second show on one machine, no file to copy."""
    from vj.cli import build_parser
    from vj.setup import SetupError, load_setup
    setup = load_setup("default", ["osc.port=8001", "web.port=8081", "params.temperature=55",
                                   "generator.parametrization=pixels"])
    assert (setup.osc.port, setup.web.port, setup.params["temperature"]) == (8001, 8081, 55)
    assert setup.generator.parametrization == "pixels" and setup.path.name == "default.toml"
    with pytest.raises(SetupError, match="osc.port"):
        load_setup("default", ["osc.port=eight"])                 # the file's own checks
    with pytest.raises(SetupError, match="not KEY=VALUE"):
        load_setup("default", ["osc.port"])
    args = build_parser().parse_args(["run", "default", "--set", "osc.port=8001", "--set", "web.port=8081"])
    assert args.set == ["osc.port=8001", "web.port=8081"]


def test_a_typo_in_a_setup_key_is_answered_with_the_key_meant(tmp_path):
    from vj.setup import SetupError, apply_to_store, load_setup
    with pytest.raises(SetupError, match=r"'params.temprature' \(did you mean 'temperature'\?\)"):
        apply_to_store(load_setup("default", ["params.temprature=40"]), app_store())   # params meet the table
    with pytest.raises(SetupError, match=r"'generator.widht' in \[generator\] \(did you mean 'width'\?\)"):
        load_setup("default", ["generator.widht=640"])
    with pytest.raises(SetupError) as far:
        apply_to_store(load_setup("default", ["params.zzzz=1"]), app_store())
    assert "did you mean" not in str(far.value)          # nothing close: no guess
