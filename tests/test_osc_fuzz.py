"""Fuzz: thousands of malformed and hostile OSC packets; the server keeps answering, values stay in range."""
from __future__ import annotations

import logging
import math
import random
import socket
import struct

from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from tests.osc_tools import Listener, start_server, wait_for
from vj.osc.addresses import build_routes
from vj.tables import app_store

PACKETS = 10_000


def message(address: str, *args) -> bytes:
    m = OscMessageBuilder(address)
    for a in args:
        if isinstance(a, tuple):
            m.add_arg(a[1], a[0])
        else:
            m.add_arg(a)
    return m.build().dgram


def hostile(rng: random.Random, addresses: list[str]) -> bytes:
    """One bad packet, of a kind chosen at random."""
    address = rng.choice(addresses)
    kind = rng.randrange(12)
    if kind == 0:                                    # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if kind == 1:                                    # random bytes that pass the "looks like OSC" check
        return b"/" + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
    if kind == 2:                                    # non-finite numbers, as float and double
        x = rng.choice([math.nan, math.inf, -math.inf])
        return message(address, ("d", x)) if rng.random() < 0.5 else message(address, x)
    if kind == 3:                                    # huge strings
        return message(address, "x" * rng.choice([301, 5_000, 20_000]))
    if kind == 4:                                    # wrong types: blobs, huge ints, T/F/N, MIDI, colours
        arg = rng.choice([("b", b"\x00" * 64), ("h", 2**62), ("i", -2**31), ("T", True), ("N", None),
                          ("m", (0, 144, 60, 127)), ("r", 0xFF00FF00), ("F", False)])
        return message(address, arg)
    if kind == 5:                                    # out-of-range numbers, also on /unit
        return message(address + rng.choice(["", "/unit"]), rng.choice([-1e30, 1e30, -5.0, 2.0, 1e9]))
    if kind == 6:                                    # unknown addresses and wildcard bombs
        return message(rng.choice(["/vj/nope", "/x", "/vj/" + "*" * 40 + "a", "/vj/{" + "a," * 200 + "}",
                                   "/vj/[" * 50, "/" + "a/" * 500]), 1.0)
    if kind == 7:                                    # a valid message cut short or with bytes flipped
        dgram = bytearray(message(address, rng.random()))
        if rng.random() < 0.5:
            return bytes(dgram[: rng.randrange(1, len(dgram))])
        for _ in range(3):
            dgram[rng.randrange(len(dgram))] = rng.randrange(256)
        return bytes(dgram)
    if kind == 8:                                    # deeply nested bundles
        inner = message(address, 0.5)
        for _ in range(rng.choice([10, 300])):
            inner = b"#bundle\x00" + struct.pack(">Q", 1) + struct.pack(">i", len(inner)) + inner
        return inner
    if kind == 9:                                    # a bundle that lies about its content's size
        return b"#bundle\x00" + struct.pack(">Q", 1) + struct.pack(">i", 2**30) + b"/vj/x\x00\x00\x00"
    if kind == 10:                                   # far-future bundles of too many arguments
        b = OscBundleBuilder(2_000_000_000)          # a time tag years ahead
        m = OscMessageBuilder(address)
        for _ in range(rng.randrange(2, 50)):
            m.add_arg(rng.random())
        b.add_content(m.build())
        return b.build().dgram
    return message(address, "?" * rng.randrange(2, 5), rng.random())   # odd strings and extra args


def test_ten_thousand_hostile_packets_leave_the_server_answering_and_values_in_range(caplog):
    caplog.set_level(logging.WARNING)
    store = app_store()
    listener = Listener()
    server = start_server(store, feedback_port=listener.port)
    rng = random.Random(5)
    addresses = list(build_routes(store))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            target = ("127.0.0.1", server.port)
            unsynced = 0
            for i in range(PACKETS):
                packet = hostile(rng, addresses)
                sock.sendto(packet, target)
                unsynced += len(packet)
                if unsynced > 64_000 or i % 50 == 49:   # pace, so the kernel's buffer drops nothing
                    assert wait_for(lambda: server.packets >= i + 1), f"server stuck at {server.packets}"
                    unsynced = 0
            assert wait_for(lambda: server.packets >= PACKETS)
            assert server.running
            sock.sendto(message("/vj/crossfade", 0.625), target)
            sock.sendto(message("/vj/sync"), target)
            assert wait_for(lambda: store.base("crossfade") == 0.625)
            assert wait_for(lambda: listener.last("/vj/crossfade") == 0.625)
    finally:
        server.stop()
        listener.close()
    for name, spec in store.specs.items():
        ok, why = spec.check(store.base(name))
        assert ok, f"{name} left its range: {why}"
    assert server.refused > PACKETS / 2
    assert server.refusals.counts["bug"] == 0, "every hostile packet is recognised, none reaches the last-resort catch"
    assert len(caplog.records) < 200, "refusals must be rate-limited in the log"
