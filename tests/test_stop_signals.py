"""Every way a process is asked to stop closes the recording whole (issue 15 case 8 and its kind).

A Matroska file gets its duration and index only when closed, so "closed whole" is read as a
duration in the file's header, as ffprobe shows it, and a closing log line from the recorder.
"""
from __future__ import annotations

import os
import signal
import threading
import time

import av

from tests.conftest import small_setup
from tests.test_record_live import start_show, tiny_setup_file, wait_for_line


def duration_s(path) -> float | None:
    with av.open(str(path)) as box:
        return box.duration / av.time_base if box.duration else None


def test_sigterm_on_a_recording_show_closes_the_file_like_quit(xvfb, tmp_path):
    proc = start_show(tiny_setup_file(tmp_path))
    try:
        wait_for_line(proc, "recording to")
        time.sleep(1.5)
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=60)[0]
    finally:
        proc.kill()
    assert proc.returncode == 0, rest[-2000:]
    assert "SIGTERM: ending the show as quit does" in rest and "Traceback" not in rest
    video = next((tmp_path / "rec").glob("*.mkv"))
    assert f"recorded {video}:" in rest                     # the recorder's closing line
    assert duration_s(video) is not None and duration_s(video) > 1.0


def run_until_recording_then(tmp_path, *signals: int) -> tuple[float | None, list]:
    """`vj.app.run` in this process (the main thread, as `vj run`); once the take's file exists the
    signals are sent to ourselves one by one, the later ones while the show is closing."""
    from vj import app
    from vj.record import Recorder

    setup = small_setup(hud=False)
    setup.record.folder = str(tmp_path / "rec")
    setup.params["record"] = True
    stops: list[float] = []
    real_stop = Recorder.stop

    def stop_with_more_signals(self, timeout: float = 10.0) -> None:
        for number in signals[1:]:                 # an impatient performer: Ctrl-C while it closes
            os.kill(os.getpid(), number)
            time.sleep(0.05)                       # the handler runs on this (the main) thread
        stops.append(time.monotonic())
        real_stop(self, timeout)

    def send_first() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any((tmp_path / "rec").glob("*.mkv")):
            time.sleep(0.05)
        time.sleep(1.0)
        os.kill(os.getpid(), signals[0])

    Recorder.stop = stop_with_more_signals
    sender = threading.Thread(target=send_first, daemon=True)
    try:
        sender.start()
        app.run(setup, seconds=60)
    finally:
        Recorder.stop = real_stop
        sender.join()
    return duration_s(next((tmp_path / "rec").glob("*.mkv"))), stops


def test_sighup_ends_the_show_and_a_ctrl_c_while_it_closes_does_not_cut_the_recording(xvfb, tmp_path, caplog):
    caplog.set_level("INFO")
    duration, stops = run_until_recording_then(tmp_path, signal.SIGHUP, signal.SIGINT)   # no KeyboardInterrupt
    assert stops and duration is not None and 0.5 < duration < 30    # stopped by the signal, file whole
    said = [r.getMessage() for r in caplog.records]
    assert any("SIGHUP: ending the show as quit does" in m for m in said)
    assert any("SIGINT while the show is closing" in m for m in said)
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL          # handlers given back
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
