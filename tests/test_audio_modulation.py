"""Routing audio onto parameters, checked against the live table, and the generator following a file."""
from __future__ import annotations

import time

import numpy as np
import pytest

from engine import make_store
from tests.conftest import small_setup
from tests.test_audio_input import write_wav
from vj.audio import AudioInput, Features
from vj.tables import AUDIO
from vj.audio.modulation import NOISE_ROUTE, Router, build_routes
from vj.setup import SETUPS_DIR, SetupError, apply_to_store, load_setup, parse_setup
from vj.show import build_show

DISPLAY_LIKE = [  # a stand-in for the display's rows, so these tests do not need the window code
    __import__("engine").ParamSpec("flash", "float", 0.0, "white over the picture", lo=0, hi=1),
]


def store_with_audio():
    store = make_store()
    store.add(AUDIO, [])
    store.add(DISPLAY_LIKE)
    return store


def routes_of(rows: list[dict], store) -> list:
    return build_routes(parse_setup({"audio": {"route": rows}}, "show.toml").audio.route, store, "show.toml")


@pytest.mark.parametrize("row, message", [
    ({"source": "energy", "target": "flsh"},
     "show.toml: audio.route[0] target 'flsh' is not a live parameter; `vj osc-spec` lists them."),
    ({"source": "kick", "target": "flash"},
     "show.toml: audio.route[0] source 'kick' is not an audio feature; use one of energy, bass, mid, high, onset."),
    ({"source": "bass", "target": "flash", "curve": "cubic"},
     "show.toml: audio.route[0] curve 'cubic' is unknown; use one of linear, square, sqrt, smooth, gate."),
    ({"source": "bass", "target": "audio.energy"},
     "show.toml: audio.route[0] target 'audio.energy' is read-only; a route needs a writable number parameter."),
    ({"source": "bass", "target": "mode"},
     "show.toml: audio.route[0] target 'mode' is enum; a route needs a writable number parameter."),
    ({"source": "bass", "target": "reseed"},
     "show.toml: audio.route[0] target 'reseed' is an action, fired on hits: its source must be 'onset', not 'bass'."),
])
def test_bad_routes_are_setup_errors(row, message):
    with pytest.raises(SetupError) as e:
        routes_of([row], store_with_audio())
    assert str(e.value) == message


def test_route_rows_come_from_toml():
    import tomllib
    data = tomllib.loads("""
[audio]
file = "track.wav"
[[audio.route]]
source = "bass"
target = "temperature"
depth = 40
curve = "square"
[[audio.route]]
source = "onset"
target = "flash"
""")
    routes = routes_of([vars(r) for r in parse_setup(data).audio.route], store_with_audio())
    assert routes[0] == NOISE_ROUTE  # the default energy -> noise stays
    assert [(r.source, r.target, r.depth, r.curve) for r in routes[1:]] == [
        ("bass", "temperature", 40.0, "square"), ("onset", "flash", 1.0, "linear")]
    with pytest.raises(SetupError, match="unknown key 'audio.route\\[0\\].amount'"):
        parse_setup({"audio": {"route": [{"source": "bass", "target": "flash", "amount": 2}]}})


def test_modulation_adds_to_the_base_and_lets_go():
    store = store_with_audio()
    router = Router(store, routes_of([{"source": "bass", "target": "temperature", "depth": 40, "curve": "square"},
                                      {"source": "onset", "target": "flash"}], store))
    store.set("temperature", 20.0)
    store.set("audio.noise.offset", 0.5)
    f = Features(energy=0.5, bass=0.5, onset=1.0)
    router.apply(f, store.snapshot())
    snap = store.snapshot()
    assert snap["noise"] == pytest.approx(1.0 + 0.5 + 1.0 * 0.5)   # base + offset + depth x energy
    assert snap["temperature"] == pytest.approx(20 + 40 * 0.25)      # square curve
    assert snap["flash"] == 1.0
    assert store.base("temperature") == 20.0 and store.base("noise") == 1.0  # never written
    store.set("temperature", 90.0)                                   # the performer moves on
    router.apply(f, store.snapshot())
    assert store.snapshot()["temperature"] == 100.0                  # clamped to the range
    store.set("audio.amount", 0.0)                                   # let go of the music
    router.apply(f, store.snapshot())
    assert store.snapshot()["noise"] == 1.0 and store.snapshot()["temperature"] == 90.0
    store.set("audio.amount", 1.0)
    router.apply(f, store.snapshot())
    router.release()
    assert store.snapshot()["flash"] == 0.0 and store.snapshot()["temperature"] == 90.0


