"""The live window under a real X server (Xvfb): pixels read back from the window's framebuffer.

Frames are either painted by the generator with the tiny model or published into the bus by the
test itself, so the expected picture is known exactly. Most tests use the fixed-step clock: the
cross-fade and the fades then depend on frame counts only, never on how busy the machine is.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import glfw
import numpy as np
import pytest

from engine.bus import Frame
from tests.conftest import small_setup
from vj.app import build
from vj.display import DisplayApp, DisplayUnavailable, FixedStepClock, LiveClock, ShaderError, window
from vj.display.glsl import SHADER_DIR
from vj.display.renderer import Renderer

W, H = 64, 48   # generator frame size == output size == window size: one window pixel per frame pixel


def make_app(window_size=(W, H), clock=None, **params):
    setup = small_setup(width=W, height=H, **{"smoothing": 0.0, "hud": False, **params})
    setup.display.width, setup.display.height = window_size
    setup.display.output_width, setup.display.output_height = W, H
    show, _ = build(setup)
    return show, DisplayApp(show, clock=clock or FixedStepClock(60), keep_pixels=True)


@pytest.fixture
def app(xvfb):
    show, app = make_app()
    yield app
    show.generator.stop()
    app.close()


def publish(app, pixels) -> Frame:
    return app.bus.publish(Frame(app.bus.seq, 1, True, time.perf_counter(), np.asarray(pixels, np.uint8)))


def uniform(value) -> np.ndarray:
    return np.full((H, W, 3), value, np.uint8)


def settle(app, limit: int = 600) -> None:
    """Run display frames until the cross-fade has reached the newest frame."""
    for _ in range(limit):
        app.run_frames(1)
        if app.renderer.settled and app.renderer.seq == app.bus.seq:
            return
    raise AssertionError("the cross-fade did not settle")


def test_window_shows_the_generators_frame(xvfb):
    show, app = make_app(clock=LiveClock(60, pace=True))
    try:
        show.generator.start()
        app.run(seconds=1.5)                        # the live app, generator painting, 60 Hz display
        deadline = time.perf_counter() + 20
        while show.bus.seq < 3 and time.perf_counter() < deadline:
            app.run_frames(5)
        assert show.bus.seq >= 3, "the generator published no frames"
        show.store.set("pause", True)
        time.sleep(0.2)                             # let an iteration in flight finish and publish
        settle(app)
        frame = show.bus.latest()
        shown = app.read_pixels().astype(int)
        assert shown.shape == frame.pixels.shape
        assert np.abs(shown - frame.pixels).max() <= 2
        assert frame.pixels.std() > 10              # a real painted frame, not a flat colour
    finally:
        show.generator.stop()
        app.close()


def test_crossfade_passes_through_intermediate_values(app):
    publish(app, uniform(40))
    app.run_frames(30)                              # frame A arrives at t=0; 30 frames = 0.5 s
    publish(app, uniform(200))
    values = []
    for _ in range(40):
        app.run_frames(1)
        values.append(int(app.read_pixels()[H // 2, W // 2, 0]))
    assert app.renderer.timer.interval == pytest.approx(0.5)
    assert values[0] == pytest.approx(40 + 160 / 30, abs=3)          # the arrival frame already moves
    assert values[14] == pytest.approx(40 + 160 * 15 / 30, abs=3)   # halfway through the measured interval
    assert all(b >= a for a, b in zip(values, values[1:]))
    assert sum(40 < v < 200 for v in values) >= 25
    assert values[-1] == 200


def test_blackout_fades_to_black_and_back(app):
    app.store.set("fade.time", 0.2)
    publish(app, uniform(200))
    settle(app)
    app.store.set("blackout", True)
    app.run_frames(6)
    assert 60 < app.read_pixels().mean() < 140      # halfway down the 0.2 s fade
    app.run_frames(10)
    assert app.read_pixels().max() == 0
    app.store.set("blackout", False)
    app.run_frames(15)
    assert app.read_pixels().min() >= 198


def test_freeze_holds_the_picture_and_releases_to_the_newest_frame(app):
    publish(app, uniform(60))
    settle(app)
    app.store.set("freeze", True)
    publish(app, uniform(220))
    app.run_frames(60)
    assert np.abs(app.read_pixels().astype(int) - 60).max() <= 1
    app.store.set("freeze", False)
    settle(app)
    assert np.abs(app.read_pixels().astype(int) - 220).max() <= 1


def test_brightness_change_shows_within_two_display_frames(app):
    publish(app, uniform(200))
    settle(app)
    app.store.set("brightness", 0.5)
    for _ in range(2):
        app.run_frames(1)
        if abs(int(app.read_pixels()[H // 2, W // 2, 1]) - 100) <= 2:
            break
    else:
        pytest.fail("brightness did not show within two display frames")


def test_flash_hit_and_hue_follow_the_display_clock(app):
    red = np.zeros((H, W, 3), np.uint8)
    red[..., 0] = 200
    publish(app, red)
    settle(app)
    app.store.trigger("flash.hit")
    app.run_frames(1)
    assert app.read_pixels().min() >= 245           # white at once
    app.run_frames(20)                              # hit.decay is 0.25 s
    assert np.abs(app.read_pixels().astype(int) - red).max() <= 2
    app.store.set("hue", 0.5)                       # half a turn: red becomes cyan
    app.run_frames(1)
    r, g, b = app.read_pixels()[H // 2, W // 2].astype(int)
    assert g > r + 50 and b > r + 50


def test_picture_keeps_its_aspect_ratio_or_fills(xvfb):
    show, app = make_app(window_size=(2 * W, H))    # a wide window: pillarbox bars left and right
    try:
        publish(app, uniform(200))
        settle(app)
        row = app.read_pixels()[H // 2, :, 0].astype(int)
        assert row[: W // 2 - 2].max() == 0 and row[-(W // 2 - 2):].max() == 0
        assert row[W // 2 + 2: W + W // 2 - 2].min() >= 198
        app.store.set("fill", True)
        app.run_frames(1)
        assert app.read_pixels().min() >= 198
    finally:
        app.close()


def test_hud_is_drawn_on_the_window_but_not_in_the_output(app):
    outputs = []
    app.sinks.append(lambda fbo, t: outputs.append((fbo.size, t, np.frombuffer(fbo.read(components=3), np.uint8))))
    app.window.size  # the HUD needs room: use a bigger window than the other tests
    glfw.set_window_size(app.window.handle, 640, 360)
    app.store.set("hud", True)
    publish(app, uniform(0))
    settle(app)
    app.run_frames(2)
    window_pixels = app.read_pixels()
    assert window_pixels.shape[:2] == (360, 640)
    assert window_pixels[:60, :300].max() > 150     # text in the top-left corner
    size, t, last = outputs[-1]
    assert size == (W, H) and last.max() == 0       # the recorded picture has no HUD
    assert [o[1] for o in outputs] == sorted(o[1] for o in outputs)


def test_a_failing_sink_is_counted_and_fed_again_next_frame(app):
    calls = []

    def flaky(fbo, t):                      # fails once (a bug, a hiccup), then works
        calls.append(t)
        if len(calls) == 1:
            raise OSError("disk full")
    app.sinks.append(flaky)
    app.run_frames(3)
    assert flaky in app.sinks and len(calls) == 3 and app.errors == 1 and app.frames == 3
    assert app.error_counts()["display"] == 1 and app.store.get("errors") >= 1


def test_keys_write_the_store_and_quit_needs_a_second_press(app):
    def key(code):
        app.window._key(app.window.handle, code, 0, glfw.PRESS, 0)
    key(glfw.KEY_B)
    key(glfw.KEY_SPACE)
    key(glfw.KEY_RIGHT)
    key(glfw.KEY_DOWN)
    snap = app.store.snapshot()
    assert snap["blackout"] and snap["freeze"] and snap["prompt.select"] == 2
    assert snap["brightness"] == pytest.approx(0.9)
    key(glfw.KEY_Q)
    app.run_frames(1)
    assert not app.finished
    key(glfw.KEY_Q)
    assert app.finished


def test_fullscreen_parameter_switches_the_window(app):
    app.store.set("fullscreen", True)
    app.run_frames(2)
    assert app.window.fullscreen and tuple(app.window.size) == (1280, 720)
    app.store.set("fullscreen", False)
    app.run_frames(2)
    assert not app.window.fullscreen and tuple(app.window.size) == (W, H)


def test_shader_error_names_file_and_line(app, tmp_path):
    shutil.copytree(SHADER_DIR, tmp_path, dirs_exist_ok=True)
    broken = tmp_path / "smooth.frag"
    lines = broken.read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if "vec3 c = at(p);" in line)
    lines[n] = "    vec3 c = oops;"
    broken.write_text("\n".join(lines))
    with pytest.raises(ShaderError, match=rf"smooth\.frag line {n + 1}: .*oops"):
        Renderer(app.ctx, (W, H), shader_dir=tmp_path)


def test_no_display_points_to_headless_render(xvfb, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(DisplayUnavailable, match="vj render"):
        window.init()


def test_display_that_cannot_be_opened_points_to_headless_render(xvfb, monkeypatch):
    glfw.terminate()                                # GLFW connects at init: start it again on a dead display
    monkeypatch.setenv("DISPLAY", ":4095")
    try:
        with pytest.raises(DisplayUnavailable, match=r"Cannot open the display :4095 .*vj render"):
            window.init()
    finally:
        glfw.terminate()


def test_window_shows_the_output_picture_the_sinks_get(app):
    got = []
    app.sinks.append(lambda fbo, t: got.append(np.frombuffer(fbo.read(components=3), np.uint8).reshape(H, W, 3)[::-1]))
    picture = np.random.default_rng(5).integers(0, 256, (H, W, 3), dtype=np.uint8)
    publish(app, picture)
    settle(app)
    app.store.set("hue", 0.25)
    app.store.set("brightness", 0.8)
    app.run_frames(1)
    assert np.abs(got[-1].astype(int) - app.read_pixels()).max() <= 1   # recorded == shown (no HUD)
    assert np.abs(got[-1].astype(int) - picture).max() > 20              # and the effects are in it


def test_zoom_magnifies_around_the_centre(app):
    picture = np.zeros((H, W, 3), np.uint8)
    picture[H // 2 - 6: H // 2 + 6, W // 2 - 8: W // 2 + 8] = 255        # a 16x12 square in the middle
    publish(app, picture)
    settle(app)
    probe = (H // 2, W // 2 - 12)                                        # just left of the square
    assert app.read_pixels()[probe].max() == 0
    app.store.set("zoom", 1.0)                                           # twice as close: 32x24
    app.run_frames(1)
    assert app.read_pixels()[probe].min() >= 250


def test_before_the_first_frame_the_window_is_black_and_nothing_fails(app):
    app.run_frames(5)
    assert app.read_pixels().max() == 0 and app.errors == 0


def test_vj_devices_lists_the_monitors(xvfb, capsys):
    from vj.cli import main
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "monitors:\n  0: " in out and "1280x720" in out


def test_vj_run_shows_a_setup_for_some_seconds_and_quits_with_a_closing_sentence(xvfb, tmp_path, caplog):
    import logging

    from tests.conftest import tiny_setup_file
    from vj.cli import main
    setup = tiny_setup_file(tmp_path / "show.toml", "[display]\nwidth = 128\nheight = 96\n")
    with caplog.at_level(logging.INFO, logger="vj.app"):
        assert main(["run", str(setup), "--windowed", "--seconds", "1"]) == 0
    said = [r.getMessage() for r in caplog.records if r.name == "vj.app"]
    assert said and said[-1].startswith("The show ended after ") and "shown" in said[-1]


def test_smoothing_calms_noise_and_keeps_edges(app):
    rng = np.random.default_rng(2)
    picture = np.clip(128 + rng.normal(0, 20, (H, W, 3)), 0, 255).astype(np.uint8)
    picture[:, W // 2:] = 255                                            # a hard edge down the middle
    publish(app, picture)
    settle(app)
    raw = app.read_pixels().astype(int)
    app.store.set("smoothing", 0.5)
    app.run_frames(1)
    smooth = app.read_pixels().astype(int)
    assert np.abs(raw - picture).max() <= 2                               # smoothing 0: the raw frame
    left = (slice(2, H - 2), slice(2, W // 2 - 2))
    assert smooth[left].std() < 0.7 * raw[left].std()                    # the noise calms down
    assert smooth[:, W // 2].min() >= 250 and smooth[:, W // 2 - 1].max() < 200   # the edge stays


def test_a_missing_monitor_falls_back_to_the_first_with_a_hud_warning(xvfb):
    setup = small_setup(width=W, height=H, hud=False, fullscreen=True)
    setup.display.monitor = 3
    show, _ = build(setup)
    app = DisplayApp(show, clock=FixedStepClock(60), keep_pixels=True)
    try:
        app.run_frames(2)
        assert "MONITOR 3 NOT FOUND - FULLSCREEN ON MONITOR 0" in show.warnings
        assert app.window.fullscreen and tuple(app.window.size) == (1280, 720)
    finally:
        app.close()


def test_an_opengl_older_than_3_3_is_named(xvfb):
    code = ("from vj.display.window import Window, DisplayUnavailable\n"
            "try:\n    Window((64, 64), 'old GL')\nexcept DisplayUnavailable as e:\n    print(e)\n")
    env = {**os.environ, "MESA_GL_VERSION_OVERRIDE": "3.0"}     # Mesa pretends to be GL 3.0
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120).stdout
    assert "OpenGL 3.3" in out and "update the graphics driver" in out


def test_show_iterations_chooses_finished_frames_or_every_iteration(app):
    publish(app, uniform(50))
    app.bus.publish(Frame(1, 3, False, time.perf_counter(), uniform(150)))   # an iteration, not finished
    app.run_frames(40)                                                   # the first fade lasts 0.5 s
    assert abs(int(app.read_pixels()[H // 2, W // 2, 0]) - 50) <= 1
    app.store.set("show_iterations", True)
    settle(app)
    assert abs(int(app.read_pixels()[H // 2, W // 2, 0]) - 150) <= 1


def test_a_generator_faster_than_the_display_is_shown_frame_by_frame(app):
    for value in range(20, 220, 10):                                     # a new frame every display frame
        publish(app, uniform(value))
        app.run_frames(1)
    publish(app, uniform(230))
    app.run_frames(1)
    assert abs(int(app.read_pixels()[H // 2, W // 2, 0]) - 230) <= 2
