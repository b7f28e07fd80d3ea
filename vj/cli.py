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
    from .render import render
    paths = render(load_setup(a.setup), a.frames, Path(a.out))
    print(f"wrote {len(paths)} frames to {a.out}")


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
    print("builtin\nbuiltin-b")
    for name, tag in open_clip.list_pretrained():
        print(f"{name}:{tag}")


def _run(a: argparse.Namespace) -> None:
    from .app import run
    setup = load_setup(a.setup)
    if a.fullscreen or a.windowed:
        setup.display.fullscreen = a.fullscreen
    if a.monitor is not None:
        setup.display.monitor = a.monitor
    _audio_args(a, setup)
    run(setup, a.seconds)


def _audio_args(a: argparse.Namespace, setup) -> None:
    """--audio-device / --audio-file replace the setup's [audio] input (a file path is from here)."""
    if a.audio_device is not None:
        setup.audio.device, setup.audio.file = a.audio_device, ""
    if a.audio_file is not None:
        setup.audio.file = str(Path(a.audio_file).resolve())


# `vj devices`: one (title, "module:function") row per kind of device; the function returns lines.
DEVICE_LISTS = [
    ("monitors", "vj.display.window:list_monitors"),
    ("audio inputs", "vj.audio.source:device_lines"),
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vj", description="Live CLIP-guided visuals.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("render", help="headless: paint a setup's prompt deck to PNG frames")
    r.add_argument("setup", help="setup file (TOML), or the name of a shipped one")
    r.add_argument("--frames", type=int, default=None, help="frames to render (default: the whole deck)")
    r.add_argument("--out", default="render", help="output folder")
    r.set_defaults(func=_render)

    f = sub.add_parser("fetch", help="download a model (or a setup's models) into the cache before a show")
    f.add_argument("spec", help="model spec like ViT-B-32:openai, or a setup file")
    f.set_defaults(func=_fetch)

    m = sub.add_parser("models", help="list model specs open_clip knows")
    m.set_defaults(func=_models)

    w = sub.add_parser("run", help="the live show: a window painted by the running generator")
    w.add_argument("setup", help="setup file (TOML), or the name of a shipped one")
    screen = w.add_mutually_exclusive_group()
    screen.add_argument("--fullscreen", action="store_true", help="fullscreen on the setup's (or --monitor's) monitor")
    screen.add_argument("--windowed", action="store_true", help="a resizable window, whatever the setup says")
    w.add_argument("--monitor", type=int, default=None, help="monitor index for fullscreen (`vj devices` lists them)")
    w.add_argument("--seconds", type=float, default=None, help="quit after this many seconds (tests, benchmarks)")
    sound = w.add_mutually_exclusive_group()
    sound.add_argument("--audio-device", default=None, help="audio input, name substring or index (`vj devices`)")
    sound.add_argument("--audio-file", default=None, help="play this audio file in real time as the input (rehearsal)")
    w.set_defaults(func=_run)

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
