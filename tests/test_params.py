import math
import threading

from engine.controls import make_store
from engine.params import ParamSpec, ParamStore


def store() -> ParamStore:
    return ParamStore([ParamSpec("t", "float", 30.0, "temperature", lo=0, hi=100),
                       ParamSpec("n", "int", 1, "count", lo=1, hi=8),
                       ParamSpec("on", "bool", False, "switch"),
                       ParamSpec("text", "str", "", "prompt", max_len=10),
                       ParamSpec("mode", "enum", "a", "mode", choices=("a", "b")),
                       ParamSpec("level", "float", 0.0, "meter", lo=0, hi=1, readonly=True)])


def test_refused_writes_leave_the_old_value_and_are_counted(caplog):
    s = store()
    bad = [("t", 101.0), ("t", float("nan")), ("t", math.inf), ("t", "hot"), ("t", True), ("n", 2.5),
           ("on", 1), ("text", "x" * 11), ("text", 3), ("mode", "c"), ("nope", 1), ("level", 0.5)]
    for name, value in bad:
        assert s.set(name, value, "test") is False
    snap = s.snapshot()
    assert (snap["t"], snap["n"], snap["on"], snap["text"], snap["mode"], snap["level"]) == (30.0, 1, False, "", "a", 0.0)
    assert s.refused == len(bad)
    assert "refused from test: t must be in 0..100" in caplog.text


def test_accepted_writes_are_versioned_and_coerced():
    s = store()
    v0 = s.version
    assert s.set("t", 42) and s.set("n", 3.0)
    assert s.get("t") == 42.0 and isinstance(s.get("t"), float)
    assert s.get("n") == 3 and isinstance(s.get("n"), int)
    assert s.version == v0 + 2
    assert s.changes_since(v0) == {"t": 42.0, "n": 3}
    assert s.changes_since(s.version) == {}
    assert s.set("level", 0.7, source="app")  # the app may publish read-only values


def test_snapshots_are_immutable_and_stable():
    s = store()
    snap = s.snapshot()
    s.set("t", 10.0)
    assert snap["t"] == 30.0 and s.snapshot()["t"] == 10.0
    try:
        snap.values["t"] = 5  # type: ignore[index]
    except TypeError:
        pass
    else:
        raise AssertionError("snapshot values must be read-only")


def test_modulation_adds_to_the_base_clamped_and_never_writes_it():
    s = store()
    s.set("t", 90.0)
    s.modulate("t", "audio", 25.0)
    assert s.get("t") == 100.0 and s.base("t") == 90.0
    s.modulate("t", "audio", 0.0)
    assert s.get("t") == 90.0


def test_unit_writes_map_onto_the_range():
    s = store()
    assert s.set_unit("t", 0.25) and s.get("t") == 25.0
    assert s.set_unit("n", 1.0) and s.get("n") == 8
    assert not s.set_unit("t", 1.5) and s.get("t") == 25.0


def test_listeners_see_every_accepted_write_and_actions():
    s = make_store()
    seen = []
    s.subscribe(seen.append)
    s.set("prompt.1", "a")
    s.set("prompt.3", "c")
    s.set("temperature", 500.0)  # refused: not seen
    s.trigger("next")             # select 1 -> 3 (slot 2 is empty), then the action itself
    assert [(c.name, c.value) for c in seen] == [("prompt.1", "a"), ("prompt.3", "c"), ("prompt.select", 3), ("next", None)]
    s.trigger("next")
    assert s.get("prompt.select") == 1


def test_concurrent_writers_and_readers_never_see_a_value_out_of_range():
    s = store()
    stop = threading.Event()
    bad = []

    def reader():
        while not stop.is_set():
            snap = s.snapshot()
            if not 0 <= snap["t"] <= 100:
                bad.append(snap["t"])

    def writer(k):
        for i in range(2000):
            s.set("t", float((i * k) % 150))  # a third of these are refused

    threads = [threading.Thread(target=reader)] + [threading.Thread(target=writer, args=(k,)) for k in (1, 7)]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    assert not bad
    assert s.refused + (s.version) == 4000
