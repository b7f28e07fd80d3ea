"""`vj run --headless`: a render node with no display renders the show offscreen (EGL); OSC steers
it, the recording and the NDI output carry its pictures."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import av
import numpy as np
from pythonosc.udp_client import SimpleUDPClient

from tests.conftest import tiny_setup_file
from tests.osc_tools import free_port


def test_a_headless_node_is_steered_by_osc_and_records_and_sends_ndi(tmp_path, ndi_loopback):
    from vj.input.ndi import NdiSource
    port, name = free_port(), f"vj-node-{os.getpid()}"
    setup = tiny_setup_file(tmp_path / "node.toml", f'''[record]
folder = "rec"
[output]
ndi = true
name = "{name}"
''').read_text().replace("[osc]\nenabled = false", f'[osc]\nlisten = "127.0.0.1"\nport = {port}\nfeedback = false')
    (tmp_path / "node.toml").write_text(setup)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(ndi_loopback, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "vj", "run", str(tmp_path / "node.toml"), "--headless",
                             "--seconds", "5", "--record"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "output ndi: sending" in line:
                break
        source = NdiSource(name)
        try:
            lit = wait_picture(source, lambda p: p.mean() > 20)
            assert lit is not None, "no lit picture over NDI"
            SimpleUDPClient("127.0.0.1", port).send_message("/vj/brightness", 0.0)
            dark = wait_picture(source, lambda p: p.mean() < 2)
            assert dark is not None, "OSC /vj/brightness 0 did not reach the NDI output"
        finally:
            source.close()
        out, _ = proc.communicate(timeout=60)
        lines.append(out)
    finally:
        proc.kill()
    log = "".join(lines)
    assert proc.returncode == 0, log[-3000:]
    videos = list((tmp_path / "rec").glob("*.mkv"))
    assert len(videos) == 1, log[-2000:]
    with av.open(str(videos[0])) as box:
        means = [f.to_ndarray(format="rgb24").mean() for f in box.decode(video=0)]
    assert len(means) > 60 and max(means[:30]) > 20 and means[-1] < 2, means[::10]  # lit, then dark after OSC


def wait_picture(source, good, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = source.latest()
        if got is not None and good(got[1]):
            return got[1]
        time.sleep(0.02)
    return None
