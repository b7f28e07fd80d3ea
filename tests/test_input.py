"""Video in: a video file, a still image or a camera feeds the optimizer through the input bus, as
the start of each frame (input.mix) or as an image prompt (input.prompt); bad inputs are one
sentence each while the generator keeps publishing."""
from __future__ import annotations

import logging
import time
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.builtin.world import COLOURS, PALETTE
from engine.inputs import InputBus
from tests.conftest import small_setup
from vj.input import InputError, VideoInput, open_source
from vj.setup import load_setup
from vj.show import build_show

W, H, SIDE = 64, 48, 12


def square_x(k: int, n: int) -> int:
    return round(k * (W - SIDE) / (n - 1))


def square_video(path, n: int = 12, rate: int = 60) -> list[int]:
    """A video of a white square moving left to right on black (PyAV, H.264); the square's left edges."""
    xs = [square_x(k, n) for k in range(n)]
    with av.open(str(path), "w") as box:
        stream = box.add_stream("libx264", rate=Fraction(rate))
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for x in xs:
            img = np.zeros((H, W, 3), np.uint8)
            img[18:18 + SIDE, x:x + SIDE] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    return xs


def bright_x(pixels: np.ndarray) -> float:
    """Column centroid of the picture's brightness above its mean."""
    y = pixels.astype(np.float32).mean(axis=2)
    mass = np.clip(y - y.mean(), 0, None).sum(axis=0)
    return float((mass * np.arange(len(mass))).sum() / max(mass.sum(), 1e-6))


def next_frame(show):
    frame = None
    while frame is None or not frame.final:
        frame = show.generator.step()
    return frame


def test_painted_frames_follow_a_moving_square_with_input_mix_1(tmp_path):
    xs = square_video(tmp_path / "square.mp4")
    show = build_show(small_setup(**{"input.mix": 1.0, "temperature": 10.0}))
    painted = []
    for pixels in open_source(str(tmp_path / "square.mp4"), loop=False).pictures():
        show.input_bus.put(pixels)
        painted.append(bright_x(next_frame(show).pixels))
    assert len(painted) == len(xs)
    centres = np.array(xs) + SIDE / 2
    assert np.corrcoef(centres, painted)[0, 1] > 0.95, (list(centres), painted)
    assert painted[-1] - painted[0] > 0.5 * (centres[-1] - centres[0])


def test_input_mix_0_leaves_the_input_out(tmp_path):
    show = build_show(small_setup(**{"temperature": 0.0}))
    first = next_frame(show).pixels
    white = np.full((H, W, 3), 255, np.uint8)
    show.input_bus.put(white)
    assert next_frame(show).pixels.mean() < first.mean() + 20   # nothing pulled toward white
    show.store.set("input.mix", 1.0)
    assert next_frame(show).pixels.mean() > 200                 # the input itself, barely repainted


def red_circle_on_blue(path) -> None:
    im = Image.new("RGB", (128, 128), tuple(int(v) for v in PALETTE[COLOURS.index("blue")]))
    ImageDraw.Draw(im).ellipse((28, 28, 100, 100), fill=tuple(int(v) for v in PALETTE[COLOURS.index("red")]))
    im.save(path)


def test_an_image_prompt_alone_paints_its_colours_with_the_builtin_model(tmp_path):
    red_circle_on_blue(tmp_path / "prompt.png")
    setup = load_setup("setups/default.toml")
    setup.generator.width = setup.generator.height = 128
    setup.generator.parametrization, setup.generator.start, setup.post.model = "pixels", "uniform", ""
    setup.prompts = []
    setup.input.prompt_image = str(tmp_path / "prompt.png")
    setup.params["input.prompt"] = 1.0
    setup.params["post.colours"] = 0   # the raw painting's colours, not the posterized ones
    show = build_show(setup)
    frame = next_frame(show)
    px = frame.pixels.reshape(-1, 3).astype(np.float32)
    nearest = ((px[:, None] - PALETTE[None].astype(np.float32)) ** 2).sum(-1).argmin(1)
    top = [COLOURS[i] for i in np.argsort(-np.bincount(nearest, minlength=len(COLOURS)))[:2]]
    assert set(top) == {"blue", "red"}, top


def test_a_missing_prompt_image_names_its_own_key_and_the_show_goes_on(tmp_path, caplog):
    """It stopped the show at start naming [input] source; a missing source only warns: same kind, same way."""
    from tests.conftest import small_setup
    setup = small_setup()
    setup.input.prompt_image = str(tmp_path / "nothere.png")
    show = build_show(setup)
    said = [r.getMessage() for r in caplog.records if "nothere.png" in r.getMessage()]
    assert len(said) == 1 and "[input] prompt_image" in said[0] and "goes on" in said[0]
    assert "INPUT: PROMPT IMAGE MISSING" in show.warnings
    assert next_frame(show) is not None                    # the text prompts paint


