"""OSC control over real UDP: addresses from the table, the generator sees changes, refusals, feedback."""
from __future__ import annotations

import logging
import math
import socket
import time

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from engine import make_store
from engine.params import ParamSpec
from tests.conftest import small_setup
from tests.osc_tools import Listener, start_server, wait_for
from vj.osc.addresses import ACTIVE, PARAM, UNIT_PARAM, build_routes
from vj.show import build_show
from vj.tables import app_store


@pytest.fixture
def store():
    return app_store()


@pytest.fixture
def listener():
    lis = Listener()
    yield lis
    lis.close()


@pytest.fixture
def server(store, listener):
    srv = start_server(store, feedback_port=listener.port)
    yield srv
    srv.stop()


def client(server) -> SimpleUDPClient:
    return SimpleUDPClient("127.0.0.1", server.port)


def settle(server, n: int) -> None:
    """Wait until the server has handled `n` packets in all."""
    assert wait_for(lambda: server.packets >= n), f"server handled {server.packets} of {n} packets"


def test_addresses_come_from_the_table_names_with_dots_as_slashes(store):
    routes = build_routes(store)
    for name, spec in store.specs.items():
        address = "/vj/" + name.replace(".", "/")
        assert routes[address].name == name and routes[address].kind == PARAM
        assert (address + "/unit" in routes) == (spec.kind in ("float", "int", "enum") and not spec.readonly)
    for name in store.actions:
        assert routes["/vj/" + name.replace(".", "/")].kind == "action"
    assert "/vj/prompt/3" in routes and "/vj/prompt/select" in routes and "/vj/blackout" in routes


def test_two_rows_on_one_address_are_refused_with_both_names():
    store = make_store()
    store.add([ParamSpec("prompt.select.unit", "float", 0.0, "clash", lo=0, hi=1)])
    with pytest.raises(ValueError, match="prompt.select"):
        build_routes(store)


def test_messages_reach_the_generator_at_its_next_iteration():
    show = build_show(small_setup(show_iterations=True))
    seen = []
    step = show.generator.opt.step
    show.generator.opt.step = lambda texts, weights, heat, lr, *a, **k: (seen.append((texts, weights, lr)),
                                                                        step(texts, weights, heat, lr, *a, **k))[1]
    assert show.generator.step() is not None                     # a frame under the old values
    srv = start_server(show.store)
    try:
        c = client(srv)
        c.send_message("/vj/temperature", 42.0)
        c.send_message("/vj/crossfade", 0.25)
        c.send_message("/vj/prompt/3", "a diver glares at the pizza shop")
        c.send_message("/vj/prompt/select", 2.0)                  # TouchOSC sends floats; ints round
        c.send_message("/vj/lr/unit", 0.5)
        settle(srv, 5)
    finally:
        srv.stop()
    s = show.store
    assert s.base("temperature") == 42.0 and s.base("prompt.select") == 2
    assert s.base("prompt.3") == "a diver glares at the pizza shop"
    assert s.base("lr") == pytest.approx(0.001 + 0.5 * (1.0 - 0.001))
    frame = show.generator.step()                                # the very next iteration
    assert frame.stats["temperature"] == 42.0
    texts, weights, lr = seen[-1]
    assert texts == ["a blue square", "a diver glares at the pizza shop"]
    assert weights == pytest.approx([0.75, 0.25])
    assert lr == pytest.approx(0.5005)


def test_running_generator_paints_with_the_new_value():
    show = build_show(small_setup(show_iterations=True))
    srv = start_server(show.store)
    show.generator.start()
    try:
        client(srv).send_message("/vj/temperature/unit", 0.25)
        assert wait_for(lambda: show.store.base("temperature") == 25.0)
        first = show.bus.wait_after(show.bus.seq, timeout=30)     # may have started before the write
        second = show.bus.wait_after(first.seq, timeout=30)       # started after it
        assert second.stats["temperature"] == 25.0
    finally:
        show.generator.stop()
        srv.stop()


def test_unit_address_maps_a_fader_onto_the_range(store, server):
    c = client(server)
    c.send_message("/vj/temperature/unit", 0.5)
    c.send_message("/vj/iterations/unit", 1.0)
    c.send_message("/vj/mode/unit", 1.0)
    c.send_message("/vj/noise/unit", 1.5)                         # not a fader position: refused
    settle(server, 4)
    assert store.base("temperature") == 50.0
    assert store.base("iterations") == 500
    assert store.base("mode") == "schedule"
    assert store.base("noise") == 1.0 and server.refusals.counts["value"] == 1


