"""The engine: the paper's CLIP-guided pixel optimization as a continuously running generator.

No window, no devices: drive it by setting parameters, read it by taking frames from the bus.
"""
from .bus import Frame, FrameBus
from .controls import make_store
from .generator import Generator, GeneratorConfig
from .models import Guide, ModelUnavailable, load_guide
from .params import Action, ParamSpec, ParamStore, Snapshot

__all__ = ["Action", "Frame", "FrameBus", "Generator", "GeneratorConfig", "Guide", "ModelUnavailable",
           "ParamSpec", "ParamStore", "Snapshot", "load_guide", "make_store"]
