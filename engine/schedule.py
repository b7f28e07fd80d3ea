"""Which prompts guide the current frame, and how strongly (the paper's Eq. 1 weights).

Two ways to get the weights, both returning a `Mix` of (slot, weight) pairs that sum to 1:
- `scheduled_mix`: the paper's deck. Each prompt but the last gets 2*fpp frames, fading linearly
  from itself to the next (w_now = 1 - f/(2 fpp), w_next = f/(2 fpp)); the last prompt holds at
  weight 1 for fpp frames. With `loop`, the last prompt fades back into the first instead, so a
  live autopilot never runs out.
- `live_mix`: the performer's hands. The active slot and the cross-fade to the next slot come
  from parameters.
"""
from __future__ import annotations

from typing import Sequence

Mix = tuple[tuple[int, float], ...]


def deck_length(frames: Sequence[int], loop: bool = False) -> int:
    """Frames one pass through the deck takes."""
    if not frames:
        return 0
    if loop:
        return sum(2 * f for f in frames)
    return sum(2 * f for f in frames[:-1]) + frames[-1]


def scheduled_mix(frame: int, frames: Sequence[int], loop: bool = False) -> Mix:
    """Weights for frame number `frame` of a deck whose prompt i has `frames[i]` frames per prompt."""
    n = len(frames)
    if n == 0:
        return ()
    if loop:
        frame %= deck_length(frames, loop=True)
    for i, fpp in enumerate(frames):
        span = 2 * fpp
        last = i == n - 1
        if last and not loop:
            return ((i, 1.0),)
        if frame < span:
            w_next = frame / span
            nxt = (i + 1) % n
            if nxt == i:
                return ((i, 1.0),)
            return ((i, 1.0 - w_next), (nxt, w_next))
        frame -= span
    raise AssertionError("unreachable: frame beyond the deck")


def live_slot(active: int, filled: Sequence[int]) -> int | None:
    """The slot that paints when `active` is selected: itself when filled, else the nearest filled
    slot before it (wrapping to the last), so selecting an empty pad never blanks the guidance.
    None when no slot is filled. Feedback and the HUD show this slot, not the pad pressed."""
    if not filled:
        return None
    before = [s for s in filled if s <= active]
    return before[-1] if before else filled[-1]


def live_mix(active: int, crossfade: float, filled: Sequence[int]) -> Mix:
    """Active slot at 1-crossfade, the next filled slot after it at crossfade.

    `filled` lists the slots holding a prompt, in order. An empty active slot falls back to the
    nearest filled slot before it, so selecting an empty pad never blanks the guidance.
    """
    if not filled:
        return ()
    cur = live_slot(active, filled)
    nxt = filled[(filled.index(cur) + 1) % len(filled)]
    c = min(1.0, max(0.0, crossfade))
    if nxt == cur or c == 0.0:
        return ((cur, 1.0),)
    if c == 1.0:
        return ((nxt, 1.0),)
    return ((cur, 1.0 - c), (nxt, c))
