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


# -- case 2: no loop waits for a state that cannot come; the reason is said ---------------------
def _empty_prompt_setup(**params):
    from tests.conftest import small_setup
    setup = small_setup(**params)
    setup.prompts = []
    return setup


def test_render_of_a_setup_without_prompts_says_why_at_once(tmp_path):
    from vj.render import render
    with pytest.raises(SetupError, match="nothing to render, every prompt slot is empty"):
        render(_empty_prompt_setup(), 3, tmp_path / "out", progress=False)


def test_render_of_a_paused_setup_says_why_at_once(tmp_path):
    from vj.render import render
    from tests.conftest import small_setup
    with pytest.raises(SetupError, match="nothing to render, paused"):
        render(small_setup(pause=True), 3, tmp_path / "out", progress=False)


def test_the_live_generator_waits_quietly_and_the_hud_says_why(caplog):
    import logging
    import time

    from vj.display.hud import Status, describe
    from vj.show import build_show
    caplog.set_level(logging.INFO, logger="engine.generator")
    show = build_show(_empty_prompt_setup())
    gen = show.generator.start()
    try:
        time.sleep(0.3)
        assert gen.iterations == 0
        idle = gen.idle_reason()
        lines = [text for text, _ in describe(show.store.snapshot(), None, Status(idle=idle))]
        assert any(line.startswith("WAITING: every prompt slot is empty") for line in lines), lines
        show.store.set("prompt.3", "a red circle", "osc")
        deadline = time.monotonic() + 20
        while show.bus.latest() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert show.bus.latest() is not None and gen.idle_reason() is None
    finally:
        gen.stop()
    said = [r.getMessage() for r in caplog.records if r.name == "engine.generator"]
    assert said[0].startswith("the generator waits: every prompt slot is empty") and said[1] == "the generator paints again"


# -- case 6: every counter on the HUD counts what its label says ---------------------------------
def test_the_hud_refused_counter_counts_osc_refusals(xvfb):
    from pythonosc.udp_client import SimpleUDPClient

    from tests.conftest import small_setup
    from tests.osc_tools import start_server, wait_for
    from vj.app import build
    from vj.display import DisplayApp, FixedStepClock
    setup = small_setup()
    show, _ = build(setup)
    server = start_server(show.store)
    app = DisplayApp(show, clock=FixedStepClock(60))
    app.input_counters[server.source] = lambda: server.refused
    try:
        c = SimpleUDPClient("127.0.0.1", server.port)
        c.send_message("/vj/no/such/thing", 1.0)                   # refused before the store
        c.send_message("/vj/temperature", 1000.0)                  # out of range
        assert wait_for(lambda: server.refused == 2)
        show.store.set("views", 10_000, "midi")                    # a MIDI write the store refuses
        assert app.status().refused == 3
    finally:
        server.stop()
        app.close()


def test_the_hud_generator_rate_falls_to_zero_when_frames_stop():
    from engine.generator import Rate
    rate = Rate(8)
    for i in range(8):
        rate.tick(10.0 + i * 0.5)                                  # 2 frames/s, then nothing
    assert rate.per_s(13.6) == pytest.approx(2.0)
    assert rate.per_s(13.5 + 100) < 0.1                            # 100 s later: not still 2


# -- case 7: feedback always equals what is shown -----------------------------------------------
@pytest.fixture
def osc_show():
    from tests.osc_tools import Listener, start_server
    from vj.tables import app_store
    store = app_store()
    listener = Listener()
    server = start_server(store, feedback_port=listener.port)
    yield store, server, listener
    server.stop()
    listener.close()


def test_selecting_an_empty_slot_feeds_back_the_slot_that_paints(osc_show):
    from pythonosc.udp_client import SimpleUDPClient

    from engine.controls import filled_slots
    from engine.schedule import live_mix
    from tests.osc_tools import wait_for
    store, server, listener = osc_show
    store.set("prompt.4", "a red circle")
    c = SimpleUDPClient("127.0.0.1", server.port)
    c.send_message("/vj/prompt/select", 6)
    snap_mix = lambda: live_mix(store.snapshot()["prompt.select"], 0.0, filled_slots(store.snapshot()))  # noqa: E731
    assert wait_for(lambda: store.base("prompt.select") == 6) and snap_mix() == ((4, 1.0),)
    assert wait_for(lambda: listener.last("/vj/prompt/select") == 4)
    assert wait_for(lambda: listener.last("/vj/prompt/active") == "a red circle")


