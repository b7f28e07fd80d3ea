"""MIDI from the command line: list the inputs, learn a mapping without starting the show."""
from __future__ import annotations

import logging
import time

from ..setup import Setup, SetupError, apply_to_store
from ..tables import app_store
from .learn import CannotLearn, learnable
from .service import LEARN, Backend, MidiInput, MidoBackend

log = logging.getLogger(__name__)


def list_ports() -> list[str]:
    """MIDI input names for `vj devices`, or one line saying why there are none."""
    try:
        return MidoBackend().names() or ["no MIDI inputs: plug in a controller"]
    except Exception as e:   # no ALSA sequencer, no CoreMIDI...: rtmidi says which
        return [f"MIDI is not available on this machine ({e})"]


def learn_from_device(setup: Setup, name: str, timeout: float = 30.0, backend: Backend | None = None) -> str:
    """Open the setup's controller, wait for one moved control, map it to `name` and save it.
    Returns what was learned; raises SetupError with one sentence when it cannot."""
    store = app_store()
    apply_to_store(setup, store)
    if not setup.midi.device:
        raise SetupError(f"{setup.label}: [midi] device is empty; name your controller there "
                         "(`vj devices` lists the MIDI inputs).")
    try:
        learnable(name, store)
    except CannotLearn as e:
        raise SetupError(str(e)) from None
    midi = MidiInput.from_setup(setup, store, backend=backend)
    midi.poll()
    if midi.status != "open":
        raise SetupError(f"{setup.label}: MIDI device {setup.midi.device!r} could not be opened ({midi.status}); "
                         "see the line above.")
    midi.start()
    try:
        store.set(LEARN, name, "cli")
        log.info("move a control on %s to map it to %s (waiting %g s)", setup.midi.device, name, timeout)
        end = time.monotonic() + timeout
        while store.base(LEARN) and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        midi.stop()
    if not midi.learned:
        raise SetupError(f"no control moved within {timeout:g} s; nothing was mapped.")
    return midi.learned
