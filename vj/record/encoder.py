"""One video file written with PyAV: an H.264 picture stream and, optionally, an AAC sound stream.

Synchronous and single-threaded: the live recorder drives it from its encoder thread, the offline
renderer from its loop. The container is Matroska because it is written front to back in clusters:
a file cut short (kill -9, power loss, a full disk) plays up to its last complete cluster. Clusters
closed every quarter second and packets flushed at once bound the loss to well under a second
(measured: about 0.3 s, mostly the frames inside x264's look-ahead).
"""
from __future__ import annotations

import logging
import functools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

log = logging.getLogger(__name__)

# Preferred software encoders, best first; the first one PyAV's FFmpeg can encode with is used.
H264_ENCODERS = ("libx264", "libopenh264", "mpeg4")
# Hardware H.264 encoders, tried first (codec="h264", hardware=True): FFmpeg name, the hardware, its
# pixel format and options for live use. Each must open and encode a test picture to be chosen: a
# build can list NVENC on a machine without an NVIDIA GPU. (VAAPI is left out: FFmpeg's h264_vaapi
# takes only hardware frames, which PyAV cannot upload.)
HARDWARE_H264 = (
    ("h264_nvenc", "NVENC (NVIDIA)", "yuv420p", {"preset": "p2", "tune": "ll", "rc": "vbr", "cq": "{crf}"}),
    ("h264_videotoolbox", "VideoToolbox (Apple)", "nv12", {"realtime": "1", "q:v": "65"}),
    ("h264_qsv", "Quick Sync (Intel)", "nv12", {"preset": "veryfast", "global_quality": "{crf}"}),
)
PIXEL_FORMATS = {3: "rgb24", 4: "rgba"}  # by channel count of the pictures handed in


@dataclass(frozen=True)
class VideoFormat:
    """What to write. `rate` is frames per second; pictures are stamped in frames (1/rate units)."""
    width: int
    height: int
    rate: Fraction | int = 60
    codec: str = "h264"          # h264 (best available encoder), or an FFmpeg encoder name (ffv1, ...)
    preset: str = "superfast"    # x264 speed/size trade-off; faster presets drop fewer frames
    crf: int = 20                # x264 constant quality: 0 lossless, 18 visually lossless, 23 default
    keyframe_s: float = 1.0      # seconds between keyframes: at most this much is lost in a crash
    audio_rate: int = 0          # samples per second of the sound stream; 0: no sound
    audio_channels: int = 2
    hardware: bool = False       # h264: a hardware encoder where this machine has one (choose_h264)


@dataclass(frozen=True)
class EncoderChoice:
    """The FFmpeg encoder picked for H.264 and why (one sentence, for logs and bench.record)."""
    name: str
    why: str


@functools.cache
def choose_h264(hardware: bool = True) -> EncoderChoice:
    """The H.264 encoder to record with: the first hardware encoder (HARDWARE_H264) that opens and
    encodes a test picture here, else the best software one (x264). Probed once per process."""
    tried = []
    for name, what, pix_fmt, _ in HARDWARE_H264 if hardware else ():
        problem = _probe(name, pix_fmt)
        if problem is None:
            return EncoderChoice(name, f"{what} hardware encoder available")
        tried.append(f"{name}: {problem}")
    software = pick_encoder("h264")
    why = "no hardware encoder works here (" + "; ".join(tried) + ")" if tried else "hardware encoders not asked for"
    return EncoderChoice(software, f"{why}; software {software}")


def _probe(name: str, pix_fmt: str) -> str | None:
    """None if encoder `name` opens and encodes one small picture here, else why not (short)."""
    try:
        av.Codec(name, "w")
    except Exception:
        return "not in this FFmpeg build"
    try:
        ctx = av.CodecContext.create(name, "w")
        ctx.width, ctx.height, ctx.pix_fmt = 256, 144, pix_fmt
        ctx.time_base = Fraction(1, 30)
        ctx.framerate = Fraction(30)
        ctx.open()
        frame = av.VideoFrame(256, 144, pix_fmt)
        frame.pts = 0
        ctx.encode(frame)
        ctx.encode(None)
        return None
    except Exception as e:  # no device, no driver, no licence: FFmpeg says which
        return str(e).splitlines()[0][:120] or type(e).__name__


def pick_encoder(codec: str) -> str:
    """The FFmpeg encoder for `codec`: for h264 the best one this PyAV build has."""
    candidates = H264_ENCODERS if codec == "h264" else (codec,)
    for name in candidates:
        try:
            av.Codec(name, "w")
            return name
        except Exception:  # av raises UnknownCodecError or ValueError depending on the version
            continue
    raise RuntimeError(f"this PyAV build cannot encode {codec} (tried {', '.join(candidates)}); "
                       "reinstall PyAV from its wheels, which bundle libx264.")


def even(n: int) -> int:
    """4:2:0 video needs even sizes; odd window sizes lose their last row or column."""
    return max(2, n - n % 2)


_said: set[str] = set()


def _say_once(sentence: str) -> None:
    """Log an adjustment the first time it happens in this process, not at every take."""
    if sentence not in _said:
        _said.add(sentence)
        log.warning(sentence)


