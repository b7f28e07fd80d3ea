"""Setup files (show files): TOML, read with tomllib, validated against dataclasses.

Each section is a dataclass; each field's comment-like `doc` and its `check` metadata are the
schema. Unknown keys are errors. Every message names the file, the key and what is allowed, in
one sentence, so a performer can fix a show file without reading code.
"""
from __future__ import annotations

import difflib
import tomllib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from engine.controls import SLOTS
from engine.augment import FRAMINGS
from engine.optimizer import STARTS
from engine.parametrization import COLOURS, KINDS as PARAMETRIZATIONS

from .textfile import TextFileError, read_text

SETUPS_DIR = Path(__file__).resolve().parent.parent / "setups"


class SetupError(ValueError):
    """A setup file is missing or wrong; the message is one sentence for the performer."""


def opt(default: Any, doc: str, lo: float | None = None, hi: float | None = None,
        choices: tuple = ()) -> Any:
    """A setup field with its doc and allowed values."""
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class ModelSetup:
    name: str = opt("builtin", "model spec: builtin, ViT-B-32:openai, ARCH:/path/weights.safetensors, /path/config.json")
    fallback: bool = opt(True, "run on the builtin model (with a HUD warning) when this one is not available offline")
    ensemble: list[str] = opt([], "more model specs guiding together with the first (iterations alternate)")
    device: str = opt("auto", "auto (cuda when present), cpu or cuda[:N]")
    precision: str = opt("auto", "auto (bf16 where the hardware has it, else fp32), fp32, bf16, or fp16 (CUDA only)",
                         choices=("auto", "fp32", "bf16", "fp16"))


@dataclass
class GeneratorSetup:
    width: int = opt(640, "frame width in pixels", 16, 8192)
    height: int = opt(360, "frame height in pixels", 16, 8192)
    seed: int = opt(0, "random seed of noise and augmentations", 0, 2**31 - 1)
    scale: int = opt(1, "optimize at 1/scale resolution and upsample; 1 is the paper's raw pixels", 1, 16)
    threads: int = opt(0, "CPU threads for the optimizer (0: torch's default)", 0, 256)
    parametrization: str = opt("pixels", "what the optimizer moves: pixels (the grid itself), pyramid (a Laplacian "
                               "pyramid, coarse levels faster), fourier (a 1/f-scaled spectrum) or shapes (flat "
                               "soft-edged shapes on a background)",
                               choices=PARAMETRIZATIONS)
    colour: str = opt("rgb", "colour head: rgb (clamped to 0..1) or decorrelated (lucid's colour matrix and a sigmoid)",
                      choices=COLOURS)
    levels: int = opt(4, "pyramid levels: 1, 1/2, 1/4, ... of the grid", 1, 8)
    level_lr: float = opt(2.0, "pyramid: level k learns level_lr**k times faster than the finest", 0.25, 8)
    shapes: int = opt(8, "shapes: how many shapes paint the picture", 1, 64)
    start: str = opt("uniform", "first frame after a reset: uniform (per-pixel noise, the paper's), smooth "
                     "(mid-grey plus coarse noise: nothing for the optimizer to clean up) or shapes (composed "
                     "from flat shapes, which the parametrization then carries on)", choices=STARTS)
    sketches: int = opt(1, "start = shapes: compose this many first frames at once and keep the one the guide "
                        "likes best, seen whole and in crops (more: surer compositions, a slower first frame)", 1, 16)
    framing: str = opt("crops", "what each view shows the guide: crops (random crops, the paper's; for CLIP), whole "
                       "(the whole frame, zoomed and skewed a little; for guides that read layout, as builtin) "
                       "or mixed (half of each)", choices=FRAMINGS)


@dataclass
class PostSetup:
    model: str = opt("", "post-process that cleans each frame: builtin-post, a .json path (weights beside it), "
                     "or empty for none; the live `post` parameter sets its strength")
    feedback: bool = opt(False, "the next frame starts from the cleaned picture, not the raw optimized one")


@dataclass
class PromptSetup:
    text: str = opt("", "what to paint")
    frames: int = opt(20, "frames per prompt in the scheduled deck", 1, 100_000)


