"""Recording-folder and disk faults: each sentence names the real cause, fits the HUD, and the show goes on.

Kinds (issue 15): "an error sentence names the real cause and fits where it is shown" and "a disk
that fills". Faults a test cannot make for real without root (a read-only filesystem, a full disk)
are made by a fake at the system call the recorder meets them at, with the errno the kernel gives.
"""
from __future__ import annotations

import errno
import logging
import os
import shutil
import time
from collections import namedtuple
from itertools import takewhile

import av
import numpy as np

from tests.test_record_recorder import ctx, make, run_display  # noqa: F401  (ctx: a GL fixture)
from vj.display.hud import FontAtlas, Status, describe
from vj.record import video
from vj.record.encoder import VideoFile, VideoFormat
from vj.record.video import VideoRecording


def take_error(tmp_path, *folders) -> list[str]:
    """`record` turned on with each of `folders` as the [record] folder in turn: the sentences in record.error."""
    show, recorder = make(tmp_path)
    said = []
    for folder in folders:
        show.setup.record.folder = str(folder)
        show.store.set("record.error", "", "app")
        show.store.set("record", True, "osc")
        deadline = time.monotonic() + 5
        while not show.store.get("record.error") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert show.store.get("record") is False
        said.append(show.store.get("record.error"))
    recorder.stop()
    return said


def test_a_file_given_as_the_folder_is_named_as_a_file_not_file_exists(tmp_path):
    blocker = tmp_path / "recordings"
    blocker.write_text("a file where the folder should be")
    here, further_up = take_error(tmp_path, blocker, blocker / "2025" / "june")
    assert here == (f"Recording could not start: {blocker} is a file, not a folder; "
                    "move that file away or set another [record] folder in the setup.")
    assert f"{blocker} is a file, not a folder" in further_up   # a file further up the path: named too


def test_a_read_only_filesystem_is_named_as_such_not_permission_denied(tmp_path, monkeypatch):
    folder = tmp_path / "card"
    folder.mkdir()
    real_open, real_access = os.open, os.access

    def read_only_open(path, flags, *args, **kw):   # what the kernel answers on a read-only mount
        if str(path).startswith(str(folder)) and flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", read_only_open)
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p).startswith(str(folder))
                        and mode & os.W_OK else real_access(p, mode, **kw))
    said, = take_error(tmp_path, folder)
    assert said == (f"Recording could not start: {folder} is on a read-only disk; unlock or remount it, "
                    "or set another [record] folder in the setup.")
    assert "permission" not in said.lower()


def test_a_fat32_file_size_limit_is_not_called_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(DiskFillsAfter, "errno", errno.EFBIG)
    said = encode_until_the_disk_fails(tmp_path, pictures=9)
    assert said.startswith("Recording stopped: take.mkv reached the largest file its disk allows (FAT32")
    assert "full" not in said and "free some space" not in said and "the 0.2 s before are kept" in said


def test_recording_errors_and_every_hud_line_fit_the_window_and_are_read_whole():
    """A long folder path made the sentence run off the window's edge (it was cut at 150 characters)."""
    folder = "/media/performer/USB STICK/shows/2025/festival-of-light/main-stage/recordings"
    sentence = (f"Recording could not start: {folder} is on a read-only disk; "
                "unlock or remount it, or set another [record] folder in the setup.")
    snap = {"record": False, "record.error": sentence, "prompt.select": 1, "temperature": 30,
            "iterations": 4, "views": 4, "mode": "live", "brightness": 1.0, "noise": 1.0}
    atlas = FontAtlas(14)
    for width in (320, 640, 1280):
        lines = atlas.fit(describe(snap, None, Status(warnings=["AUDIO: " + sentence])), width)
        texts = [text for text, _ in lines]
        first = next(i for i, text in enumerate(texts) if text.startswith("REC"))
        rec = [texts[first]] + list(takewhile(lambda text: text.startswith("     "), texts[first + 1:]))
        assert "".join("".join(rec).split()) == "".join(f"REC {sentence}".split())   # all of it, in order
        glyphs = atlas.layout(lines)[1:]                                             # (row 0: the panel)
        assert (glyphs[:, 0] + glyphs[:, 2]).max() <= width                          # nothing past the edge
    assert len(rec) <= 2                       # at 1280 pixels it takes two lines of the HUD font at most


# -- a disk that fills ---------------------------------------------------------------------------------
class DiskFillsAfter(VideoFile):
    """A real file whose disk fills after `room` pictures: the next write fails as the kernel's would."""
    room, errno = 6, errno.ENOSPC

    def write_picture(self, rgb, pts):
        if self.pictures >= self.room:
            raise OSError(self.errno, os.strerror(self.errno), str(self.path))
        super().write_picture(rgb, pts)


def encode_until_the_disk_fails(tmp_path, pictures: int) -> str:
    """`pictures` pictures at 30 fps into a VideoRecording on a DiskFillsAfter file: what it said."""
    video.VideoFile = DiskFillsAfter
    try:
        said = []
        rec = VideoRecording(tmp_path / "take.mkv", VideoFormat(32, 32, 30), on_fault=said.append)
        for k in range(pictures):
            while not rec.add_picture(np.zeros((32, 32, 3), np.uint8), k) and rec.alive:
                time.sleep(0.001)
        rec.finish()
        assert rec.wait(10) and len(said) == 1
        return said[0]
    finally:
        video.VideoFile = VideoFile


def test_a_disk_that_fills_mid_take_ends_it_with_one_sentence_and_the_show_goes_on(ctx, tmp_path, monkeypatch,
                                                                                    caplog):
    monkeypatch.setattr(video, "VideoFile", DiskFillsAfter)
    show, recorder = make(tmp_path, fps=30.0)
    show.store.set("record", True, "key")
    with caplog.at_level(logging.ERROR):
        frames = run_display(ctx, recorder, 1.0, lambda fbo, k, t: fbo.clear(0.5, 0.5, 0.5, 1.0))
    assert frames > 30                                   # the display never waited for the disk
    folder = tmp_path / "recordings"
    error = show.store.get("record.error")
    assert error.startswith(f"Recording stopped: the disk holding {folder} is full; the ")
    assert error.endswith("s before are kept and playable; free some space or set another [record] folder "
                          "in the setup.")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [error]
    assert show.store.get("record") is False and not recorder.recording
    recorder.stop()
    with av.open(str(recorder.take.paths.video)) as box:
        assert len(list(box.decode(video=0))) == DiskFillsAfter.room   # what was written plays


def test_record_on_an_already_full_disk_says_so_and_leaves_no_empty_files(ctx, tmp_path, monkeypatch):
    """Pressing record again after the disk filled: one sentence, no empty take files piling up."""
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(2**30, 2**30 - 2**20, 2**20))
    show, recorder = make(tmp_path)
    show.store.set("record", True, "midi")
    run_display(ctx, recorder, 0.3, lambda fbo, k, t: fbo.clear(0.2, 0.2, 0.2, 1.0))
    folder = tmp_path / "recordings"
    assert show.store.get("record.error") == (f"Recording could not start: the disk holding {folder} is full; "
                                              "free some space or set another [record] folder in the setup.")
    assert show.store.get("record") is False and list(folder.iterdir()) == []
    recorder.stop()


def test_an_encoder_that_meets_a_full_disk_at_its_first_picture_names_the_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(DiskFillsAfter, "room", 0)
    assert encode_until_the_disk_fails(tmp_path, pictures=1) == (
        f"Recording stopped: the disk holding {tmp_path} is full; the 0.0 s before are kept and playable; "
        "free some space or set another [record] folder in the setup.")