def test_emptying_the_painting_slot_feeds_back_the_one_that_takes_over(osc_show):
    from pythonosc.udp_client import SimpleUDPClient

    from tests.osc_tools import wait_for
    store, server, listener = osc_show
    store.set("prompt.2", "a blue square")
    store.set("prompt.5", "a green ring")
    c = SimpleUDPClient("127.0.0.1", server.port)
    c.send_message("/vj/prompt/select", 5)
    assert wait_for(lambda: listener.last("/vj/prompt/active") == "a green ring")
    c.send_message("/vj/prompt/5", "")
    assert wait_for(lambda: listener.last("/vj/prompt/select") == 2)
    assert wait_for(lambda: listener.last("/vj/prompt/active") == "a blue square")


def test_in_schedule_mode_feedback_names_the_slot_the_deck_paints():
    """The deck moves on by frame count while prompt.select stays: labels must follow the deck."""
    from pythonosc.udp_client import SimpleUDPClient

    from tests.conftest import small_setup
    from tests.osc_tools import Listener, start_server, wait_for
    from vj.show import build_show
    show = build_show(small_setup(mode="schedule", loop=False))
    listener = Listener()
    server = start_server(show.store, feedback_port=listener.port)
    try:
        SimpleUDPClient("127.0.0.1", server.port).send_message("/vj/sync", [])
        while show.generator.frame_index < 4:                  # past the fade from slot 1 to slot 2
            show.generator.step()
        assert show.store.base("prompt.select") == 1 and show.store.get("prompt.painting") == 2
        assert wait_for(lambda: listener.last("/vj/prompt/active") == "a blue square")
        assert wait_for(lambda: listener.last("/vj/prompt/select") == 2)
    finally:
        server.stop()
        listener.close()


# -- case 5: the HUD shows what performers type, in their own language --------------------------
def test_the_hud_font_draws_accents_and_scripts_and_a_box_only_for_what_it_lacks():
    import numpy as np

    from vj.display.font import FALLBACK
    from vj.display.hud import FontAtlas
    atlas = FontAtlas(14)
    keys = atlas.keys("un cœur rouge 🔥")
    assert keys[:-1] == list("un cœur rouge ") and keys[-1] == FALLBACK     # only the emoji lacks a glyph
    assert atlas.keys("Привет éà ß ½") == list("Привет éà ß ½") and atlas.missing == {"🔥"}

    def cell(key):
        u0, v0, u1, v1 = atlas.uv[key]
        w, h = atlas.image.size
        return np.asarray(atlas.image)[round(v0 * h):round(v1 * h), round(u0 * w):round(u1 * w)]
    assert cell("œ").max() == 255 and not np.array_equal(cell("œ")[:, :cell("?").shape[1]], cell("?"))
    assert atlas.keys("e\u0301") == ["é"]                                    # decomposed accents: one glyph
    assert atlas.keys("❤\ufe0f a\u200db") == atlas.keys("❤ ab")              # variation selector, ZWJ: no room
    rows = atlas.layout([("un cœur rouge 🔥", (1, 1, 1, 1))])
    assert len(rows) == 1 + len("uncœurrouge") + 1                          # panel, letters, one box


# -- case 3: a limit the performer hits is visible where they look ------------------------------
LONG = "a big yellow ring on a purple background and " * 4           # 36 tokens; builtin reads 30


