import pytest

from engine.schedule import deck_length, live_mix, scheduled_mix
from engine.temperature import heat


def test_temperature_ends():
    cold, hot = heat(0), heat(100)
    assert cold.stability == 4.0 and cold.noise == pytest.approx(0.01)
    assert hot.stability == 0.0 and hot.noise == pytest.approx(1.0)
    assert cold.step == pytest.approx(0.05) and hot.step == 1.0
    assert heat(50).stability == 2.0 and cold.noise < heat(50).noise < hot.noise
    assert heat(200) == hot and heat(-5) == cold           # clamped, never outside the paper's range
    assert heat(100, noise_scale=0.5).noise == pytest.approx(0.5)


def test_deck_weights_are_linear_sum_to_one_and_end_on_the_last_prompt():
    frames = [3, 3, 2]
    n = deck_length(frames)
    assert n == 2 * 3 + 2 * 3 + 2
    mixes = [scheduled_mix(f, frames) for f in range(n + 5)]
    for mix in mixes:
        assert sum(w for _, w in mix) == pytest.approx(1.0)
    assert mixes[0] == ((0, 1.0), (1, 0.0))
    assert [dict(m)[1] for m in mixes[:6]] == pytest.approx([i / 6 for i in range(6)])  # linear cross-fade
    assert mixes[6] == ((1, 1.0), (2, 0.0))
    assert all(m == ((2, 1.0),) for m in mixes[12:])  # last prompt at weight 1, and it stays there


def test_looping_deck_fades_back_to_the_first_prompt():
    frames = [2, 2]
    assert deck_length(frames, loop=True) == 8
    assert scheduled_mix(6, frames, loop=True) == ((1, 0.5), (0, 0.5))
    assert scheduled_mix(8, frames, loop=True) == scheduled_mix(0, frames, loop=True)


def test_live_mix_follows_the_controls():
    filled = [1, 3, 4]
    assert live_mix(1, 0.0, filled) == ((1, 1.0),)
    assert live_mix(1, 0.25, filled) == ((1, 0.75), (3, 0.25))
    assert live_mix(4, 0.5, filled) == ((4, 0.5), (1, 0.5))     # wraps to the first slot
    assert live_mix(2, 0.0, filled) == ((1, 1.0),)               # empty slot: the filled one before it
    assert live_mix(3, 1.0, filled) == ((4, 1.0),)
    assert live_mix(1, 0.5, []) == ()