class VideoFile:
    """A Matroska file being written. Raises OSError from `__init__` and `write_*` on I/O failure;
    `close()` never raises, so whatever was written stays playable."""

    def __init__(self, path: str | Path, fmt: VideoFormat) -> None:
        self.path = Path(path)
        self.fmt = fmt
        if fmt.codec == "h264":
            self.choice = choose_h264(fmt.hardware)
        else:
            self.choice = EncoderChoice(pick_encoder(fmt.codec), f"{fmt.codec} asked for")
        encoder = self.choice.name
        pix_fmt = self._pixel_format(encoder)
        self.width, self.height = fmt.width, fmt.height
        if pix_fmt in ("yuv420p", "nv12"):
            self.width, self.height = even(fmt.width), even(fmt.height)
            if (self.width, self.height) != (fmt.width, fmt.height):
                _say_once(f"{fmt.width}x{fmt.height} pictures are written as {self.width}x{self.height} videos "
                          "(H.264 in 4:2:0 needs even sizes; the last row or column is left out); give even "
                          "sizes ([display] output_width/output_height, --width/--height) to keep every pixel.")
        self.pictures = 0
        self.samples = 0
        brief = self.choice.why.split(" (")[0]   # the full reason per encoder: `vj -v`, bench.record
        log.info("encoding %s with %s (%s)", self.path.name, encoder, brief)
        log.debug("encoder choice: %s", self.choice.why)
        rate = Fraction(fmt.rate)
        # flush_packets: hand every packet to the OS at once, so a killed process loses no buffer;
        # cluster_time_limit: close a Matroska cluster (written only when closed) every 1/4 s;
        # max_interleave_delta: never hold more than a second of picture waiting for late sound.
        self._box = av.open(str(self.path), "w", format="matroska",
                            options={"flush_packets": "1", "cluster_time_limit": "250",
                                     "max_interleave_delta": "1000000"})
        try:
            self._video = self._box.add_stream(encoder, rate=rate, options=self._video_options(encoder, rate))
            self._video.width, self._video.height = self.width, self.height
            self._video.pix_fmt = pix_fmt
            self._audio = None
            if fmt.audio_rate:
                self._audio = self._box.add_stream("aac", rate=fmt.audio_rate)
                self._audio.codec_context.layout = "mono" if fmt.audio_channels == 1 else "stereo"
        except BaseException:
            self._box.close()
            raise
        self._closed = False

    def _video_options(self, encoder: str, rate: Fraction) -> dict[str, str]:
        gop = str(max(1, round(float(rate) * self.fmt.keyframe_s)))
        if encoder == "libx264":
            # zerolatency: no look-ahead or B-frames, so each picture costs the same and leaves at once
            return {"preset": self.fmt.preset, "tune": "zerolatency", "crf": str(self.fmt.crf), "g": gop}
        for name, _, _, options in HARDWARE_H264:
            if encoder == name:
                return {**{k: v.format(crf=self.fmt.crf) for k, v in options.items()}, "g": gop}
        if encoder == "ffv1":
            return {"level": "3", "slicecrc": "1"}  # every frame stands alone, each slice checksummed
        return {"g": gop}

    @staticmethod
    def _pixel_format(encoder: str) -> str:
        hardware = {name: pix_fmt for name, _, pix_fmt, _ in HARDWARE_H264}
        return "bgr0" if encoder == "ffv1" else hardware.get(encoder, "yuv420p")  # ffv1 stays lossless RGB

    @property
    def has_audio(self) -> bool:
        return self._audio is not None

    def write_picture(self, rgb: np.ndarray, pts: int) -> None:
        """Encode one (H, W, 3) RGB or (H, W, 4) RGBA uint8 picture, row 0 at the top, at `pts` (1/rate units)."""
        rgb = np.ascontiguousarray(self._fit(rgb))  # read-back pictures arrive as flipped views
        frame = av.VideoFrame.from_ndarray(rgb, format=PIXEL_FORMATS[rgb.shape[2]])
        frame = frame.reformat(format=self._video.pix_fmt)
        frame.pts = pts
        self._mux(self._video.encode(frame))
        self.pictures += 1

    def write_sound(self, block: np.ndarray, pts: int) -> None:
        """Encode (frames, channels) float32 samples in -1..1 starting at sample `pts`."""
        if self._audio is None or len(block) == 0:
            return
        planar = np.ascontiguousarray(self._channels(block).T, dtype=np.float32)
        layout = "mono" if planar.shape[0] == 1 else "stereo"
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=layout)
        frame.sample_rate = self.fmt.audio_rate
        frame.time_base = Fraction(1, self.fmt.audio_rate)
        frame.pts = pts
        self._mux(self._audio.encode(frame))
        self.samples += len(block)

    def close(self) -> None:
        """Flush the encoders and finish the file. Errors (a full disk) are logged, never raised."""
        if self._closed:
            return
        self._closed = True
        try:
            for stream in (self._video, self._audio):
                if stream is not None:
                    self._mux(stream.encode(None))
        except Exception as e:  # the file up to here stays playable; only the tail is lost
            log.debug("flushing %s failed: %s", self.path, e)
        try:
            self._box.close()
        except Exception as e:
            log.debug("closing %s failed: %s", self.path, e)

    def _mux(self, packets) -> None:
        for packet in packets:
            self._box.mux(packet)

    def _fit(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        if (h, w) == (self.height, self.width):
            return rgb
        if 0 <= h - self.height <= 1 and 0 <= w - self.width <= 1:
            return rgb[:self.height, :self.width]  # odd size: drop the last row/column
        # The window was resized mid-recording: scale to the file's size.
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format=PIXEL_FORMATS[rgb.shape[2]])
        return frame.reformat(width=self.width, height=self.height).to_ndarray()

    def _channels(self, block: np.ndarray) -> np.ndarray:
        block = block.reshape(len(block), -1)
        want = self.fmt.audio_channels if self.fmt.audio_channels in (1, 2) else 2
        if block.shape[1] == want:
            return block
        if want == 1:
            return block.mean(axis=1, keepdims=True)
        return np.repeat(block, 2, axis=1) if block.shape[1] == 1 else block[:, :2]
