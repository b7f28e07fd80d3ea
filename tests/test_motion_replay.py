"""`vj render --replay` moves the camera as the live set did: each frame's start time is in the
timeline, and the replay's generator reads it as its clock."""
from __future__ import annotations

import numpy as np
import torch

from tests.conftest import small_setup
from tests.test_record_replay import lossless_frames, wait_for
from vj.record import Recorder
from vj.record.replay import replay
from vj.record.timeline import read_timeline
from vj.show import build_show

FRAMES = 8


def test_replay_paints_the_same_camera_motion(tmp_path):
    setup = small_setup(temperature=0.0, noise=0.0)
    setup.record.folder = str(tmp_path)
    setup.record.generator_frames = "ffv1"
    torch.manual_seed(0)
    show = build_show(setup)
    recorder = Recorder(show)
    store, gen = show.store, show.generator
    store.set("record", True, "key")
    take = recorder.take
    made = 0
    while made < FRAMES:
        if made == 2:
            store.set("motion.x", 0.3, "osc")      # the picture slides right, 0.3 widths a second
            store.set("motion.rotate", 20.0, "osc")
        frame = gen.step()
        if frame is not None and frame.final:
            made += 1
            wait_for(lambda: take.frames.saved == made and take.timeline.frames_seen == made)
    store.set("record", False, "key")
    recorder.stop()
    _, events = read_timeline(take.paths.timeline)
    starts = [e["started"] for e in events if e["kind"] == "frame"]
    assert len(starts) == FRAMES and starts == sorted(starts)

    torch.manual_seed(0)
    replayed = []
    replay(take.paths.timeline, tmp_path / "replay.mkv", sound_from=None, progress=False, on_frame=replayed.append)
    live = lossless_frames(take.paths.frames)
    for i, (a, b) in enumerate(zip(live, replayed)):
        assert np.array_equal(a, b.pixels), f"frame {i} differs"
    moved = np.abs(live[-1].astype(int) - live[2].astype(int)).mean()
    assert moved > 5                                 # the camera did move the picture
