"""The recorder's H.264 encoder: a hardware one where it opens and encodes here, x264 otherwise, and why."""
from __future__ import annotations

import pytest

from vj.record import encoder
from vj.record.encoder import HARDWARE_H264, VideoFile, VideoFormat, choose_h264


@pytest.fixture(autouse=True)
def fresh_choice():
    choose_h264.cache_clear()
    yield
    choose_h264.cache_clear()


def test_without_working_hardware_x264_is_chosen_and_each_encoder_tried_is_named(monkeypatch):
    monkeypatch.setattr(encoder, "_probe", lambda name, pix_fmt: "no device")
    choice = choose_h264()
    assert choice.name == "libx264"
    assert all(f"{name}: no device" in choice.why for name, *_ in HARDWARE_H264)


def test_a_hardware_encoder_that_works_is_chosen(monkeypatch):
    monkeypatch.setattr(encoder, "_probe", lambda name, pix_fmt: None if name == "h264_qsv" else "absent")
    choice = choose_h264()
    assert choice.name == "h264_qsv" and "Quick Sync" in choice.why


def test_hardware_can_be_refused_and_the_probe_reports_a_missing_encoder():
    assert choose_h264(hardware=False).name == "libx264"
    assert encoder._probe("h264_no_such_encoder", "yuv420p") == "not in this FFmpeg build"


def test_the_file_records_with_the_chosen_encoder(tmp_path):
    import numpy as np
    f = VideoFile(tmp_path / "a.mkv", VideoFormat(64, 48, 30, hardware=False))
    f.write_picture(np.zeros((48, 64, 3), np.uint8), 0)
    f.close()
    assert f.choice.name == "libx264" and (tmp_path / "a.mkv").stat().st_size > 0
