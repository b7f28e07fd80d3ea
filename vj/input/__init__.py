"""Video in: a camera, a video file, a still image or an NDI source, decoded on its own thread into
the engine's input bus (engine/inputs.py), newest picture wins."""
from .service import VideoInput
from .sources import InputError, open_source

__all__ = ["InputError", "VideoInput", "open_source"]
