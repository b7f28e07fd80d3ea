"""The tempo clock (tap, fixed, MIDI clock through the MIDI input's own path, Link), quantized
changes with lookahead, and LFOs through the modulation matrix. Time is injected: nothing sleeps."""
from __future__ import annotations

import time

import mido
import pytest

from tests.conftest import small_setup
from vj.midi import MidiInput
from vj.modulation import Route, mod_routes
from vj.setup import MidiSetup, SetupError, parse_setup
from vj.tables import app_store
from vj.tempo import PPQN, TempoService


class Clock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def service(clock, routes=(), latency=0.0, **params):
    store = app_store()
    for k, v in params.items():
        assert store.set(k.replace("_", ".", 1) if k.startswith(("tempo_", "quantize_", "crossfade_", "deck_")) else k,
                         v), k
    tempo = TempoService(store, list(routes), lambda: latency, clock=clock)
    tempo.quantizer.install()
    return store, tempo


def run(tempo, clock, until, step=0.005):
    while clock.t < until - 1e-9:
        clock.t = round(clock.t + step, 6)
        tempo.tick(clock.t)


def test_four_taps_at_120_bpm_give_120():
    clock = Clock()
    store, tempo = service(clock, tempo_fixed=90.0)
    for k in range(4):
        clock.t = 100.0 + 0.5 * k
        store.trigger("tap", "key")
    run(tempo, clock, 102.0)
    assert store.get("tempo.bpm") == pytest.approx(120.0, abs=1.0)
    assert store.get("tempo.source") == "tap"
    run(tempo, clock, 103.25)    # each tap was a beat: 1.75 s (3.5 beats) after the last is half a beat
    assert tempo.beats.beat(clock.t) % 1.0 == pytest.approx(0.5, abs=1e-6)
    assert store.get("tempo.phase") == pytest.approx(0.5, abs=0.05)   # published every 20 ms


class FakePort:
    def close(self):
        pass


class FakeBackend:
    """A MIDI system with one clock device: the test plays the port's callback, as rtmidi would."""

    def __init__(self) -> None:
        self.callback = None

    def names(self):
        return ["Fake Clock 0"]

    def open(self, name, callback):
        self.callback = callback
        return FakePort()


def test_midi_clock_at_128_bpm_through_the_midi_input_path_with_start_and_stop():
    clock = Clock()
    store, tempo = service(clock, tempo_source="midi")
    backend = FakeBackend()
    midi = MidiInput(store, MidiSetup(device="fake clock"), backend=backend, clock=clock)
    midi.add_listener(tempo.midi_message)
    midi.poll()                                     # the watcher opens the port
    assert midi.status == "open"
    send = backend.callback                         # what the port calls, on rtmidi's thread

    pulse = 60.0 / 128 / PPQN
    send(mido.Message("start"))
    for k in range(2 * PPQN):                       # two beats
        clock.t = 100.0 + k * pulse
        send(mido.Message("clock"))
        midi.process_pending()                      # the worker thread's step
        tempo.tick(clock.t)
    tempo.tick(clock.t + 0.001)
    assert store.get("tempo.bpm") == pytest.approx(128.0, abs=0.5)
    assert tempo.beats.beat(clock.t) == pytest.approx((2 * PPQN - 1) / PPQN, abs=1e-6)
    assert store.get("tempo.running")

    send(mido.Message("stop"))
    midi.process_pending()
    held = tempo.beats.beat(clock.t)
    run(tempo, clock, clock.t + 1.0)
    assert not store.get("tempo.running")
    assert tempo.beats.beat(clock.t) == pytest.approx(held, abs=1e-3)  # stopped: the beat holds

    send(mido.Message("songpos", pos=16))           # bar 2 (16 sixteenths), then continue
    send(mido.Message("continue"))
    clock.t += pulse
    send(mido.Message("clock"))
    midi.process_pending()
    tempo.tick(clock.t)
    assert store.get("tempo.running") and tempo.beats.beat(clock.t) == pytest.approx(4.0, abs=1e-6)

    send(mido.Message("start"))                     # start: back to beat 0 at the next pulse
    clock.t += pulse
    send(mido.Message("clock"))
    midi.process_pending()
    tempo.tick(clock.t)
    assert tempo.beats.beat(clock.t) == pytest.approx(0.0, abs=1e-6)


