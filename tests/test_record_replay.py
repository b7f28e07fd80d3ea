"""Replay: a recorded control timeline re-rendered offline lands every change on its recorded frame.

The "live" set here drives the generator synchronously, so the recorded positions are exact and the
replay must paint the very same pixels as the lossless copy taken while recording.
"""
from __future__ import annotations

import time

import av
import numpy as np
import torch

from tests.conftest import small_setup
from vj.record import Recorder
from vj.record.replay import replay
from vj.record.timeline import read_timeline
from vj.render import render
from vj.show import build_show

FRAMES = 12


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def record_a_set(tmp_path):
    """A short set with changes between frames and in the middle of one; returns the take."""
    setup = small_setup()
    setup.record.folder = str(tmp_path)
    setup.record.generator_frames = "ffv1"
    torch.manual_seed(0)                       # the tiny model's random weights, as in the replay
    show = build_show(setup)
    recorder = Recorder(show)
    store, gen = show.store, show.generator
    store.set("record", True, "key")
    take = recorder.take
    plan = {3: lambda: store.set("temperature", 80.0, "osc"),
            6: lambda: store.set("prompt.select", 2, "midi"),
            8: lambda: store.trigger("reseed", "key"),
            10: lambda: store.set("crossfade", 0.5, "osc")}
    made = 0
    while made < FRAMES:
        mid_frame = gen.opt.iteration == 1        # one of frame `made`'s two iterations done
        if made in plan and (made != 6 or mid_frame):
            plan.pop(made)()
        frame = gen.step()
        if frame is not None and frame.final:
            made += 1
            wait_for(lambda: take.frames.saved == made and take.timeline.frames_seen == made)
    store.set("record", False, "key")
    recorder.stop()
    return take


def lossless_frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as box:
        return [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]


def test_replay_paints_the_same_frames_with_the_changes_on_their_recorded_frames(tmp_path):
    take = record_a_set(tmp_path)
    head, events = read_timeline(take.paths.timeline)
    changes = [e for e in events if e["kind"] in ("set", "action") and e["name"] != "record"]
    assert [(e["name"], e["frame"]) for e in changes] == [
        ("temperature", 3), ("prompt.select", 6), ("reseed", 8), ("crossfade", 10)]
    assert any(e["kind"] == "seed" for e in events)  # the seed the reseed picked

    replayed = []
    torch.manual_seed(0)
    result = replay(take.paths.timeline, tmp_path / "replay.mkv", sound_from=None, progress=False,
                    on_frame=replayed.append)

    assert result.frames == list(range(FRAMES))
    applied = {a.event["name"]: a for a in result.applied if a.event["kind"] in ("set", "action")}
    for e in changes:
        assert applied[e["name"]].frame == e["frame"], e
        assert applied[e["name"]].it == e["it"] - head["it"], e
    temps = [f.stats["temperature"] for f in replayed]
    assert temps == [30.0] * 3 + [80.0] * (FRAMES - 3)
    assert [f.stats["mix"][0][0] for f in replayed][5:8] == [1, 2, 2]   # slot 2 from mid-frame 6 on
    live = lossless_frames(take.paths.frames)
    assert len(live) == FRAMES
    for i, (a, b) in enumerate(zip(live, replayed)):
        assert np.array_equal(a, b.pixels), f"frame {i} differs"
    with av.open(str(result.video)) as box:
        assert len(list(box.decode(video=0))) >= 1


def test_replay_at_higher_resolution_and_more_iterations_keeps_changes_on_their_frames(tmp_path):
    take = record_a_set(tmp_path)
    head, events = read_timeline(take.paths.timeline)
    result = replay(take.paths.timeline, tmp_path / "big.mkv", width=96, height=72, iterations_factor=2,
                    sound_from=None, progress=False)
    assert result.frames == list(range(FRAMES))
    for a in result.applied:
        if a.event["kind"] in ("set", "action"):
            assert a.frame == a.event["frame"], a.event
            assert a.it == 2 * (a.event["it"] - head["it"])
    with av.open(str(result.video)) as box:
        stream = box.streams.video[0]
        assert (stream.width, stream.height) == (96, 72)


def test_render_writes_a_playable_video_beside_the_pngs(tmp_path):
    paths = render(small_setup(scale=4), 3, tmp_path, progress=False)  # smoother than raw noise pixels
    assert len(paths) == 3 and all(p.suffix == ".png" for p in paths)
    with av.open(str(tmp_path / "render.mkv")) as box:
        assert box.streams.video[0].average_rate == 24
        frames = [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]
    assert len(frames) == 3
    from PIL import Image
    luma = [np.asarray(x, np.float32) @ np.float32([0.299, 0.587, 0.114])  # 4:2:0 keeps luma, blurs colour
            for x in [Image.open(p).convert("RGB") for p in paths] + frames]
    painted, decoded = luma[:3], luma[3:]
    for i, d in enumerate(decoded):
        errors = [np.abs(d - p).mean() for p in painted]
        assert errors[i] < 6 and errors[i] == min(errors), (i, errors)  # its own frame, in order


def test_png_copy_keeps_every_generator_frame_exactly(tmp_path):
    setup = small_setup()
    setup.record.folder = str(tmp_path)
    setup.record.generator_frames = "png"
    show = build_show(setup)
    recorder = Recorder(show)
    show.store.set("record", True, "key")
    painted = []
    while len(painted) < 4:
        frame = show.generator.step()
        if frame is not None and frame.final:
            painted.append(frame.pixels)
            wait_for(lambda: recorder.take.frames.saved == len(painted))
    show.store.set("record", False, "key")
    recorder.stop()
    from PIL import Image
    pngs = sorted(recorder.take.paths.frames.glob("frame_*.png"))
    assert len(pngs) == 4
    assert all(np.array_equal(np.asarray(Image.open(p)), px) for p, px in zip(pngs, painted))


def test_vj_render_replay_command_writes_the_video(tmp_path, capsys):
    from vj.cli import main
    take = record_a_set(tmp_path)
    out = tmp_path / "again.mkv"
    assert main(["render", "--replay", str(take.paths.timeline), "--video", str(out)]) == 0
    assert f"replayed {FRAMES} frames" in capsys.readouterr().out
    with av.open(str(out)) as box:
        assert box.streams.video[0].average_rate == take.rate and len(list(box.decode(video=0))) >= 1  # as recorded