@dataclass
class DisplaySetup:  # owned by the window (vj/display/)
    fullscreen: bool = opt(False, "start fullscreen")
    monitor: int = opt(0, "monitor index for fullscreen (`vj devices` lists them)", 0, 16)
    width: int = opt(1280, "window width when windowed", 16, 16384)
    height: int = opt(720, "window height when windowed", 16, 16384)
    hud: bool | None = opt(None, "show the HUD (default: on when windowed, off when fullscreen)")
    output_width: int = opt(0, "width of the output picture, the one recorded (0: the generator's aspect ratio)", 0, 8192)
    output_height: int = opt(720, "height of the output picture, the one recorded", 16, 8192)
    fps: float = opt(60.0, "display rate where the monitor gives no vsync (Xvfb, headless); with vsync the monitor "
                     "sets it", 1, 1000)
    preview: bool = opt(False, "a second, smaller window for the performer with the HUD; the show window stays clean")
    preview_width: int = opt(640, "preview window width", 16, 16384)
    preview_height: int = opt(360, "preview window height", 16, 16384)

    def output_size(self, frame_width: int, frame_height: int) -> tuple[int, int]:
        """The output picture's size: as set, or the generator's aspect at output_height (even width, for video)."""
        if self.output_width:
            return self.output_width, self.output_height
        return max(2, 2 * round(self.output_height * frame_width / frame_height / 2)), self.output_height


@dataclass
class OscSetup:  # owned by vj/osc/
    enabled: bool = opt(True, "listen for OSC")
    listen: str = opt("0.0.0.0", "address we listen on (0.0.0.0: every network interface; 127.0.0.1: this machine only)")
    port: int = opt(8000, "UDP port we listen on (TouchOSC sends to 8000 by default)", 1, 65535)
    feedback: bool = opt(True, "echo every changed value to the clients, so faders and labels show the truth")
    feedback_port: int = opt(9000, "UDP port feedback is sent to on each client (TouchOSC listens on 9000)", 1, 65535)
    feedback_hosts: list[str] = opt([], 'more feedback destinations, "host" (at feedback_port) or "host:port"')
    feedback_rate: float = opt(30.0, "most echoes per second per address; the latest value wins", 1, 1000)


@dataclass
class WebSetup:  # owned by vj/web/
    enabled: bool = opt(True, "serve the control page and OSCQuery (http://HOST:port/ in any browser)")
    listen: str = opt("", "address the page listens on (empty: the same as [osc] listen; 127.0.0.1: this machine only)")
    port: int = opt(8080, "TCP port of the control page, OSCQuery and its WebSocket (0: any free port)", 0, 65535)
    token: str = opt("", "access token every request must carry (?token=... in the page's address); empty: none")
    advertise: bool = opt(True, "announce OSCQuery and OSC by zeroconf (_oscjson._tcp, _osc._udp) so surfaces find us")
    rate: float = opt(30.0, "most value updates per second per parameter to each page; the latest value wins", 1, 1000)
    preview_fps: float = opt(4.0, "how often the page's preview picture refreshes (0: no preview)", 0, 30)


MIDI_CURVES = ("linear", "square", "sqrt", "exp", "log")  # defined in vj/midi/curves.py
MIDI_ENCODERS = ("absolute", "offset64", "twos")          # defined in vj/midi/mapping.py


@dataclass
class MidiMap:  # one [[midi.map]] row, owned by vj/midi/
    cc: int = opt(-1, "control change number (-1: this row is a note)", -1, 127)
    note: int = opt(-1, "note number (-1: this row is a CC)", -1, 127)
    channel: int = opt(0, "MIDI channel 1..16 (0: the [midi] channel)", 0, 16)
    param: str = opt("", "the parameter this control writes (`vj osc-spec` lists them)")
    action: str = opt("", "the action a press fires (next, prev, reseed, reset, ...)")
    value: float | None = opt(None, "a press sets the parameter to this value (buttons, pads)")
    lo: float | None = opt(None, "value at the bottom of the control's travel (default: the parameter's minimum)")
    hi: float | None = opt(None, "value at the top of the control's travel (default: the parameter's maximum)")
    curve: str = opt("linear", "how the travel maps onto lo..hi", choices=MIDI_CURVES)
    hold: bool = opt(False, "on/off parameters: on while held (default: each press toggles)")
    encoder: str = opt("absolute", "what the CC sends: absolute (0..127 is the travel), offset64 (relative: 65 is one "
                       "detent up, 63 one down) or twos (relative, two's complement: 1 up, 127 down)",
                       choices=MIDI_ENCODERS)
    step: float | None = opt(None, "relative encoders: change per detent in the parameter's units "
                             "(default: 1/100 of lo..hi; 1 for whole numbers)")
    lsb: int = opt(-1, "14-bit CC: the CC number of the low 7 bits (usually cc + 32; -1: 7-bit)", -1, 127)