def test_two_link_peers_agree_on_tempo_and_beat_phase():
    link = pytest.importorskip("link", reason="LinkPython-extern is not installed")
    del link
    stores, peers = [], []
    for bpm in (128.0, 90.0):
        store = app_store()
        store.set("tempo.source", "link")
        store.set("tempo.fixed", bpm)
        tempo = TempoService(store)
        stores.append(store)
        peers.append(tempo)
    try:
        for tempo in peers:
            tempo.tick(time.perf_counter())
        if any(t.link is None for t in peers):
            pytest.skip(f"Link could not start here: {peers[0]._link_problem}")
        deadline = time.perf_counter() + 5.0
        while not all(t.link.peers for t in peers) and time.perf_counter() < deadline:
            time.sleep(0.05)
        if not all(t.link.peers for t in peers):
            pytest.skip("Link peers did not find each other within 5 s (no multicast on this host)")
        peers[0].link.set_tempo(128.0)
        deadline = time.perf_counter() + 10.0
        while time.perf_counter() < deadline:
            now = time.perf_counter()
            for tempo in peers:
                tempo.tick(now)
            if all(abs(t.beats.bpm - 128.0) < 1e-6 for t in peers):
                break
            time.sleep(0.02)
        now = time.perf_counter()
        for tempo in peers:
            tempo.tick(now)
        a, b = (t.beats.beat(now) for t in peers)
        assert peers[0].beats.bpm == pytest.approx(128.0) and peers[1].beats.bpm == pytest.approx(128.0)
        assert (a % 4) == pytest.approx(b % 4, abs=0.01)     # the same place in the bar
    finally:
        for tempo in peers:
            tempo.stop()


def test_a_next_sent_mid_beat_fires_at_the_next_beat_minus_the_lookahead():
    clock = Clock(0.0)
    store, tempo = service(clock, tempo_source="fixed", quantize="beat", quantize_lookahead=100.0, latency=0.05)
    store.set("prompt.1", "a red circle")
    store.set("prompt.2", "a blue square")
    tempo.beats.place(0.0, 0.0)                     # 120 BPM: beats at 0, 0.5, 1.0 s
    run(tempo, clock, 0.25)                         # mid-beat
    assert store.trigger("next", "osc")
    assert store.get("prompt.select") == 1          # held
    fired_at = None
    while fired_at is None:
        clock.t = round(clock.t + 0.001, 6)        # a 1 ms step, finer than any generator iteration
        tempo.tick(clock.t)
        if store.get("prompt.select") == 2:
            fired_at = clock.t
    assert fired_at == pytest.approx(0.5 - 0.100 - 0.05, abs=0.0011)   # the beat less lookahead and latency


def test_quantize_off_passes_changes_at_once_and_the_bar_waits_for_the_bar():
    clock = Clock(0.0)
    store, tempo = service(clock, tempo_source="fixed", quantize_latency=False)
    tempo.beats.place(0.0, 0.0)
    store.set("prompt.3", "a yellow ring", "osc")
    assert store.get("prompt.3") == "a yellow ring"
    store.set("quantize", "bar")
    run(tempo, clock, 0.6)                         # beat 1.2 of the bar
    store.set("prompt.3", "a green ring", "osc")
    run(tempo, clock, 1.99)
    assert store.get("prompt.3") == "a yellow ring"
    run(tempo, clock, 2.01)                         # beat 4: the next bar
    assert store.get("prompt.3") == "a green ring"


def test_crossfade_over_beats_and_the_deck_every_bar():
    clock = Clock(0.0)
    store, tempo = service(clock, tempo_source="fixed", quantize_latency=False, crossfade_beats=2.0)
    for i, text in enumerate(("a", "b", "c"), start=1):
        store.set(f"prompt.{i}", text)
    tempo.beats.place(0.0, 0.0)
    store.trigger("next", "key")
    run(tempo, clock, 0.5)                          # one of two beats
    assert store.get("crossfade") == pytest.approx(0.5, abs=0.02) and store.get("prompt.select") == 1
    run(tempo, clock, 1.05)
    assert store.get("crossfade") == 0.0 and store.get("prompt.select") == 2
    store.set("crossfade.beats", 0.0)
    store.set("deck.bars", 1)
    run(tempo, clock, 2.05)                         # the bar line at beat 4 (2.0 s)
    assert store.get("prompt.select") == 3


def test_a_one_beat_lfo_swings_temperature_with_that_period_and_leaves_the_base():
    setup = parse_setup({"mod": [{"source": "lfo.1", "target": "temperature", "depth": 20}]})
    clock = Clock(0.0)
    store = app_store()
    routes = mod_routes(setup.mod, store, "show.toml")
    store, tempo = service(clock, routes, tempo_source="fixed", tempo_fixed=120.0)
    store.set("temperature", 40.0, "osc")
    tempo.beats.place(0.0, 0.0)
    seen = []
    while clock.t < 2.0:
        clock.t = round(clock.t + 0.01, 6)
        tempo.tick(clock.t)
        seen.append((clock.t, store.get("temperature")))
    peaks = [t for (t0, a), (t, b), (t2, c) in zip(seen, seen[1:], seen[2:]) if b > a and b >= c]
    assert peaks == pytest.approx([0.125, 0.625, 1.125, 1.625], abs=0.006)   # a quarter into each 0.5 s beat
    assert max(v for _, v in seen) == pytest.approx(60.0, abs=0.1)
    assert min(v for _, v in seen) == pytest.approx(20.0, abs=0.1)
    assert store.base("temperature") == 40.0
    store.set("lfo.amount", 0.0)
    tempo.tick(clock.t + 0.01)
    assert store.get("temperature") == 40.0


