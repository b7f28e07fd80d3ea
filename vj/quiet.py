"""ALSA's C library prints its own errors ("ALSA lib seq_hw.c:466:(snd_seq_hw_open) open /dev/snd/seq
failed") straight to file descriptor 2, past Python's logging, before our sentence says the same in
words. `alsa_to_log()` catches them around a call into rtmidi or PortAudio and sends them to the
debug log; anything else written meanwhile (another thread's log line) goes to stderr as before.
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger(__name__)


_redirecting = threading.Lock()   # fd 2 is one per process: two threads redirecting at once would
                                  # leave it pointing at the other's closed file


@contextmanager
def alsa_to_log() -> Iterator[None]:
    """Route lines starting "ALSA lib" written to fd 2 inside the block to the debug log (one thread
    at a time: the MIDI watcher and the audio input may both scan)."""
    with _redirecting, tempfile.TemporaryFile() as caught:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no stderr at all (a service manager closed it): nothing to hide
            yield
            return
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except ValueError:
                pass
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            for line in caught.read().decode(errors="replace").splitlines(keepends=True):
                if line.startswith("ALSA lib"):
                    log.debug("%s", line.rstrip())
                else:
                    os.write(2, line.encode())  # another thread's line: where it was going
