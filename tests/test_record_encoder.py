"""The video file and the threaded recording: frames, rates, sound placement and drops, decoded with PyAV."""
from __future__ import annotations

import av
import numpy as np

from vj.record.encoder import VideoFile, VideoFormat, pick_encoder
from vj.record.video import PictureClock, VideoRecording

W, H = 64, 48
SR = 48_000


def picture(k: int) -> np.ndarray:
    """A picture that says its number: flat grey level 8*k, so H.264 keeps it almost exactly."""
    return np.full((H, W, 3), (8 * k) % 256, np.uint8)


def decode(path):
    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        rate = stream.average_rate
        frames = [(f.pts * f.time_base, f.to_ndarray(format="rgb24")) for f in box.decode(video=0)]
    return rate, frames


def sound(path) -> np.ndarray:
    with av.open(str(path)) as box:
        if not box.streams.audio:
            return np.zeros((0, 2), np.float32)
        return np.concatenate([f.to_ndarray().T for f in box.decode(audio=0)])


def test_h264_is_available_in_pyavs_ffmpeg():
    assert pick_encoder("h264") == "libx264"


def test_file_keeps_every_picture_at_its_rate_with_sound_of_the_same_length(tmp_path):
    f = VideoFile(tmp_path / "a.mkv", VideoFormat(W, H, 30, audio_rate=SR))
    for k in range(30):
        f.write_picture(picture(k), k)
        f.write_sound(np.full((SR // 30, 2), 0.1, np.float32), k * SR // 30)
    f.close()
    rate, frames = decode(tmp_path / "a.mkv")
    assert rate == 30 and len(frames) == 30
    assert [round(float(t) * 30) for t, _ in frames] == list(range(30))
    for k, (_, px) in enumerate(frames):
        assert abs(float(px.mean()) - (8 * k) % 256) < 2.0
    audio = sound(tmp_path / "a.mkv")
    assert audio.shape[1] == 2 and abs(len(audio) - SR) <= 1024  # AAC pads to its 1024-sample frames


def test_ffv1_copy_is_lossless_and_odd_sizes_survive(tmp_path):
    rng = np.random.default_rng(0)
    pics = [(rng.random((49, 65, 3)) * 255).astype(np.uint8) for _ in range(3)]
    f = VideoFile(tmp_path / "b.mkv", VideoFormat(65, 49, rate=1000, codec="ffv1"))
    for i, p in enumerate(pics):
        f.write_picture(p, i * 250)
    f.close()
    _, frames = decode(tmp_path / "b.mkv")
    assert [float(t) for t, _ in frames] == [0.0, 0.25, 0.5]
    assert all(np.array_equal(px, p) for (_, px), p in zip(frames, pics))


def test_h264_crops_an_odd_window_to_even_size(tmp_path):
    f = VideoFile(tmp_path / "c.mkv", VideoFormat(W + 1, H + 1, 30))
    f.write_picture(np.full((H + 1, W + 1, 3), 100, np.uint8), 0)
    f.close()
    _, frames = decode(tmp_path / "c.mkv")
    assert frames[0][1].shape == (H, W, 3)


def test_picture_clock_records_every_other_frame_of_a_faster_display_despite_jitter():
    clock = PictureClock(30)
    rng = np.random.default_rng(1)
    slots = [clock.slot(k / 60 + rng.uniform(-0.004, 0.004)) for k in range(120)]
    kept = [s for s in slots if s is not None]
    assert kept == list(range(60))


def test_full_queue_drops_pictures_and_counts_them(tmp_path):
    rec = VideoRecording(tmp_path / "d.mkv", VideoFormat(640, 480, 60, preset="medium"), max_pictures=2)
    big = np.zeros((480, 640, 3), np.uint8)
    accepted = sum(rec.add_picture(big, k) for k in range(200))  # far faster than any encoder
    rec.finish()
    assert rec.wait(30)
    assert rec.dropped > 0 and accepted + rec.dropped == 200
    assert rec.written == accepted
    _, frames = decode(tmp_path / "d.mkv")
    assert len(frames) == accepted


def test_sound_lands_where_its_time_stamp_says_gaps_become_silence(tmp_path):
    rec = VideoRecording(tmp_path / "e.mkv", VideoFormat(W, H, 30, audio_rate=SR, audio_channels=1))
    block = SR // 100                              # 10 ms blocks, time-stamped like the audio input
    click_at = 0.5
    for n in range(100):                           # one second of sound, blocks 40..49 lost
        if 40 <= n < 50:
            continue
        data = np.zeros((block, 1), np.float32)
        start = n * block
        if start <= click_at * SR < start + block:
            data[round(click_at * SR) - start] = 0.9
        rec.add_sound(data, n / 100)
    for k in range(30):
        rec.add_picture(picture(k), k)
    rec.finish()
    assert rec.wait(30)
    audio = sound(tmp_path / "e.mkv")[:, 0]
    assert abs(len(audio) - SR) <= 1024
    peak = int(np.argmax(np.abs(audio)))
    assert abs(peak / SR - click_at) < 0.002     # within 2 ms of its time
    assert np.abs(audio[round(0.41 * SR):round(0.49 * SR)]).max() < 0.05  # the lost blocks: silence


def test_unwritable_folder_says_one_sentence_and_ends(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the recording folder should be")
    said = []
    rec = VideoRecording(blocker / "take.mkv", VideoFormat(W, H, 30), on_fault=said.append)
    assert rec.wait(10)
    assert said == [f"Recording could not start: {blocker} is a file, not a folder; move that file away or "
                    "set another [record] folder in the setup."]
    assert not rec.add_picture(picture(0), 0)