def test_onset_route_to_an_action_fires_on_hits():
    store = store_with_audio()
    fired = []
    store.on_action("reseed", lambda: fired.append(1))
    router = Router(store, routes_of([{"source": "onset", "target": "reseed"}], store))
    for hit in (True, False, False, True):
        router.apply(Features(onset=1.0, hit=hit), store.snapshot())
    assert len(fired) == 2


def test_generator_noise_follows_the_file_energy(tmp_path):
    """Quiet and loud passages in a file: the noise the generator actually adds follows them.

    The noise route comes from the setup (energy -> noise, depth 2) with the default route's
    depth set to 0 in [params], so the setup's routing table is what moves the picture.
    """
    sr, part = 48000, 0.8
    rng = np.random.default_rng(3)
    levels = [-45, -8, -45, -8]  # dBFS of each passage
    samples = np.concatenate([rng.normal(0, 10 ** (db / 20), int(sr * part)) for db in levels])
    path = write_wav(tmp_path / "passages.wav", samples, sr)

    setup = small_setup(**{"audio.noise.depth": 0.0, "temperature": 30.0})
    setup.audio = parse_setup({"audio": {"file": str(path), "loop": False, "play": False,
                                         "route": [{"source": "energy", "target": "noise", "depth": 2.0}]}}).audio
    show = build_show(setup)
    audio = AudioInput.from_setup(setup, show.store)
    frames = []
    audio.start()
    try:
        assert _wait(lambda: audio.source is not None and audio.source.started_at > 0)
        start = audio.source.started_at
        seq = 0
        while time.perf_counter() - start < part * len(levels):
            frame = show.bus.wait_after(seq, timeout=0) or show.generator.step()
            if frame is not None and frame.final:
                seq = frame.seq
                frames.append((frame.time - start, frame.stats["noise"]))
    finally:
        audio.stop()

    def noise_in(k: int) -> list[float]:  # the second half of passage k: levels have settled
        return [n for t, n in frames if k * part + part / 2 <= t < (k + 1) * part]
    quiet = noise_in(0) + noise_in(2)
    loud = noise_in(1) + noise_in(3)
    assert len(quiet) >= 4 and len(loud) >= 4, (len(quiet), len(loud))
    assert np.mean(loud) > 1.8 * np.mean(quiet), (np.mean(quiet), np.mean(loud))
    assert min(loud) > max(noise_in(2))  # after a loud passage the quiet one really is quieter
    # the performer's value was never written: with the music gone the base noise is back
    assert show.store.base("noise") == 1.0 and show.store.snapshot()["noise"] == 1.0


def _wait(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return False


@pytest.mark.parametrize("name", sorted(p.stem for p in SETUPS_DIR.glob("*.toml")))
def test_shipped_setups_audio_routes_compile(name):
    """Every shipped show's [[audio.route]] rows name real parameters of the whole app's table."""
    from vj.tables import app_store
    setup = load_setup(name)
    store = app_store()
    apply_to_store(setup, store)
    audio = AudioInput.from_setup(setup, store)
    if name == "audio":
        assert [(r.source, r.target) for r in audio.router.routes] == [
            ("energy", "noise"), ("bass", "temperature"), ("onset", "flash"), ("high", "hue")]
        assert audio.make_source is not None and store.snapshot()["audio.noise.depth"] == 1.5
