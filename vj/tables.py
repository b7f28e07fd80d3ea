"""The vj rows of the live parameter table, declared in one place below every vj module.

The engine declares its rows (prompts, temperature, noise, ...) in engine/controls.py; the window,
audio, recorder and MIDI rows are here, so that the show, the OSC address table, the docs and the
offline tools all read one table and imports run one way (vj modules import this, never the other
way round).
"""
from __future__ import annotations

from engine import ParamStore, make_store
from engine.params import Action, ParamSpec

# -- the window: effects on the display clock, so they show within a display frame ----------------
DISPLAY: list[ParamSpec] = [
    ParamSpec("brightness", "float", 1.0, "master brightness (0: black, 1: as painted, 2: twice as bright)", lo=0, hi=2),
    ParamSpec("blackout", "bool", False, "fade the output to black (and back when released)"),
    ParamSpec("fade.time", "float", 1.0, "seconds a blackout takes to fade out or in (0: cut)", lo=0, hi=10),
    ParamSpec("freeze", "bool", False, "hold the picture on screen while the generator goes on"),
    ParamSpec("smoothing", "float", 0.5, "edge-preserving smoothing of the noisy frames (0: raw pixels)", lo=0, hi=1),
    ParamSpec("flash", "float", 0.0, "white mixed over the picture (audio or a fader rides it)", lo=0, hi=1),
    ParamSpec("zoom", "float", 0.0, "zoom into the picture (0: none, 1: twice as close)", lo=0, hi=1),
    ParamSpec("hue", "float", 0.0, "hue rotation in turns (0.5: complementary colours)", lo=-1, hi=1),
    ParamSpec("hit.decay", "float", 0.25, "seconds a flash.hit or zoom.hit takes to die away", lo=0.01, hi=5),
    ParamSpec("fill", "bool", False, "fill the window (crop) instead of letterboxing the picture"),
    ParamSpec("hud", "bool", False, "performer's overlay: rates, prompts, levels, warnings (not recorded)"),
    ParamSpec("fullscreen", "bool", False, "window fullscreen on the setup's monitor"),
]
DISPLAY_ACTIONS: list[Action] = [
    Action("flash.hit", "one white flash that dies away over hit.decay"),
    Action("zoom.hit", "one zoom pulse that dies away over hit.decay"),
    Action("quit", "end the show (asks again: trigger twice within 3 seconds)"),
]

# -- audio: read-only rows are the analysis (published at block rate, ~100 Hz); the rest are knobs --
# Bands: bass 20-250 Hz, mid 250-4000 Hz, high 4000-16000 Hz (vj/audio/analysis.py).
# Analysis outputs a route may use as its source, as named in [[audio.route]] source = "...".
AUDIO_FEATURES = ("energy", "bass", "mid", "high", "onset")

