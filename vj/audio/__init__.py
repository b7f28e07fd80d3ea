"""Audio: sound in (a device or a file), analysed per block, published as read-only parameters
(`audio.energy`, `audio.bass`, `audio.mid`, `audio.high`, `audio.onset`, ...) and routed onto any
number parameter (energy -> noise by default).

    source.py      where blocks come from: DeviceSource (sounddevice), FileSource (PyAV, real time)
    analysis.py    pure numpy: levels, bands, onsets, envelope, automatic gain (tested without devices)
    modulation.py  audio's routes in the modulation matrix (vj/modulation.py): feature -> parameter
    service.py     AudioInput: the thread tying them together; add_listener() is the recorder's tap
"""
from .analysis import BANDS, AnalysisConfig, Analyzer, Envelope, Features
from .service import AudioInput, source_factory
from .source import AudioSource, AudioUnavailable, DeviceSource, FileSource, device_lines

__all__ = ["BANDS", "AnalysisConfig", "Analyzer", "AudioInput", "AudioSource", "AudioUnavailable", "DeviceSource",
           "Envelope", "Features", "FileSource", "device_lines", "source_factory"]