def test_bad_mod_rows_are_one_sentence():
    store = app_store()
    for row, message in [
        ({"source": "lfo.9", "target": "temperature"}, "source 'lfo.9' is not a modulation source"),
        ({"source": "lfo.1", "target": "reseed"}, "its source must be 'audio.onset' or 'beat'"),
        ({"source": "beat", "target": "tempo.bpm"}, "is read-only"),
    ]:
        with pytest.raises(SetupError, match=message):
            mod_routes(parse_setup({"mod": [row]}).mod, store, "show.toml")
    assert mod_routes(parse_setup({"mod": [{"source": "beat", "target": "flash.hit"}]}).mod, store)[0] == \
        Route("beat", "flash.hit", key="mod.0", action=True)


def test_the_beat_fires_an_action_route_on_each_beat():
    clock = Clock(0.0)
    store = app_store()
    routes = mod_routes(parse_setup({"mod": [{"source": "beat", "target": "reseed"}]}).mod, store)
    store, tempo = service(clock, routes, tempo_source="fixed")
    fired = []
    store.on_action("reseed", lambda: fired.append(clock.t))
    tempo.beats.place(0.0, 0.0)
    run(tempo, clock, 2.02)
    assert [round(t, 2) for t in fired] == [0.5, 1.0, 1.5, 2.0]


def test_the_hud_shows_bpm_beat_source_and_motion():
    from vj.display.hud import tempo_line
    clock = Clock(0.0)
    store, tempo = service(clock, tempo_source="fixed", tempo_fixed=128.0, quantize="bar")
    store.set("motion.zoom", 1.1)
    tempo.beats.place(0.0, 0.0)
    run(tempo, clock, 60.0 / 128 * 2.5)             # beat 2.5: the third beat of the bar
    line = tempo_line(store.snapshot())
    assert line.startswith("TEMPO  128.0 BPM  [..#.] beat 3/4  fixed  quantize bar")
    assert "MOTION zoom 1.10/s" in line


def test_audio_sources_in_mod_rows_join_the_audio_routes():
    from vj.audio.modulation import NOISE_ROUTE, build_routes
    store = app_store()
    mods = parse_setup({"mod": [{"source": "audio.bass", "target": "temperature", "depth": 30},
                                {"source": "lfo.2", "target": "hue", "depth": 0.1}]}).mod
    old = parse_setup({"audio": {"route": [{"source": "onset", "target": "flash"}]}}).audio.route
    routes = build_routes(old, store, "show.toml", mods)
    assert [(r.source, r.target, r.key) for r in routes] == [
        (NOISE_ROUTE.source, "noise", "audio.noise"), ("onset", "flash", "audio.route.0"),
        ("bass", "temperature", "mod.0")]          # the LFO row is the tempo thread's


def test_link_unavailable_is_one_sentence_and_the_clock_runs_on(caplog):
    from vj.tempo.link import LinkUnavailable

    def no_link(bpm):
        raise LinkUnavailable("Ableton Link could not start (no sockets); pick another tempo.source.")
    store = app_store()
    store.set("tempo.source", "link")
    warnings: list[str] = []
    tempo = TempoService(store, clock=Clock(0.0), warnings=warnings, link=no_link)
    for t in (0.0, 0.5, 1.0):
        tempo.tick(t)
    assert warnings == ["TEMPO: LINK UNAVAILABLE"]
    assert [r.getMessage() for r in caplog.records if "Link" in r.getMessage()] == [
        "Ableton Link could not start (no sockets); pick another tempo.source. The clock runs on meanwhile."]
    assert tempo.beats.beat(1.0) == pytest.approx(2.0)


def test_nothing_waits_for_a_stopped_clock():
    clock = Clock(0.0)
    store, tempo = service(clock, tempo_source="midi", quantize="bar")
    tempo.midi.message("start", 0.0)
    tempo.midi.message("clock", 0.0)
    tempo.tick(0.001)
    store.set("prompt.2", "a blue square", "osc")
    assert store.get("prompt.2") == ""               # held for the bar
    tempo.midi.message("stop", 0.1)
    tempo.tick(0.1)
    assert store.get("prompt.2") == "a blue square"  # the clock stopped: it is not kept waiting
    store.set("prompt.3", "a green ring", "osc")
    assert store.get("prompt.3") == "a green ring"