def test_a_prompt_longer_than_the_model_reads_is_said_on_the_hud_log_and_osc(caplog, osc_show):
    import logging

    from pythonosc.udp_client import SimpleUDPClient

    from tests.osc_tools import wait_for
    from vj.display.hud import Status, describe
    from vj.show import build_show
    from tests.conftest import small_setup
    store, server, listener = osc_show
    caplog.set_level(logging.WARNING, logger="engine.generator")
    setup = small_setup(model="builtin")
    show = build_show(setup, store)
    SimpleUDPClient("127.0.0.1", server.port).send_message("/vj/prompt/3", LONG + "red")
    assert wait_for(lambda: store.base("prompt.3") == LONG + "red")
    show.generator.step()
    cut = store.base("prompt.cut")
    assert cut == "slot 3: 37 tokens, the model reads 30, ignores \"ring on a purple background and red\""
    assert wait_for(lambda: listener.last("/vj/prompt/cut") == cut)                  # OSC feedback
    assert any(line.startswith("PROMPT TOO LONG  slot 3: 37 tokens")
               for line, _ in describe(store.snapshot(), None, Status()))           # the HUD
    assert [r.getMessage() for r in caplog.records if "longer than the model reads" in r.getMessage()]
    show.generator.step()
    assert len([r for r in caplog.records if "longer than the model reads" in r.getMessage()]) == 1   # once
    store.set("prompt.3", "a red ring")
    show.generator.step()
    assert store.base("prompt.cut") == ""


def test_the_ignored_part_is_quoted_in_whole_words_as_typed():
    """Tokens are pieces of UTF-8 bytes: quoting them showed "\ufffd" for an emoji or a kanji cut apart."""
    from engine import load_guide
    guide = load_guide("builtin")
    text = LONG + "un cœur ✨夜 rouge"
    n, room, ignored = guide.read_tokens(text)
    assert n > room and ignored and "\ufffd" not in ignored
    assert text.endswith(" " + ignored) and ignored.endswith("✨夜 rouge")   # a suffix of what was typed
    assert len(guide.tokenizer.encode(text[: len(text) - len(ignored)])) <= room  # all before it is read


def test_a_negative_prompt_longer_than_the_model_reads_is_said_too():
    from vj.show import build_show
    from tests.conftest import small_setup
    show = build_show(small_setup(model="builtin"))
    show.store.set("negative", LONG + "blue")
    show.generator.step()
    assert show.store.base("prompt.cut").startswith("negative: 37 tokens, the model reads 30")


# -- case 9 and case 12's replay: what is written is what was asked, or it is said once ----------
def test_an_odd_size_is_said_once_when_it_is_rounded(tmp_path, caplog):
    import logging

    import numpy as np

    from vj.record.encoder import VideoFile, VideoFormat
    caplog.set_level(logging.WARNING, logger="vj.record.encoder")
    for take in range(2):
        video = VideoFile(tmp_path / f"take{take}.mkv", VideoFormat(301, 167, 30))
        video.write_picture(np.zeros((167, 301, 3), np.uint8), 0)
        video.close()
        assert (video.width, video.height) == (300, 166)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and said[0].startswith("301x167 pictures are written as 300x166 videos")


def test_replay_writes_the_recorded_size_and_keeps_a_fractional_rate(tmp_path):
    import av

    from tests.test_record_replay import record_a_set
    from vj.record.replay import replay
    from vj.record.timeline import read_timeline
    take = record_a_set(tmp_path)
    head, _ = read_timeline(take.paths.timeline)
    recorded = (960, 720)                       # the live video: 64x48 frames shown at output_height 720
    assert tuple(head["output"]) == recorded
    result = replay(take.paths.timeline, tmp_path / "again.mkv", fps=29.97, sound_from=None, progress=False)
    with av.open(str(result.video)) as box:
        stream = box.streams.video[0]
        assert (stream.width, stream.height) == recorded and float(stream.average_rate) == pytest.approx(29.97)


