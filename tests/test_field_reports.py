"""Issue 15's field reports: each failing input, and more of its kind, as the behaviour it should have.

Kinds: text files load as editors save them; every command ends in one sentence; no loop waits for
a state that cannot come; a limit the performer hits is visible; every HUD counter counts what its
label says; feedback equals what is shown; adjustments are said once.
"""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from vj.setup import SetupError, load_setup

SETUP_TEXT = 'name = "café show"\n[[prompts]]\ntext = "un cœur rouge"\n[midi]\ndevice = "nano"\n'


# -- case 4: text files as any OS or editor saves them ------------------------------------------
@pytest.mark.parametrize("encode", [
    lambda t: codecs.BOM_UTF8 + t.encode(),                              # Windows Notepad (UTF-8)
    lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),               # Notepad's "Unicode"
    lambda t: t.replace("\n", "\r\n").encode(),                          # CRLF
    lambda t: t.replace("\n", "\r").encode(),                            # classic Mac CR
], ids=["utf8-bom", "utf16-bom", "crlf", "cr"])
def test_setups_load_as_editors_save_them(tmp_path, encode):
    path = tmp_path / "show.toml"
    path.write_bytes(encode(SETUP_TEXT))
    setup = load_setup(path)
    assert setup.name == "café show" and setup.prompts[0].text == "un cœur rouge"


def test_a_latin1_setup_names_the_encoding_and_the_byte(tmp_path):
    path = tmp_path / "show.toml"
    path.write_bytes(SETUP_TEXT.replace("cœur", "coeur").encode("latin-1"))
    with pytest.raises(SetupError) as e:
        load_setup(path)
    msg = str(e.value)
    assert "not UTF-8" in msg and "0xe9 at line 1, column 12" in msg and "save it as UTF-8" in msg


def test_midi_learn_keeps_a_windows_setup_readable_in_its_own_encoding(tmp_path):
    from vj.midi.learn import save_row
    path = tmp_path / "show.toml"
    path.write_bytes(codecs.BOM_UTF8 + SETUP_TEXT.replace("\n", "\r\n").encode())
    save_row(path, {"cc": 16, "channel": 1, "param": "temperature"})
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8) and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    setup = load_setup(path)
    assert setup.name == "café show" and [(m.cc, m.param) for m in setup.midi.map] == [(16, "temperature")]