def wait_for(condition, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_video_file_loops_on_its_own_thread_and_the_newest_picture_wins(tmp_path):
    square_video(tmp_path / "square.mp4", n=6, rate=60)
    bus = InputBus()
    service = VideoInput(str(tmp_path / "square.mp4"), bus)
    service.start()
    try:
        assert wait_for(lambda: service.pictures > 12)   # twice through 6 pictures: it looped
        assert bus.seq == service.pictures and bus.latest()[1].shape == (H, W, 3)
    finally:
        service.stop()
    assert service.problem == ""


def test_a_still_image_is_the_input(tmp_path):
    red_circle_on_blue(tmp_path / "still.png")
    store = build_show(small_setup()).store
    bus = InputBus()
    service = VideoInput("still.png", bus, store, base=tmp_path)
    service.start()
    try:
        assert wait_for(lambda: bus.latest() is not None and store.get("input.active"))
        assert bus.latest()[1].shape == (128, 128, 3)
    finally:
        service.stop()


# -- bad inputs: one sentence each, the generator keeps publishing -----------------------------------

def run_with_input(spec: str, tmp_path, caplog, until, **kw):
    """A show on the tiny model with `spec` as its input service; runs the generator until `until(service)`.
    Returns the service and the frames published meanwhile."""
    show = build_show(small_setup())
    service = VideoInput(spec, show.input_bus, show.store, show.warnings, base=tmp_path, retry_s=0.05, **kw)
    show.generator.start()
    service.start()
    try:
        seq = show.bus.seq
        assert wait_for(lambda: until(service), 15.0), service.problem
        assert wait_for(lambda: show.bus.seq > seq + 1)  # still painting
    finally:
        service.stop()
        show.generator.stop()
    return show, service


def sentences(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "vj.input.service" and r.levelno == logging.WARNING]


def test_a_camera_that_does_not_exist_is_one_sentence(tmp_path, caplog):
    show, service = run_with_input("camera:NoSuchCamera", tmp_path, caplog, lambda s: s.problem)
    said = sentences(caplog)
    assert len(said) == 1 and "NoSuchCamera" in said[0] and "\n" not in said[0]  # said once, not at every retry
    assert not show.store.get("input.active") and show.input_bus.latest() is None
    assert any("NoSuchCamera" in w for w in show.warnings)


def test_a_corrupt_file_is_one_sentence(tmp_path, caplog):
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    show, service = run_with_input("broken.mp4", tmp_path, caplog, lambda s: s.problem)
    said = sentences(caplog)
    assert len(said) == 1 and "broken.mp4" in said[0] and "\n" not in said[0], said
    assert show.input_bus.latest() is None


def test_an_ended_file_keeps_its_last_picture(tmp_path, caplog):
    square_video(tmp_path / "square.mp4", n=4)
    show, service = run_with_input("square.mp4", tmp_path, caplog, lambda s: "ended" in s.problem, loop=False)
    assert service.pictures == 4 and show.input_bus.seq == 4
    assert bright_x(show.input_bus.latest()[1]) > W / 2   # the square's last position, on the right


def test_a_source_is_reopened_when_it_returns(tmp_path, caplog):
    show = build_show(small_setup())
    service = VideoInput("later.png", show.input_bus, show.store, show.warnings, base=tmp_path, retry_s=0.05)
    service.start()
    try:
        assert wait_for(lambda: "does not exist" in service.problem)
        red_circle_on_blue(tmp_path / "later.png")
        assert wait_for(lambda: show.input_bus.latest() is not None and show.store.get("input.active"))
        assert service.problem == "" and not any(w.startswith("INPUT ") for w in show.warnings)
    finally:
        service.stop()


def test_a_bad_spec_raises_one_sentence(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_source("nothing-here.mp4", tmp_path)


def test_an_ndi_source_that_disappears_is_one_sentence_and_returns(tmp_path, caplog, ndi_loopback, monkeypatch):
    import threading

    from vj.input import ndi
    from vj.output.sinks import NdiSink
    monkeypatch.setattr(ndi, "GONE_S", 0.3)
    monkeypatch.setattr(ndi, "FIND_S", 1.0)
    name = f"vj-cam-{time.monotonic_ns()}"

    def sender(stop: threading.Event) -> threading.Thread:
        def send():
            sink = NdiSink(name, (W, H), 30)
            rgba = np.full((H, W, 4), 200, np.uint8)
            while not stop.wait(1 / 30):
                sink.send(rgba)
            sink.close()
        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        return thread

    show = build_show(small_setup())
    service = VideoInput(f"ndi:{name}", show.input_bus, show.store, show.warnings, retry_s=0.05)
    first = threading.Event()
    feeding = sender(first)
    show.generator.start()
    service.start()
    try:
        assert wait_for(lambda: show.store.get("input.active"), 15)
        first.set()
        feeding.join()                                           # the sender goes away
        assert wait_for(lambda: "is gone" in service.problem, 15), service.problem
        assert show.input_bus.latest() is not None              # the last picture stays
        seq = show.bus.seq
        assert wait_for(lambda: show.bus.seq > seq + 1)         # the generator keeps publishing
        said = sentences(caplog)
        assert said and "is gone" in said[0] and "\n" not in said[0]
        again = threading.Event()
        feeding = sender(again)                                  # ... and comes back
        assert wait_for(lambda: show.store.get("input.active") and service.problem == "", 20), service.problem
        again.set()
        feeding.join()
    finally:
        service.stop()
        show.generator.stop()