def test_bundles_are_applied_in_order(store, server):
    b = OscBundleBuilder(IMMEDIATELY)
    for address, value in [("/vj/crossfade", 0.1), ("/vj/prompt/select", 3), ("/vj/crossfade", 0.9)]:
        m = OscMessageBuilder(address)
        m.add_arg(value)
        b.add_content(m.build())
    far = OscBundleBuilder(time.time() + 3600)                   # a time tag an hour ahead: applied now
    m = OscMessageBuilder("/vj/noise")
    m.add_arg(2.0)
    far.add_content(m.build())
    client(server).send(b.build())
    client(server).send(far.build())
    settle(server, 2)
    assert store.base("crossfade") == pytest.approx(0.9)
    assert store.base("prompt.select") == 3 and store.base("noise") == 2.0


def test_actions_fire_on_press_not_on_release(store, server):
    for i in (1, 2, 3):
        store.set(f"prompt.{i}", f"slot {i}")
    c = client(server)
    c.send_message("/vj/next", 1.0)
    c.send_message("/vj/next", 0.0)                              # the button's release
    c.send_message("/vj/next", [])
    settle(server, 3)
    assert store.base("prompt.select") == 3
    assert server.refused == 0


def test_bool_and_enum_and_text_types(store, server):
    c = client(server)
    c.send_message("/vj/blackout", 1.0)
    c.send_message("/vj/freeze", True)
    c.send_message("/vj/mode", "schedule")
    c.send_message("/vj/negative", "blurry")
    settle(server, 4)
    assert store.base("blackout") is True and store.base("freeze") is True
    assert store.base("mode") == "schedule" and store.base("negative") == "blurry"


def test_relative_strings_and_patterns(store, server):
    c = client(server)
    c.send_message("/vj/temperature", "+10")
    c.send_message("/vj/crossfade/unit", "+2")                   # clamped to the top of the range
    c.send_message("/vj/prompt/*/frames", 40)
    c.send_message("/vj/prompt/[1-3]", "a field of tulips")
    settle(server, 4)
    assert store.base("temperature") == 40.0 and store.base("crossfade") == 1.0
    assert all(store.base(f"prompt.{i}.frames") == 40 for i in range(1, 9))
    assert [store.base(f"prompt.{i}") for i in (1, 3, 4)] == ["a field of tulips", "a field of tulips", ""]
    c.send_message("/vj/prompt/*", "a cat")      # slots take it; select and active refuse: not an error
    settle(server, 5)
    assert all(store.base(f"prompt.{i}") == "a cat" for i in range(1, 9)) and server.refused == 0


@pytest.mark.parametrize("address, value", [
    ("/vj/temperature", "hot"),                # wrong type
    ("/vj/temperature", math.nan),
    ("/vj/temperature", math.inf),
    ("/vj/temperature", 101.0),               # out of range
    ("/vj/prompt/1", "x" * 301),              # longer than the slot allows
    ("/vj/prompt/1", 3.0),
    ("/vj/blackout", "yes"),
    ("/vj/audio/energy", 0.5),                # read-only
    ("/vj/no/such/thing", 1.0),
    ("/vj/temperature", [1.0, 2.0]),
    ("/vj/next", "now"),
])
def test_bad_messages_are_refused_counted_and_change_nothing(store, server, address, value):
    before = dict(store.snapshot().values)
    client(server).send_message(address, value)
    client(server).send_message("/vj/crossfade", 0.5)            # and the server still answers
    settle(server, 2)
    assert server.refused == 1
    assert store.base("crossfade") == 0.5
    after = dict(store.snapshot().values)
    assert {k: v for k, v in after.items() if k != "crossfade"} == {k: v for k, v in before.items() if k != "crossfade"}


def test_refusals_are_logged_at_most_once_per_kind_in_a_burst(store, server, caplog):
    caplog.set_level(logging.WARNING, logger="vj.osc")
    c = client(server)
    for _ in range(200):
        c.send_message("/vj/temperature", math.nan)
    settle(server, 200)
    assert server.refusals.counts["value"] == 200
    assert len([r for r in caplog.records if "temperature" in r.getMessage()]) == 1


def test_a_refusal_of_one_address_never_hides_another_s_and_each_says_its_own_reason(store, server, caplog):
    """A performer fixing a TouchOSC layout must see which control failed and why."""
    caplog.set_level(logging.WARNING, logger="vj.osc")
    c = client(server)
    c.send_message("/vj/temperature", "hot")
    c.send_message("/vj/blackout", "yes")
    c.send_message("/vj/crossfade", "half")
    for n in range(50):                                       # made-up addresses stay one line per burst
        c.send_message(f"/vj/made/up/{n}", 1.0)
    settle(server, 53)
    said = [r.getMessage() for r in caplog.records]
    assert any("/vj/temperature" in m and "must be a number" in m for m in said)
    assert any("/vj/blackout" in m and "on/off: send 1 or 0" in m for m in said)
    assert any("/vj/crossfade" in m for m in said)
    assert len([m for m in said if "/vj/made/up" in m]) == 1


