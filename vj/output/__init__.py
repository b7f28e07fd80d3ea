"""Video out to other programs: NDI on the network, Syphon / Spout / a virtual camera on this machine."""
from .service import Outputs
from .sinks import OutputUnavailable, open_sink

__all__ = ["OutputUnavailable", "Outputs", "open_sink"]
