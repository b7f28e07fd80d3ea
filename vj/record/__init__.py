"""Recording a set: the output video with its sound, the control timeline, the generator's frames.

    encoder.py    one Matroska file through PyAV (H.264 + AAC, or lossless FFV1)
    readback.py   pixels from the GPU without stalling the render loop (pixel buffer objects)
    video.py      a recording's encoder thread behind a bounded queue; sound placed by its time
    timeline.py   every parameter change as JSON Lines, and reading it back
    frames.py     a lossless copy of each finished generator frame
    paths.py      file names from date, time and show name
    recorder.py   the service: takes start and stop with the `record` parameter
    replay.py     `vj render --replay`: the set re-rendered offline from its timeline
"""
from .recorder import Recorder

__all__ = ["Recorder"]