AUDIO: list[ParamSpec] = [
    # published by the service (read-only)
    ParamSpec("audio.energy", "float", 0.0, "overall loudness, auto-gained, 0..1 (drives the noise by default)",
              lo=0, hi=1, readonly=True),
    ParamSpec("audio.bass", "float", 0.0, "level of 20-250 Hz (kick, bass line), auto-gained, 0..1", lo=0, hi=1,
              readonly=True),
    ParamSpec("audio.mid", "float", 0.0, "level of 250-4000 Hz (voice, snare, most instruments), 0..1", lo=0, hi=1,
              readonly=True),
    ParamSpec("audio.high", "float", 0.0, "level of 4-16 kHz (hats, cymbals), auto-gained, 0..1", lo=0, hi=1,
              readonly=True),
    ParamSpec("audio.onset", "float", 0.0, "1 at each hit (onset), dying away over audio.release", lo=0, hi=1,
              readonly=True),
    ParamSpec("audio.onsets", "int", 0, "hits counted since the input opened", lo=0, hi=2**31 - 1, readonly=True),
    ParamSpec("audio.db", "float", -120.0, "input level in dBFS (RMS after audio.gain; a full-scale sine is -3)",
              lo=-120, hi=20, readonly=True),
    ParamSpec("audio.active", "bool", False, "an audio input is running (false: no device, file ended)",
              readonly=True),
    # the performer's knobs
    ParamSpec("audio.amount", "float", 1.0, "how much the music drives the picture: scales every audio route "
              "(0: let go, base values return)", lo=0, hi=2),
    ParamSpec("audio.noise.depth", "float", 1.0, "noise added at full energy (noise = base + offset + depth x energy)",
              lo=0, hi=4),
    ParamSpec("audio.noise.offset", "float", 0.0, "noise added while audio runs, whatever the energy", lo=-4, hi=4),
    ParamSpec("audio.gain", "float", 0.0, "input trim in dB, before the analysis", lo=-24, hi=48),
    ParamSpec("audio.auto_gain", "bool", True, "automatic gain: quiet rooms and loud clubs both reach full range"),
    ParamSpec("audio.attack", "float", 5.0, "ms the levels take to rise (63% of a step)", lo=0, hi=1000),
    ParamSpec("audio.release", "float", 200.0, "ms the levels and the hit pulse take to fall (to 37%)",
              lo=0, hi=5000),
    ParamSpec("audio.sensitivity", "float", 0.5, "onset sensitivity: 1 finds every rise, 0 only big hits",
              lo=0, hi=1),
]

# -- the recorder: `record` is an ordinary parameter, so key, OSC, MIDI and --record act alike ------
RECORD: list[ParamSpec] = [
    ParamSpec("record", "bool", False, "record the output (picture as shown, sound, control timeline) to disk"),
    ParamSpec("record.dropped", "int", 0, "pictures of this recording dropped because the encoder fell behind",
              lo=0, hi=2**31 - 1, readonly=True),
    ParamSpec("record.error", "str", "", "why the last recording stopped on its own (empty: it did not)",
              max_len=1000, readonly=True),
]

# -- the show's health: every part counts the failures it caught and recovered from ----------------
HEALTH: list[ParamSpec] = [
    ParamSpec("errors", "int", 0, "failures caught and recovered from since the show started, in any part "
              "(generator, display, OSC, MIDI, audio, recorder); the HUD's ERRORS line and the log say which",
              lo=0, hi=2**31 - 1, readonly=True),
]

# -- video in and out: the mix and image prompt weights are engine rows (engine/controls.py) --------
INPUT: list[ParamSpec] = [
    ParamSpec("input.active", "bool", False, "the [input] source delivers pictures (false: none set, not found, "
              "ended or gone)", readonly=True),
]
OUTPUT: list[ParamSpec] = [
    ParamSpec("output.ndi", "bool", False, "send the output picture over NDI under [output] name (never the HUD)"),
    ParamSpec("output.local", "bool", False, "share the output with programs on this machine: Syphon (macOS), "
              "Spout (Windows), a v4l2loopback camera (Linux)"),
]

# -- MIDI --------------------------------------------------------------------------------------------
MIDI: list[ParamSpec] = [
    ParamSpec("learn", "str", "", "MIDI learn: name a parameter or action, move a control, it is mapped and saved "
              "to the setup (empty: cancel)", max_len=64),
]


