"""The `vj` command. Only `main()` catches errors and exits; everything below raises."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from engine import ModelUnavailable

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
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for handler in logging.getLogger().handlers:  # open_clip chats at INFO on the root logger
        handler.addFilter(lambda r: r.name != "root" or r.levelno >= logging.WARNING)
    try:
        a.func(a)
    except (SetupError, ModelUnavailable) as e:
        print(f"vj: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
