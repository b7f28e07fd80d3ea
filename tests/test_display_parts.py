"""The display's parts that need no window: keys, cross-fade timing, effects, fitting, clocks, HUD text."""
from __future__ import annotations

import time

import numpy as np
import pytest

from engine import make_store
from engine.bus import Frame
from engine.params import ParamSpec
from vj.display import keys
from vj.tables import DISPLAY, DISPLAY_ACTIONS, app_store
from vj.display.clock import FixedStepClock, LiveClock
from vj.display.effects import MAX_INTERVAL, CrossFadeTimer, Effects, fit
from vj.display.hud import FontAtlas, Status, describe
from vj.display.renderer import hue_matrix


def store():
    s = make_store()
    s.add(DISPLAY, DISPLAY_ACTIONS)
    return s


def test_every_key_names_a_known_row_and_toggles_steps_and_fires():
    s, table = store(), app_store()
    for key, (what, name, *_) in keys.KEYS.items():
        assert name in (table.actions if what == "action" else table.specs), (key, name)
    assert keys.press(s, "B") and s.get("blackout")
    assert keys.press(s, "B") and not s.get("blackout")
    for _ in range(15):
        keys.press(s, "UP")
    assert s.get("brightness") == 2.0                   # stepped, then clamped to the range
    fired = []
    s.on_action("quit", lambda: fired.append(1))
    keys.press(s, "ESCAPE")
    assert fired == [1]
    assert not keys.press(s, "NOT_A_KEY")


def test_crossfade_lasts_the_median_gap_between_frames():
    timer = CrossFadeTimer()
    for t in (0.0, 1.0, 2.0, 2.1, 3.1):                # one quick frame does not shorten the fade
        timer.arrived(t)
    assert timer.interval == pytest.approx(1.0)
    assert timer.progress(3.1) == 0.0 and timer.progress(3.6) == pytest.approx(0.5) and timer.progress(9) == 1.0
    timer.arrived(100.0)                                # after a long pause the fade stays bounded
    timer.arrived(200.0)
    timer.arrived(300.0)
    assert timer.interval == MAX_INTERVAL
    timer.restart(400.0)                                # a restart is not a measured gap
    assert timer.interval == MAX_INTERVAL and timer.progress(400.0) == 0.0
    timer = CrossFadeTimer()
    timer.arrived(0.0)
    timer.arrived(1 / 60, shown=0.0)                    # frames as fast as the display: shown at once
    assert timer.progress(1 / 60) == 1.0


def test_blackout_fades_over_fade_time_and_hits_die_away():
    s = store()
    fx = Effects(s)
    s.set("fade.time", 0.5)
    assert fx.look(s.snapshot(), 0.0).level == 1.0
    s.set("blackout", True)
    assert fx.look(s.snapshot(), 0.25).level == pytest.approx(0.5)
    assert fx.look(s.snapshot(), 1.0).level == 0.0
    s.set("fade.time", 0.0)
    s.set("blackout", False)
    assert fx.look(s.snapshot(), 1.01).level == 1.0     # fade.time 0: a cut
    s.trigger("flash.hit")                               # from any thread: stamped on the next display frame
    s.trigger("zoom.hit")
    first = fx.look(s.snapshot(), 2.0)
    assert first.flash == 1.0 and first.zoom > 1.0
    later = fx.look(s.snapshot(), 2.0 + s.get("hit.decay"))
    assert later.flash == 0.0 and later.zoom == 1.0


def test_fit_letterboxes_or_fills_keeping_the_aspect_ratio():
    assert fit((4, 3), (16, 9)) == pytest.approx((0.75, 1.0))          # pillarbox
    assert fit((4, 3), (16, 9), fill=True) == pytest.approx((1.0, 4 / 3))
    assert fit((2, 1), (16, 9)) == pytest.approx((1.0, 8 / 9))         # letterbox
    assert fit((16, 9), (1280, 720)) == pytest.approx((1.0, 1.0))


def test_hue_matrix_keeps_greys_and_turns_colours():
    def rotate(turns, rgb):
        return np.array(hue_matrix(turns)).reshape(3, 3).T @ np.array(rgb, float)
    assert rotate(0.0, (0.2, 0.5, 0.9)) == pytest.approx((0.2, 0.5, 0.9))
    assert rotate(0.37, (0.4, 0.4, 0.4)) == pytest.approx((0.4, 0.4, 0.4))
    r, g, b = rotate(0.5, (1, 0, 0))
    assert g > r and b > r                              # red turns towards cyan
    assert rotate(1.0, (1, 0, 0)) == pytest.approx((1, 0, 0), abs=1e-9)


def test_fixed_step_clock_is_exact_and_live_clock_paces_swaps():
    fixed = FixedStepClock(50)
    times = []
    for _ in range(4):
        times.append(fixed.frame_time())
        fixed.wait()
    assert times == pytest.approx([0.0, 0.02, 0.04, 0.06]) and not fixed.paces
    live = LiveClock(100, pace=True)
    start = time.perf_counter()
    shown = []
    for _ in range(6):
        t = live.frame_time()
        live.wait()
        shown.append(time.perf_counter())
        assert shown[-1] >= t - 1e-4                    # a swap never happens before its frame time
    assert shown[-1] - start >= 5 * 0.01                # six swaps paced at 100 Hz take at least 50 ms


def test_live_clock_turns_pacing_on_when_swaps_do_not_wait_for_vsync():
    live = LiveClock(60, pace=None)
    for _ in range(61):                                 # swaps that return at once: no vsync
        live.frame_time()
        live.wait()
    assert live.pace is True


def test_hud_lists_rates_prompts_state_optional_levels_and_warnings():
    s = store()
    s.add([ParamSpec("audio.energy", "float", 0.0, "level", lo=0, hi=1, readonly=True),
           ParamSpec("record", "bool", False, "record")])
    s.set("audio.energy", 0.5, "app")
    s.set("record", True)
    s.set("freeze", True)
    frame = Frame(7, 10, True, 0.0, np.zeros((2, 2, 3), np.uint8),
                  {"frames_per_s": 1.5, "iters_per_s": 15.0, "mix": [(1, "a red circle", 0.7), (2, "a blue sea", 0.3)]})
    text = "\n".join(line for line, _ in describe(s.snapshot(), frame, Status(60.0, {"generator": 2, "display": 0}, 1, ["MODEL X UNAVAILABLE"])))
    for expected in ("1.50 frames/s", "15.0 it/s", "60.0 fps", "PROMPT 1  0.70  a red circle", "PROMPT 2  0.30",
                     "TEMPERATURE 30", "AUDIO [##########..........] 0.50", "REC", "FREEZE", "generator 2",
                     "! MODEL X UNAVAILABLE"):
        assert expected in text, expected
    plain = "\n".join(line for line, _ in describe(store().snapshot(), None, Status()))
    assert "AUDIO" not in plain and "REC" not in plain and "waiting for the first frame" in plain


def test_font_atlas_lays_out_one_quad_per_visible_glyph_behind_a_panel():
    atlas = FontAtlas(14)
    rows = atlas.layout([("ab c", (1, 1, 1, 1)), ("é", (1, 0, 0, 1))])
    assert rows.shape == (1 + 3 + 1, 12)               # panel, a b c (no quad for the space), é
    panel, glyphs = rows[0], rows[1:]
    assert (panel[2] > glyphs[:, 2]).all()              # the panel spans the text
    assert glyphs[1, 0] > glyphs[0, 0] and glyphs[3, 1] > glyphs[0, 1]
    assert np.asarray(atlas.image).max() == 255