@dataclass
class MidiSetup:  # owned by vj/midi/
    device: str = opt("", "input port name substring, any case (empty: no MIDI); `vj devices` lists them")
    channel: int = opt(0, "MIDI channel 1..16 the controller sends on (0: any)", 0, 16)
    takeover: bool = opt(True, "soft takeover: a knob changes nothing until it passes through the current value")
    map: list[MidiMap] = opt([], "controls: CCs and notes mapped to parameters and actions")
    output: str = opt("", "output port name substring for LEDs and motor faders (empty: the port named like device)")
    feedback: bool = opt(True, "light the controller: pads and buttons show their state, faders and rings their value")
    feedback_rate: float = opt(30.0, "most LED messages per second per parameter; the latest value wins", 1, 1000)
    on: int = opt(127, "note velocity or CC value of a lit LED (APC mini: 1 green, 3 red, 5 yellow)", 0, 127)
    off: int = opt(0, "note velocity or CC value of a dark LED", 0, 127)


@dataclass
class AudioRoute:  # one [[audio.route]] row, owned by vj/audio/ (checked against the live table at start)
    source: str = opt("energy", "audio feature: energy, bass, mid, high or onset")
    target: str = opt("", "number parameter it moves (`vj osc-spec` lists them), or an action fired on each onset")
    depth: float = opt(1.0, "change at full level, in the target's units (negative: the music lowers it)")
    curve: str = opt("linear", "linear, square (peaks stand out), sqrt (quiet parts move), smooth, or gate")
    offset: float = opt(0.0, "added while audio runs, whatever the level")


@dataclass
class ModRow:  # one [[mod]] row of the modulation matrix (vj/modulation.py; checked against the live table at start)
    source: str = opt("lfo.1", "audio.energy|bass|mid|high|onset, lfo.1..lfo.4 (-1..1) or beat (a pulse on each beat)")
    target: str = opt("", "number parameter it moves (`vj osc-spec` lists them), or an action fired on each hit "
                      "(audio.onset, beat)")
    depth: float = opt(1.0, "change at full level, in the target's units (negative: inverted)")
    curve: str = opt("linear", "linear, square (peaks stand out), sqrt (small levels move), smooth, or gate")
    offset: float = opt(0.0, "added while the source runs, whatever its level")


@dataclass
class AudioSetup:  # owned by vj/audio/
    device: str = opt("", "input device name substring or index; `vj devices` lists them (empty: no input)")
    file: str = opt("", "audio file (wav, mp3, flac, ogg) played in real time instead of a device, for rehearsal")
    loop: bool = opt(True, "play the file again from the start when it ends")
    play: bool = opt(True, "also play the file out loud when an output device exists")
    samplerate: int = opt(0, "input sample rate in Hz (0: the device's own)", 0, 384000)
    block_ms: float = opt(10.0, "analysis block in ms: shorter reacts sooner and costs more CPU", 2, 50)
    route: list[AudioRoute] = opt([], "audio features moving parameters (older form of [[mod]] rows with an audio. "
                                  "source; both work)")