# -- tempo: one clock from one source, changes on the beat, LFOs in beats (vj/tempo/) -----------------
TEMPO_SOURCES = ("tap", "fixed", "midi", "link")
QUANTIZE = ("off", "beat", "bar", "2bars", "4bars")
TEMPO: list[ParamSpec] = [
    ParamSpec("tempo.source", "enum", "tap", "where the tempo comes from: tap (T key, /vj/tap, a MIDI note), fixed "
              "(tempo.fixed), midi (the [midi] device's clock) or link (Ableton Link peers on the network)",
              choices=TEMPO_SOURCES),
    ParamSpec("tempo.fixed", "float", 120.0, "BPM of the fixed source, and of the tap source until it is tapped",
              lo=20, hi=300),
    ParamSpec("tempo.beats_per_bar", "int", 4, "beats in a bar (bars quantize changes and the deck)", lo=1, hi=16),
    ParamSpec("tempo.bpm", "float", 120.0, "the clock's tempo in beats per minute", lo=0, hi=999, readonly=True),
    ParamSpec("tempo.beat", "int", 0, "beats counted since the clock started (a bar starts where it divides by "
              "beats_per_bar)", lo=-2**31, hi=2**31 - 1, readonly=True),
    ParamSpec("tempo.phase", "float", 0.0, "where the clock is in the beat, 0..1", lo=0, hi=1, readonly=True),
    ParamSpec("tempo.bar_phase", "float", 0.0, "where the clock is in the bar, 0..1", lo=0, hi=1, readonly=True),
    ParamSpec("tempo.running", "bool", True, "the clock runs (false: a MIDI clock stopped, Link without peers "
              "still runs)", readonly=True),
    ParamSpec("tempo.pulse.decay", "float", 0.15, "seconds the beat pulse (modulation source `beat`) takes to "
              "fall to 37%", lo=0.01, hi=4),
    ParamSpec("quantize", "enum", "off", "changes (next, prev, prompt.select, a prompt text, reseed, flash.hit, "
              "zoom.hit) wait for the next beat, bar, 2 or 4 bars", choices=QUANTIZE),
    ParamSpec("quantize.lookahead", "float", 0.0, "ms a quantized change fires before the beat", lo=0, hi=2000),
    ParamSpec("quantize.latency", "bool", True, "also fire early by the generator's measured time per frame, so "
              "the change shows on the beat"),
    ParamSpec("crossfade.beats", "float", 0.0, "next fades to the next prompt over this many beats (0: cut)",
              lo=0, hi=64),
    ParamSpec("deck.bars", "int", 0, "go to the next prompt every this many bars (0: off)", lo=0, hi=64),
    ParamSpec("lfo.amount", "float", 1.0, "scales every LFO and beat route of the modulation matrix (0: let go)",
              lo=0, hi=2),
]
TEMPO_ACTIONS: list[Action] = [
    Action("tap", "tap tempo: taps set the BPM (source tap) and each tap lands on a beat"),
    Action("downbeat", "the next beat starts a bar"),
]
LFO_COUNT = 4
LFO_SHAPES = ("sine", "triangle", "saw", "square", "random")
LFO: list[ParamSpec] = [row for i in range(1, LFO_COUNT + 1) for row in (
    ParamSpec(f"lfo.{i}.shape", "enum", "sine", f"waveform of modulation source lfo.{i} (-1..1; random: a new "
              "level each period)", choices=LFO_SHAPES),
    ParamSpec(f"lfo.{i}.beats", "float", 1.0, f"period of lfo.{i} in beats (0: free-running at lfo.{i}.hz)",
              lo=0, hi=64),
    ParamSpec(f"lfo.{i}.hz", "float", 0.5, f"cycles per second of lfo.{i} when lfo.{i}.beats is 0", lo=0.001, hi=20),
    ParamSpec(f"lfo.{i}.phase", "float", 0.0, f"phase offset of lfo.{i} in cycles", lo=0, hi=1),
)]


def app_tables() -> list[tuple[list[ParamSpec], list[Action]]]:
    """The vj rows, (specs, actions) per part, added to the engine's in this order."""
    return [(DISPLAY, DISPLAY_ACTIONS), (AUDIO, []), (RECORD, []), (INPUT, []), (OUTPUT, []), (MIDI, []),
            (TEMPO, TEMPO_ACTIONS), (LFO, []), (HEALTH, [])]


def app_store() -> ParamStore:
    """A store with the engine's rows and every vj row: the live show's whole parameter table."""
    store = make_store()
    for specs, actions in app_tables():
        store.add(specs, actions)
    return store
