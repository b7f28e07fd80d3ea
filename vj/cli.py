"""The `vj` command. Only `main()` catches errors and exits; everything below raises."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from engine import ModelUnavailable

from .display import DisplayUnavailable, ShaderError
from .setup import SetupError, load_setup

log = logging.getLogger("vj")


def _render(a: argparse.Namespace) -> None:
    if a.replay:
        from .record.replay import replay
        out = Path(a.video or Path(a.replay).with_suffix("").with_suffix(".replay.mkv"))
        result = replay(a.replay, out, a.width, a.height, a.iterations_factor, a.fps)
        print(f"replayed {len(result.frames)} frames, {len(result.applied)} changes, to {out}")
        return
    if not a.setup:
        raise SetupError("vj render needs a setup file (or --replay TIMELINE.jsonl).")
    from .render import render
    setup = load_setup(a.setup, a.set)
    setup.generator.width = a.width or setup.generator.width
    setup.generator.height = a.height or setup.generator.height
    render(setup, a.frames, Path(a.out), video=Path(a.video) if a.video else None, fps=a.fps or 24.0)  # logs its end


def _fetch(a: argparse.Namespace) -> None:
    from engine.models import fetch
    spec = a.spec
    if spec.endswith(".toml") or Path(spec).is_file():
        setup = load_setup(spec)
        specs = [setup.model.name, *setup.model.ensemble]
    else:
        specs = [spec]
    for s in specs:
        print(f"{s}: {fetch(s)}")


def _models(a: argparse.Namespace) -> None:
    import open_clip
    from engine.models import builtin_models
    print("\n".join(builtin_models()))
    for name, tag in open_clip.list_pretrained():
        print(f"{name}:{tag}")


def _run(a: argparse.Namespace) -> None:
    from .app import run
    setup = load_setup(a.setup, a.set)
    if a.fullscreen or a.windowed:
        setup.display.fullscreen = a.fullscreen
    if a.monitor is not None:
        setup.display.monitor = a.monitor
    if a.preview:
        setup.display.preview = True
    if a.ndi is not None:
        setup.output.ndi = True
        setup.output.name = a.ndi or setup.output.name
    _audio_args(a, setup)
    if a.record:
        setup.params["record"] = True  # the recorder starts a take as the show starts
    run(setup, a.seconds, a.headless)


def _audio_args(a: argparse.Namespace, setup) -> None:
    """--audio-device / --audio-file replace the setup's [audio] input (a file path is from here)."""
    if a.audio_device is not None:
        setup.audio.device, setup.audio.file = a.audio_device, ""
    if a.audio_file is not None:
        setup.audio.file = str(Path(a.audio_file).resolve())


# `vj devices`: one (title, "module:function") row per kind of device; the function returns lines.
DEVICE_LISTS = [
    ("monitors", "vj.display.window:list_monitors"),
    ("MIDI inputs", "vj.midi.tools:list_ports"),
    ("audio inputs", "vj.audio.source:device_lines"),
    ("cameras ([input] source = \"camera:NAME\")", "vj.input.sources:list_cameras"),
    ("NDI sources ([input] source = \"ndi:NAME\", vj view NAME)", "vj.input.ndi:list_sources"),
]


def _devices(a: argparse.Namespace) -> None:
    import importlib
    for title, where in DEVICE_LISTS:
        module, name = where.split(":")
        print(f"{title}:")
        try:
            lines = getattr(importlib.import_module(module), name)()
        except Exception as e:  # one missing kind of device must not hide the others
            lines = [f"(none: {e})"]
        for line in lines or ["(none found)"]:
            print(f"  {line}")


def _osc_spec(a: argparse.Namespace) -> None:
    from .osc.spec import markdown
    text = markdown()
    if a.out:
        Path(a.out).write_text(text, encoding="utf-8")
        print(f"wrote {a.out}")
    else:
        print(text, end="")


def _eval(a: argparse.Namespace) -> None:
    import json

    from .quality import Plan, report
    print(json.dumps(report(a.setup, a.set, Plan(frames=a.frames, seeds=a.seeds), sheet=a.sheet), indent=1))


def _view(a: argparse.Namespace) -> None:
    from .view import view
    shown = view(a.name, fullscreen=a.fullscreen, monitor=a.monitor, seconds=a.seconds)
    print(f"showed {shown} pictures from NDI {a.name}")


def _midi_learn(a: argparse.Namespace) -> None:
    from .midi.tools import learn_from_device
    print(learn_from_device(load_setup(a.setup), a.name, a.timeout))