@dataclass
class RecordSetup:  # owned by vj/record/
    folder: str = opt("recordings", "where recordings go (relative to the setup file)")
    fps: float = opt(30.0, "frames per second of the video (0: the display's refresh rate); 30 keeps up on 2 cores "
                     "with the generator running (README, Recording)", 0, 240)
    preset: str = opt("ultrafast", "x264 speed: faster presets drop fewer frames on a busy machine, files grow",
                      choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium"))
    hardware: bool = opt(True, "record with a hardware H.264 encoder (NVENC, VideoToolbox, Quick Sync) where this "
                         "machine has one; x264 otherwise")
    crf: int = opt(20, "x264 quality: 18 looks lossless, 23 is x264's default, higher is smaller", 0, 51)
    audio: bool = opt(True, "mux the audio input (microphone or [audio] file) into the video when there is one")
    timeline: bool = opt(True, "write every parameter change beside the video, for `vj render --replay`")
    generator_frames: str = opt("off", "also save each finished generator frame losslessly, before effects",
                                choices=("off", "png", "ffv1"))


@dataclass
class InputSetup:  # owned by vj/input/
    source: str = opt("", 'picture input: "camera:NAME" (`vj devices` lists cameras), "ndi:NAME", a video file '
                      '(looped) or an image, relative to the setup file (empty: no input)')
    loop: bool = opt(True, "play a video file again from the start when it ends")
    prompt_image: str = opt("", "an image file whose embedding is the image prompt (input.prompt weighs it) "
                            "instead of the live input")


@dataclass
class OutputSetup:  # owned by vj/output/
    name: str = opt("", "name the output is published under (empty: the show's name)")
    ndi: bool = opt(False, "send the output picture over NDI from the start (the live output.ndi turns it on and off)")
    local: bool = opt(False, "share the output with programs on this machine from the start: Syphon (macOS), Spout "
                      "(Windows), a v4l2loopback camera (Linux); the live output.local turns it on and off")
    fps: float = opt(0.0, "pictures sent per second (0: every display frame)", 0, 240)


@dataclass
class Setup:
    name: str = opt("untitled", "show name, used in recording file names")
    model: ModelSetup = field(default_factory=ModelSetup)
    generator: GeneratorSetup = field(default_factory=GeneratorSetup)
    post: PostSetup = field(default_factory=PostSetup)
    prompts: list[PromptSetup] = opt([], f"the deck: up to {SLOTS} prompt slots")
    params: dict[str, Any] = opt({}, "starting values of live parameters, by name (`vj osc-spec` lists them)")
    display: DisplaySetup = field(default_factory=DisplaySetup)
    osc: OscSetup = field(default_factory=OscSetup)
    midi: MidiSetup = field(default_factory=MidiSetup)
    web: WebSetup = field(default_factory=WebSetup)
    audio: AudioSetup = field(default_factory=AudioSetup)
    record: RecordSetup = field(default_factory=RecordSetup)
    input: InputSetup = field(default_factory=InputSetup)
    output: OutputSetup = field(default_factory=OutputSetup)
    mod: list[ModRow] = opt([], "the modulation matrix: sources (audio, LFOs, the beat) moving number parameters")
    path: Path | None = None

    @property
    def label(self) -> str:
        return str(self.path) if self.path else "<setup>"


def load_setup(path: str | Path, overrides: Sequence[str] = ()) -> Setup:
    """Read and validate a setup file, with `section.key=value` overrides applied first (TOML values,
    bare words are text: `osc.port=8001`, `generator.parametrization=pyramid`, `params.views=8`), so an
    override is checked exactly as the file is. Raises SetupError with one clear sentence."""
    p = Path(path)
    if not p.is_file():
        named = SETUPS_DIR / f"{p.name}" if p.suffix else SETUPS_DIR / f"{p.name}.toml"
        if named.is_file() and not p.parent.parts:
            p = named
        else:
            raise SetupError(f"{path}: no such setup file; `ls {SETUPS_DIR}` shows the shipped ones.")
    try:
        data = tomllib.loads(read_text(p))
    except tomllib.TOMLDecodeError as e:
        raise SetupError(f"{p}: not valid TOML ({e}); fix the line it names.") from e
    except TextFileError as e:
        raise SetupError(f"{p}: {e}.") from e
    except OSError as e:
        raise SetupError(f"{p}: cannot be read ({e.strerror or e}).") from e
    for item in overrides:
        _override(data, item)
    setup = parse_setup(data, f"{p} with {' '.join(overrides)}" if overrides else str(p))
    setup.path = p
    return setup


def _override(data: dict, item: str) -> None:
    """Apply one `section.key=value` to the parsed TOML `data` (params keys keep their dots)."""
    key, eq, text = item.partition("=")
    if not eq or not key.strip():
        raise SetupError(f"override {item!r} is not KEY=VALUE (e.g. osc.port=8001).")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    key = key.strip()
    *sections, name = key.split(".", 1 if key.startswith("params.") else 10)
    table = data
    for section in sections:
        table = table.setdefault(section, {})
        if not isinstance(table, dict):
            raise SetupError(f"override {item!r}: {section} is not a section of the setup.")
    table[name] = value


def parse_setup(data: dict, label: str = "<setup>") -> Setup:
    setup = _build(Setup, data, label, "", exclude={"path"})
    if len(setup.prompts) > SLOTS:
        raise SetupError(f"{label}: [[prompts]] has {len(setup.prompts)} entries; at most {SLOTS} slots are allowed.")
    return setup


def _did_you_mean(key: str, known: Iterable[str]) -> str:
    """' (did you mean 'temperature'?)' for a key one typo away from a known one, else ''."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _build(cls: type, data: Any, label: str, where: str, exclude: set[str] = frozenset()) -> Any:
    section = f"[{where}]" if where else "the top level"
    if not isinstance(data, dict):
        raise SetupError(f"{label}: {section} must be a table, got {data!r}.")
    known = {f.name: f for f in fields(cls) if f.name not in exclude}
    for key in data:
        if key not in known:
            raise SetupError(f"{label}: unknown key {_key(where, key)!r} in {section}{_did_you_mean(key, known)}; "
                             f"allowed: {', '.join(known)}.")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, f in known.items():
        if name in data:
            values[name] = _value(hints[name], data[name], f.metadata, label, _key(where, name))
        elif f.default is MISSING and f.default_factory is MISSING:
            raise SetupError(f"{label}: key {_key(where, name)!r} is required.")
    return cls(**values)


def _key(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _value(hint: Any, value: Any, meta: Any, label: str, key: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    doc = f" ({meta['doc']})" if meta and meta.get("doc") else ""
    if is_dataclass(hint):
        return _build(hint, value, label, key)
    if origin is list:
        if not isinstance(value, list):
            raise SetupError(f"{label}: {key} must be a list{doc}, got {value!r}.")
        return [_value(args[0], v, None if is_dataclass(args[0]) else meta, label, f"{key}[{i}]")
                for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise SetupError(f"{label}: [{key}] must be a table{doc}, got {value!r}.")
        return dict(value)
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in args if a is not type(None))
    kinds = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    ok = isinstance(value, hint) and not (hint is not bool and isinstance(value, bool))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        ok, value = True, float(value)
    if not ok:
        raise SetupError(f"{label}: {key} must be {kinds.get(hint, hint.__name__)}{doc}, got {value!r}.")
    if meta:
        lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
        if lo is not None and not lo <= value <= hi:
            raise SetupError(f"{label}: {key} must be in {lo:g}..{hi:g}{doc}, got {value!r}.")
        if choices and value not in choices:
            raise SetupError(f"{label}: {key} must be one of {', '.join(map(str, choices))}, got {value!r}.")
    return value


def apply_to_store(setup: Setup, store) -> None:
    """Put the deck and the [params] starting values into the live store, or say which key is wrong."""
    for i, slot in enumerate(setup.prompts, start=1):
        for name, value in ((f"prompt.{i}", slot.text), (f"prompt.{i}.frames", slot.frames)):
            ok, why = store.specs[name].check(value)
            if not ok:
                raise SetupError(f"{setup.label}: prompts[{i - 1}] {name} {why}.")
            store.set(name, value, "setup")
    for name, value in setup.params.items():
        spec = store.specs.get(name)
        if spec is None:
            raise SetupError(f"{setup.label}: unknown key 'params.{name}'{_did_you_mean(name, store.specs)}; "
                             "`vj osc-spec` lists the parameters.")
        if spec.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        ok, why = spec.check(value)
        if not ok:
            raise SetupError(f"{setup.label}: params.{name} {why}, got {value!r}.")
        store.set(name, value, "setup")