# -- sweep: devices and the OS change under a running show --------------------------------------
def _tone_file(path: Path, parts: list[tuple[int, str]], seconds: float = 0.5) -> Path:
    """An mp3 made of parts with different (rate, layout), concatenated as `cat a.mp3 b.mp3` does."""
    import av
    import numpy as np
    data = b""
    for i, (rate, layout) in enumerate(parts):
        part = path.with_suffix(f".{i}.mp3")
        with av.open(str(part), "w", format="mp3") as box:
            stream = box.add_stream("libmp3lame", rate=rate, layout=layout)
            n = int(rate * seconds)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)
            planes = np.tile(tone, (1 if layout == "mono" else 2, 1))
            for start in range(0, n, 1152):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planes[:, start:start + 1152]),
                                                   format="fltp", layout=layout)
                frame.sample_rate = rate
                for packet in stream.encode(frame):
                    box.mux(packet)
            for packet in stream.encode(None):
                box.mux(packet)
        data += part.read_bytes()
    path.write_bytes(data)
    return path


def test_an_audio_file_whose_format_changes_midway_plays_on(tmp_path, caplog):
    import logging

    import numpy as np

    from vj.audio import FileSource
    caplog.set_level(logging.WARNING, logger="vj.audio.source")
    path = _tone_file(tmp_path / "joined.mp3", [(44100, "mono"), (22050, "stereo"), (48000, "mono")])
    src = FileSource(path, block_ms=10, loop=False, play=False, sleep=lambda s: None)
    ring = src.open()
    got = []
    try:
        while (block := ring.pop(timeout=0.3)) is not None:
            got.append(block[0].copy())
    finally:
        src.close()
    assert src.failure is None and src.ended
    seconds = (len(got) + ring.overruns) * src.block / src.samplerate
    assert seconds == pytest.approx(1.5, abs=0.2)                     # all three parts (plus mp3 padding)
    assert np.sqrt(np.mean(np.concatenate(got[-20:]) ** 2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.1)
    said = [r.getMessage() for r in caplog.records]
    assert src.format_changes >= 2 and len([m for m in said if "changes format at" in m]) == 1, said


def _window_app(**params):
    from tests.conftest import small_setup
    from vj.app import build
    from vj.display import DisplayApp, FixedStepClock
    setup = small_setup(smoothing=0.0, **params)
    setup.display.width, setup.display.height = 64, 48
    show, _ = build(setup)
    return show, DisplayApp(show, clock=FixedStepClock(60), keep_pixels=False)


def test_a_window_minimized_or_resized_to_nothing_keeps_the_show_and_the_recording(xvfb, caplog):
    import logging
    caplog.set_level(logging.INFO, logger="vj.display.loop")
    show, app = _window_app(hud=True)
    fed = []
    app.sinks.append(lambda fbo, t: fed.append(t))
    try:
        app.run_frames(2)
        app.window._resized(None, 0, 0)                 # what a minimize or a drag to nothing reports
        app.run_frames(5)
        assert app.errors == 0 and len(fed) == 7 and app.frames == 7
        app.window._resized(None, 64, 48)
        app.run_frames(1)
        assert app.errors == 0 and app.frames == 8
    finally:
        app.close()
    said = [r.getMessage() for r in caplog.records]
    assert "The window is minimized or has no pixels; the show and the recording goes on." in said
    assert said.count("The window is shown again.") == 1


def test_an_unplugged_monitor_leaves_a_window_and_the_parameter_says_so(xvfb, monkeypatch, caplog):
    import glfw
    show, app = _window_app()
    try:
        app.store.set("fullscreen", True)
        app.run_frames(2)
        assert app.window.fullscreen
        monitor = app.window.monitor
        monkeypatch.setattr(glfw, "get_monitors", lambda: [])
        app.window._monitor_event(monitor, glfw.DISCONNECTED)  # GLFW calls this from poll_events
        app.run_frames(3)
        assert app.errors == 0 and not app.window.fullscreen and app.window.monitor is None
        assert app.store.base("fullscreen") is False and "MONITOR UNPLUGGED - WINDOWED" in show.warnings
        assert app.window.refresh_rate == 0
        app.store.set("fullscreen", True)                     # F with no monitor: stays windowed, no crash
        app.run_frames(2)
        assert app.errors == 0 and not app.window.fullscreen
    finally:
        app.close()
    assert any("monitor was unplugged; the show goes on in a window (it was fullscreen)" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("device, before, after", [
    ("nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0", "nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0",
     "nanoKONTROL2:nanoKONTROL2 MIDI 1 24:0"),                                         # ALSA renumbers
    ("nanoKONTROL2 1", "nanoKONTROL2 1", "nanoKONTROL2 2"),                             # Windows' instance
], ids=["alsa", "windows"])
def test_a_midi_port_renamed_on_replug_is_found_again(device, before, after, caplog):
    import logging

    from tests.osc_tools import wait_for
    from tests.test_midi import FakeBackend, cc
    from vj.midi import MidiInput
    from vj.setup import parse_setup
    from vj.tables import app_store
    caplog.set_level(logging.INFO, logger="vj.midi")
    backend = FakeBackend(["Midi Through Port-0", before])
    setup = parse_setup({"midi": {"device": device, "map": [{"cc": 0, "param": "crossfade"}],
                                  "takeover": False}}, "<test>")
    inp = MidiInput.from_setup(setup, app_store(), backend=backend, poll_s=0.02)
    inp.start()
    try:
        assert wait_for(lambda: inp.status == "open")
        backend.names_now.remove(before)                      # unplugged ...
        assert wait_for(lambda: inp.status == "unplugged")
        backend.names_now.append(after)                       # ... and back under a new number
        assert wait_for(lambda: inp.status == "open" and backend.opened[-1] == after)
        backend.callback(cc(0, 127))
        assert wait_for(lambda: inp.store.base("crossfade") == 1.0)
    finally:
        inp.stop()
    assert f"MIDI device {before!r} is back, now named {after!r}." in [r.getMessage() for r in caplog.records]


# -- case 12: smaller things a newcomer tripped on -----------------------------------------------
def test_vj_devices_prints_no_raw_alsa_line(capfd):
    from vj.audio.source import device_lines
    from vj.midi.tools import list_ports
    lines = list_ports() + device_lines()
    err = capfd.readouterr().err
    assert "ALSA lib" not in err and lines


def test_the_hud_names_the_noise_parameter_as_osc_does_and_its_sigma_apart():
    import numpy as np

    from engine.bus import Frame
    from vj.display.hud import Status, describe
    from vj.tables import app_store
    store = app_store()
    store.set("noise", 1.5)
    frame = Frame(1, 2, True, 0.0, np.zeros((2, 2, 3), np.uint8), {"noise": 0.123, "mix": []})
    text = "\n".join(line for line, _ in describe(store.snapshot(), frame, Status()))
    assert "noise x1.50 (sigma 0.123)" in text


def test_an_audio_file_says_that_it_loops(tmp_path, caplog):
    import logging

    from vj.audio import FileSource
    caplog.set_level(logging.INFO, logger="vj.audio.source")
    path = _tone_file(tmp_path / "tone.mp3", [(44100, "mono")])
    src = FileSource(path, block_ms=10, loop=True, play=False, sleep=lambda s: None)
    src.open()
    src.close()
    assert any("played in a loop ([audio] loop = false plays it once)" in r.getMessage() for r in caplog.records)


def test_alsa_lines_go_to_the_debug_log_and_other_lines_still_reach_stderr(capfd, caplog):
    import logging
    import os
    import threading

    from vj.quiet import alsa_to_log
    caplog.set_level(logging.DEBUG, logger="vj.quiet")

    def scan(i):
        with alsa_to_log():
            os.write(2, f"ALSA lib seq_hw.c:466:(snd_seq_hw_open) open /dev/snd/seq failed {i}\n".encode())
            os.write(2, f"a log line {i}\n".encode())
    threads = [threading.Thread(target=scan, args=(i,)) for i in range(8)]   # the MIDI and audio threads
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os.write(2, b"after\n")
    err = capfd.readouterr().err
    assert "ALSA lib" not in err and err.endswith("after\n")
    assert all(f"a log line {i}" in err for i in range(8))
    assert len([r for r in caplog.records if r.getMessage().startswith("ALSA lib")]) == 8
