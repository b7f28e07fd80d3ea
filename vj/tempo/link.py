"""Ableton Link: tempo and beat shared with the peers on the network (Live, Traktor, phones, ...).

Through LinkPython-extern (`import link`), a maintained wrapper with wheels of Link's own C++ API
(`captureSessionState`, `beatAtTime`, `phaseAtTime`, `setTempo`), chosen over aalink because it
is synchronous: the tempo thread polls it, where aalink needs an asyncio event loop of its own.
"""
from __future__ import annotations


class LinkUnavailable(RuntimeError):
    """Link cannot run here; the message is one sentence saying what to do."""


class LinkPeer:
    """This show as one Link peer. `read(quantum)` -> (bpm, beat now); the beat's phase within
    `quantum` beats (the bar) agrees with every peer's."""

    def __init__(self, bpm: float) -> None:
        try:
            import link
        except ImportError as e:
            raise LinkUnavailable(f"Ableton Link needs the LinkPython-extern package ({e}); run "
                                  "`.venv/bin/pip install LinkPython-extern` or pick another tempo.source.") from e
        try:
            self._link = link.Link(float(bpm))
            self._link.enabled = True
        except Exception as e:   # no network stack, sockets refused
            raise LinkUnavailable(f"Ableton Link could not start ({e}); pick another tempo.source.") from e

    def read(self, quantum: float) -> tuple[float, float]:
        state = self._link.captureSessionState()
        return state.tempo(), state.beatAtTime(self._link.clock().micros(), quantum)

    def set_tempo(self, bpm: float) -> None:
        """Propose a tempo to the session (every peer follows the latest proposal)."""
        state = self._link.captureSessionState()
        state.setTempo(float(bpm), self._link.clock().micros())
        self._link.commitSessionState(state)

    @property
    def peers(self) -> int:
        return self._link.numPeers()

    def close(self) -> None:
        self._link.enabled = False
