"""OSC feedback: every changed value echoed to the control surfaces, so they show the truth.

The store calls `_on_change` in the writer's thread (OSC, MIDI, keys, audio); it only marks the
parameter as pending in a Throttle (vj/throttle.py, shared with MIDI LEDs and the browser), so a
writer never waits on the network. Each pending parameter goes to its addresses (plain and /unit)
at most `rate` times a second per address, read when it is sent: the latest value wins. `/vj/sync` and `?`
queries are answered at once, to the asking client only.

Destinations: every client that sent us an accepted message (its IP, the setup's feedback port),
the most recent `max_clients` of them, plus the hosts the setup names.
"""
from __future__ import annotations

import logging
import re
import socket
import threading
from collections import OrderedDict
from typing import Any, Iterable

from pythonosc.osc_message_builder import OscMessageBuilder

from engine.controls import shown_slot
from engine.params import Change, ParamStore

from ..ratelog import RateLimitedLog
from ..throttle import Throttle
from .addresses import ACTIVE, ACTIVE_KIND, PARAM, UNIT_PARAM, Route
from .values import outgoing

log = logging.getLogger(__name__)

_ACTIVE = "@active"                     # pending-key of the derived /vj/prompt/active address
_PROMPT_TEXT = re.compile(r"prompt\.(\d+|select)$")


class Feedback:
    def __init__(self, store: ParamStore, routes: dict[str, Route], port: int,
                 hosts: Iterable[tuple[str, int]] = (), rate: float = 30.0, max_clients: int = 16) -> None:
        self.store, self.port, self.max_clients = store, port, max_clients
        self._routes = routes
        self._addresses: dict[str, list[str]] = {}          # pending-key -> its addresses
        for r in routes.values():
            if r.kind in (PARAM, UNIT_PARAM):
                self._addresses.setdefault(r.name, []).append(r.address)
            elif r.kind == ACTIVE_KIND:
                self._addresses[_ACTIVE] = [r.address]
        self._fixed = list(dict.fromkeys(hosts))
        self._clients: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._replies: list[tuple[tuple[str, int], list[str]]] = []
        self._lock = threading.Lock()
        self._throttle = Throttle(self._deliver, rate, "osc-feedback")
        self.interval = self._throttle.interval
        self._sock: socket.socket | None = None
        self.sent = 0
        self.errors = RateLimitedLog(log, interval=10.0)
        store.subscribe(self._on_change)

    # -- writers' side (any thread; must stay quick) ---------------------------------------------
    def _on_change(self, change: Change) -> None:
        if change.name not in self._addresses or self._throttle.stopped:
            return                                          # actions carry no value to echo
        self._throttle.mark(change.name)
        if _PROMPT_TEXT.match(change.name) or change.name == "prompt.painting":
            # filling or emptying a slot, or the deck moving on, changes what paints: the active
            # prompt's text and the slot shown (shown_slot) follow it
            for derived in (_ACTIVE, "prompt.select"):
                if derived in self._addresses:
                    self._throttle.mark(derived)

    def add_client(self, host: str) -> None:
        """Remember a client that sent us something; it gets feedback from now on."""
        target = (host, self.port)
        with self._lock:
            if target in self._clients:
                self._clients.move_to_end(target)
                return
            self._clients[target] = None
            if len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
        log.info("OSC feedback now also goes to %s:%d", host, self.port)

    def sync(self, host: str) -> None:
        """Send every value to `host` now (its answer to /vj/sync)."""
        self._reply(host, list(a for addrs in self._addresses.values() for a in addrs))

    def query(self, host: str, address: str) -> None:
        """Send one address's value to `host` now (its answer to `address ?`)."""
        self._reply(host, [address])

    def _reply(self, host: str, addresses: list[str]) -> None:
        with self._lock:
            self._replies.append(((host, self.port), addresses))
        self._throttle.poke()

    @property
    def targets(self) -> list[tuple[str, int]]:
        with self._lock:
            return list(dict.fromkeys([*self._fixed, *self._clients]))

    # -- sender thread -----------------------------------------------------------------------------
    @property
    def _thread(self) -> threading.Thread | None:
        return self._throttle._thread

    def start(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._throttle.start()

    def stop(self) -> None:
        self._throttle.stop()
        if self._sock is not None:
            self._sock.close()

    def _deliver(self, due: list[str]) -> None:
        """Send the replies asked for, then every due key's addresses to every client."""
        with self._lock:
            replies, self._replies = self._replies, []
        for target, addresses in replies:
            for address in addresses:
                self._send(self._datagram(address), [target])
        targets = self.targets
        for key in due:
            for address in self._addresses[key]:
                self._send(self._datagram(address), targets)

    def _datagram(self, address: str) -> bytes:
        route = self._routes[address]
        snap = self.store.snapshot()
        if route.kind == ACTIVE_KIND:
            value: Any = snap[f"prompt.{shown_slot(snap)}"]
        else:
            spec = self.store.specs[route.name]
            # the slot that paints, not an empty pad pressed: labels show what the audience sees
            value = shown_slot(snap) if route.name == "prompt.select" else self.store.base(route.name)
            value = float(spec.to_unit(value)) if route.kind == UNIT_PARAM else outgoing(spec, value)
        msg = OscMessageBuilder(address)
        msg.add_arg(value)
        return msg.build().dgram

    def _send(self, dgram: bytes, targets: list[tuple[str, int]]) -> None:
        for target in targets:
            try:
                self._sock.sendto(dgram, target)
                self.sent += 1
            except OSError as e:
                self.errors(f"send {target}", "OSC feedback to %s:%d failed (%s); check the address in the "
                            "setup or the network; retrying with the next change", target[0], target[1], e)


def parse_host(entry: str, default_port: int) -> tuple[str, int]:
    """"host" or "host:port" -> (IPv4 address, port); raises ValueError with the reason."""
    host, _, port = entry.rpartition(":") if ":" in entry else (entry, "", "")
    if not host:
        raise ValueError("must be \"host\" or \"host:port\"")
    try:
        number = int(port) if port else default_port
    except ValueError:
        raise ValueError(f"port {port!r} is not a number") from None
    if not 1 <= number <= 65535:
        raise ValueError(f"port {number} is not in 1..65535")
    try:
        return socket.gethostbyname(host), number
    except OSError:
        raise ValueError(f"host {host!r} is not known (a name, or an IPv4 address like 192.168.1.20)") from None


__all__ = ["Feedback", "parse_host", "ACTIVE"]
