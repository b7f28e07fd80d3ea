"""Benchmarks: each `python -m bench.NAME` prints one JSON line (figures depend on the machine:
compare runs on one)."""
from __future__ import annotations

import os
import shutil
import sys


def on_private_screen(module: str, size: str) -> None:
    """Re-run `python -m module` with the same arguments under xvfb-run on a private screen `size`
    ("WIDTHxHEIGHT" pixels), unless this process already is that run: windowed benchmarks then
    compare between runs whatever display the caller has. Exits with one sentence without xvfb-run."""
    if os.environ.get("VJ_BENCH_XVFB") == "1":
        return
    if shutil.which("xvfb-run") is None:
        sys.exit(f"{module} needs xvfb-run (apt-get install xvfb)")
    env = {**os.environ, "VJ_BENCH_XVFB": "1"}
    os.execvpe("xvfb-run", ["xvfb-run", "-a", "-s", f"-screen 0 {size}x24", sys.executable, "-m", module,
                            *sys.argv[1:]], env)