def _set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setup key without editing the file, e.g. osc.port=8001 or "
                             "generator.scale=2 (repeatable; checked as the file is)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vj", description="Live CLIP-guided visuals.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("render", help="headless: paint a setup's prompt deck to PNG frames and a video, "
                                      "or re-render a recorded set (--replay)")
    r.add_argument("setup", nargs="?", help="setup file (TOML), or the name of a shipped one")
    r.add_argument("--frames", type=int, default=None, help="frames to render (default: the whole deck)")
    r.add_argument("--out", default="render", help="output folder")
    r.add_argument("--video", default=None, help="video file (default: OUT/render.mkv; replay: TIMELINE.replay.mkv)")
    r.add_argument("--fps", type=float, default=None, help="video frames per second (default 24; replay: as recorded)")
    r.add_argument("--replay", metavar="TIMELINE", default=None,
                   help="re-render a recording's control timeline (NAME.timeline.jsonl) offline")
    r.add_argument("--width", type=int, default=None, help="paint at this width instead (higher quality)")
    r.add_argument("--height", type=int, default=None, help="paint at this height instead")
    r.add_argument("--iterations-factor", type=int, default=1, help="replay: K times the iterations on every frame")
    _set_option(r)
    r.set_defaults(func=_render)

    f = sub.add_parser("fetch", help="download a model (or a setup's models) into the cache before a show")
    f.add_argument("spec", help="model spec like ViT-B-32:openai, or a setup file")
    f.set_defaults(func=_fetch)

    e = sub.add_parser("eval", help="paint a fixed set of prompts with a setup's settings and measure the pictures "
                                    "(alignment by an independent judge, consistency, cleanliness, edges, cost)")
    e.add_argument("setup", help="setup file (TOML), or the name of a shipped one")
    _set_option(e)
    e.add_argument("--frames", type=int, default=10, help="frames painted after the first")
    e.add_argument("--seeds", type=int, default=2, help="seeds (2 or more also measures diversity)")
    e.add_argument("--sheet", default="", help="write a contact sheet of the last frames (PNG)")
    e.set_defaults(func=_eval)

    m = sub.add_parser("models", help="list model specs open_clip knows")
    m.set_defaults(func=_models)

    o = sub.add_parser("osc-spec", help="list every OSC address with its type, range and doc (Markdown)")
    o.add_argument("--out", default=None, help="write to this file (docs/osc.md) instead of printing")
    o.set_defaults(func=_osc_spec)

    ml = sub.add_parser("midi-learn", help="map the next moved control of the setup's MIDI device and save it")
    ml.add_argument("setup", help="setup file (TOML) naming the [midi] device; the mapping is saved into it")
    ml.add_argument("name", help="parameter or action to map (`vj osc-spec` lists them)")
    ml.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a control to move")
    ml.set_defaults(func=_midi_learn)

    w = sub.add_parser("run", help="the live show: a window painted by the running generator")
    w.add_argument("setup", help="setup file (TOML), or the name of a shipped one")
    screen = w.add_mutually_exclusive_group()
    screen.add_argument("--fullscreen", action="store_true", help="fullscreen on the setup's (or --monitor's) monitor")
    screen.add_argument("--windowed", action="store_true", help="a resizable window, whatever the setup says")
    w.add_argument("--monitor", type=int, default=None, help="monitor index for fullscreen (`vj devices` lists them)")
    w.add_argument("--seconds", type=float, default=None, help="quit after this many seconds (tests, benchmarks)")
    w.add_argument("--record", action="store_true", help="record from the start (the `record` parameter stops it)")
    w.add_argument("--headless", action="store_true", help="no window: render offscreen (EGL) for recording, NDI "
                                                            "and OSC, on a machine without a display")
    w.add_argument("--preview", action="store_true", help="a second, small window with the HUD for the performer")
    w.add_argument("--ndi", nargs="?", const="", default=None, metavar="NAME",
                   help="send the output over NDI from the start (as NAME; default [output] name or the show's)")
    sound = w.add_mutually_exclusive_group()
    sound.add_argument("--audio-device", default=None, help="audio input, name substring or index (`vj devices`)")
    sound.add_argument("--audio-file", default=None, help="play this audio file in real time as the input (rehearsal); it loops "
                            "unless the setup's [audio] loop = false")
    _set_option(w)
    w.set_defaults(func=_run)

    v = sub.add_parser("view", help="a thin window showing an NDI source (a headless node's output)")
    v.add_argument("name", help="NDI source name, or part of it (a node sends as [output] name, or the show's name)")
    v.add_argument("--fullscreen", action="store_true", help="fullscreen on --monitor")
    v.add_argument("--monitor", type=int, default=0, help="monitor index for fullscreen (`vj devices` lists them)")
    v.add_argument("--seconds", type=float, default=None, help="quit after this many seconds (tests)")
    v.set_defaults(func=_view)

    d = sub.add_parser("devices", help="list monitors and other devices the show can use")
    d.set_defaults(func=_devices)
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for handler in logging.getLogger().handlers:  # open_clip chats at INFO on the root logger
        handler.addFilter(lambda r: r.name != "root" or r.levelno >= logging.WARNING)
    try:
        a.func(a)
    except (SetupError, ModelUnavailable, DisplayUnavailable, ShaderError) as e:
        print(f"vj: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OSError as e:  # a file or folder named on the command line: say which and why
        where = f" {e.filename}" if e.filename else ""
        print(f"vj {a.command}:{where}: {e.strerror or e}; check the path and its permissions.", file=sys.stderr)
        log.debug("the cause", exc_info=True)
        return 1
    except Exception as e:  # a bug or a library's surprise: still one sentence; -v shows the traceback
        first = (str(e).strip().splitlines() or [""])[0][:300]
        print(f"vj {a.command} failed: {type(e).__name__}: {first} (run `vj -v {a.command} ...` for the details).",
              file=sys.stderr)
        log.debug("the cause", exc_info=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