def test_junk_datagrams_are_counted(store, server):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x00\x01hello", ("127.0.0.1", server.port))
        s.sendto(b"/vj/temperature\x00", ("127.0.0.1", server.port))   # an address with no type tags
    settle(server, 2)
    assert server.refusals.counts["junk"] == 1 and server.refused == 2


def test_feedback_echoes_changes_to_the_sender_at_their_addresses(store, server, listener):
    c = client(server)
    c.send_message("/vj/temperature", 42.0)
    assert wait_for(lambda: listener.last("/vj/temperature") == 42.0)
    assert wait_for(lambda: listener.last("/vj/temperature/unit") == pytest.approx(0.42))
    store.set("blackout", True, "key")                           # any writer, not only OSC
    store.set("prompt.2", "a green ring", "key")
    store.set("prompt.select", 2, "key")
    assert wait_for(lambda: listener.last("/vj/blackout") == 1.0)
    assert wait_for(lambda: listener.last(ACTIVE) == "a green ring")
    assert wait_for(lambda: listener.last("/vj/prompt/select") == 2)


def test_feedback_is_rate_limited_per_address_and_the_latest_value_wins(store, listener):
    srv = start_server(store, feedback_port=listener.port, feedback_rate=5.0)
    try:
        c = client(srv)
        c.send_message("/vj/sync", [])                           # register as a client first
        assert wait_for(lambda: listener.at("/vj/crossfade"))
        listener.messages.clear()
        t0 = time.monotonic()
        for i in range(1, 101):
            c.send_message("/vj/crossfade", i / 100)
            c.send_message("/vj/temperature", float(i))
            time.sleep(0.003)
        settle(srv, 201)
        elapsed = time.monotonic() - t0
        time.sleep(0.5)                                          # the last pending value goes out
    finally:
        srv.stop()
    got = listener.at("/vj/crossfade")
    assert 2 <= len(got) <= elapsed * 5 + 2, (len(got), elapsed)
    assert got[-1][0] == pytest.approx(1.0)
    assert listener.at("/vj/temperature")[-1][0] == 100.0         # each address has its own budget
    times = [t for t, a, _ in listener.messages if a == "/vj/crossfade"]
    assert min(b - a for a, b in zip(times, times[1:])) > 0.15    # 5 per second: 0.2 s apart


def test_sync_dumps_every_value(store, server, listener):
    store.set("prompt.1", "a red circle")
    store.set("temperature", 12.5)
    client(server).send_message("/vj/sync", [])
    routes = build_routes(store)
    expected = {a for a, r in routes.items() if r.kind in (PARAM, UNIT_PARAM) or a == ACTIVE}
    assert wait_for(lambda: expected <= {a for _, a, _ in listener.messages})
    for address in expected - {ACTIVE}:
        r = routes[address]
        spec, value = store.specs[r.name], store.base(r.name)
        want = spec.to_unit(value) if r.kind == UNIT_PARAM else (float(value) if spec.kind == "bool" else value)
        assert listener.last(address) == pytest.approx(want), address
    assert listener.last(ACTIVE) == "a red circle"


def test_query_answers_one_address(store, server, listener):
    store.set("noise", 2.5)
    client(server).send_message("/vj/noise", "?")
    assert wait_for(lambda: listener.last("/vj/noise") == 2.5)
    assert store.base("noise") == 2.5 and server.refused == 0


def test_hosts_named_in_the_setup_get_feedback_without_sending(store, listener):
    srv = start_server(store, feedback_hosts=[f"127.0.0.1:{listener.port}"])
    try:
        store.set("zoom", 0.5, "key")
        assert wait_for(lambda: listener.last("/vj/zoom") == 0.5)
    finally:
        srv.stop()


def test_a_taken_port_is_one_sentence_and_the_show_goes_on(store, caplog):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        from dataclasses import replace
        from vj.osc import OscServer
        from vj.setup import OscSetup
        hud: list[str] = []
        srv = OscServer(store, replace(OscSetup(), listen="127.0.0.1", port=port), warnings=hud)
        srv.retry_s = 0.05
        srv.start()                                              # does not raise
        assert hud == [f"OSC PORT {port} TAKEN: NO OSC"]
    assert wait_for(lambda: srv.running and srv.port == port)    # freed: retried and bound
    assert hud == []
    srv.stop()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and f":{port}" in errors[0] and "[osc] port" in errors[0]


def test_osc_spec_lists_every_address_and_docs_are_current(capsys):
    from pathlib import Path
    from vj.cli import main
    assert main(["osc-spec"]) == 0
    text = capsys.readouterr().out
    store = app_store()
    for address, route in build_routes(store).items():
        assert f"`{address}`" in text
    for spec in store.specs.values():
        assert spec.doc.replace("|", "\\|") in text
    page = Path(__file__).parent.parent / "docs" / "osc.md"
    assert page.read_text() == text, "docs/osc.md is out of date: run `.venv/bin/vj osc-spec --out docs/osc.md`"
