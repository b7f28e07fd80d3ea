"""A real X display for window tests: Xvfb on a free display number, started once per session.

Use the `xvfb` fixture (registered in conftest.py); it sets DISPLAY for the whole test process.
Tests skip with a reason only when the Xvfb binary is absent (scripts/bootstrap installs it).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from typing import Iterator

import pytest

SCREEN = "1280x720x24"


@contextmanager
def running_xvfb(screen: str = SCREEN, timeout: float = 10.0) -> Iterator[str]:
    """Start Xvfb on a display number it picks itself (-displayfd), yield ':N', stop it after."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:  # Xvfb writes the number once it accepts connections
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb did not start: {proc.stderr.read().decode(errors='replace')[-500:]}")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str]:
    """DISPLAY of a private Xvfb screen (1280x720, 24 bit) for the whole test session."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb, or run scripts/bootstrap)")
    old = os.environ.get("DISPLAY")
    with running_xvfb() as display:
        os.environ["DISPLAY"] = display
        yield display
        import glfw
        glfw.terminate()  # GLFW keeps its connection to this server: close it before the server goes
    if old is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = old
