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


# -- case 1: every command ends in one sentence, never a traceback ------------------------------
def _run_cli(capsys, *argv: str) -> tuple[int, list[str]]:
    """Exit status and the non-empty stderr lines of `vj ARGV`, run in-process."""
    from vj.cli import main
    rc = main(list(argv))
    out = capsys.readouterr()
    _run_cli.out = out.out
    return rc, [line for line in out.err.splitlines() if line.strip()]


def test_fetch_without_internet_is_one_sentence_at_once(monkeypatch, capsys):
    import socket

    def offline(*_a, **_k):
        raise OSError(-3, "Temporary failure in name resolution")
    monkeypatch.setattr(socket, "create_connection", offline)
    monkeypatch.setattr("huggingface_hub.try_to_load_from_cache", lambda *a, **k: None)
    rc, err = _run_cli(capsys, "fetch", "ViT-B-32:openai")
    assert rc == 2 and len(err) == 1, err
    assert "huggingface.co is not reachable (Temporary failure in name resolution)" in err[0]
    assert "Traceback" not in err[0] and "vj fetch ViT-B-32:openai" in err[0]


def test_fetch_of_a_local_model_needs_no_internet(monkeypatch, capsys):
    import socket
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("no network wanted"))
    rc, _ = _run_cli(capsys, "fetch", "builtin")
    assert rc == 0 and "builtin.safetensors" in _run_cli.out


def test_a_file_error_in_any_command_is_one_sentence(tmp_path, capsys):
    rc, err = _run_cli(capsys, "osc-spec", "--out", str(tmp_path / "no" / "such" / "osc.md"))
    assert rc == 1 and len(err) == 1 and "No such file or directory" in err[0] and "osc.md" in err[0]


def test_an_unexpected_error_is_one_sentence_with_the_way_to_the_details(monkeypatch, capsys):
    monkeypatch.setattr("vj.osc.spec.markdown", lambda: 1 / 0)
    rc, err = _run_cli(capsys, "osc-spec")
    assert rc == 1 and len(err) == 1 and "ZeroDivisionError" in err[0] and "vj -v osc-spec" in err[0]
