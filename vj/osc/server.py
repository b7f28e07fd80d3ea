"""The OSC input service: UDP messages to the parameter store, one address per table row.

Runs python-osc's BlockingOSCUDPServer on its own thread: packets are handled in arrival order,
one at a time, each a few dict lookups and one store write, so there is no thread per packet to
pile up under a flood. Bundles are applied at once and in order; their time tags are ignored (a
live show wants now, and a far-future tag must not park a thread).

Every refusal (junk bytes, unknown address, wrong type, NaN, out of range, too long) is counted in
`refusals` and logged at most once per reason every few seconds. Nothing here raises into the show:
a port that is taken is retried in the background.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message import OscMessage
from pythonosc.osc_packet import OscPacket
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.parsing import osc_types

from engine.params import ParamStore

from ..ratelog import RateLimitedLog
from ..setup import OscSetup, Setup, SetupError
from .addresses import ACTION, SYNC_KIND, Route, build_routes
from .feedback import Feedback, parse_host
from .values import QUERY, Refused
from .write import write

log = logging.getLogger(__name__)

MAX_ADDRESS = 256       # longer addresses are refused before any matching
MAX_WILDCARDS = 4       # OSC patterns become regexes; many stars would backtrack for ever
RETRY_S = 5.0           # a taken port is tried again this often
TYPE_TAGS = set("ifdshbrmtTFN[]")   # what python-osc can parse; it skips other tags, shifting the rest


def _quiet_python_osc() -> None:
    """python-osc warns on the root logger for every unknown type tag, which a flood would multiply;
    we refuse and count those messages ourselves, so its own lines are dropped."""
    root = logging.getLogger()
    if not any(getattr(f, "_vj_osc", False) for f in root.filters):
        def drop(record: logging.LogRecord) -> bool:
            return "pythonosc" not in record.pathname
        drop._vj_osc = True
        root.addFilter(drop)


def _type_tags(dgram: bytes) -> str:
    _, i = osc_types.get_string(dgram, 0)
    if i >= len(dgram):
        return ","                      # OSC 1.0 lets old senders leave out the type tags: no arguments
    return osc_types.get_string(dgram, i)[0]


class _Router(Dispatcher):
    """python-osc's dispatcher, used for what it does well (address patterns); packets go to us."""

    def __init__(self, on_packet) -> None:
        super().__init__(strict_timing=False)
        self._on_packet = on_packet

    def call_handlers_for_packet(self, data: bytes, client_address: tuple) -> list:
        self._on_packet(data, client_address)
        return []                               # answers go out through feedback, to port 9000


class _UDPServer(BlockingOSCUDPServer):
    max_packet_size = 65535                     # read whole datagrams; truncating would garble them

    def __init__(self, address: tuple[str, int], router: _Router, on_junk, on_error) -> None:
        super().__init__(address, router)
        self._on_junk, self._on_error = on_junk, on_error

    def verify_request(self, request, client_address) -> bool:
        ok = super().verify_request(request, client_address)
        if not ok:
            self._on_junk(client_address)
        return ok

    def handle_error(self, request, client_address) -> None:   # never print tracebacks to stderr
        self._on_error(client_address)


class OscServer:
    """Listens on the setup's port; `accepted` and `refusals` count what came in, `errors` our own
    failures while handling a message (a bug, not the sender's fault; the next message is served)."""

    part = "osc"

    def __init__(self, store: ParamStore, osc: OscSetup, label: str = "<setup>",
                 warnings: list[str] | None = None) -> None:
        self.store, self.setup = store, osc
        self.warnings = warnings if warnings is not None else []   # the HUD's list (Show.warnings)
        self._hud = f"OSC PORT {osc.port} TAKEN: NO OSC"
        self.routes: dict[str, Route] = build_routes(store)
        hosts = []
        for i, entry in enumerate(osc.feedback_hosts):
            try:
                hosts.append(parse_host(entry, osc.feedback_port))
            except ValueError as e:
                raise SetupError(f"{label}: osc.feedback_hosts[{i}] {e}, got {entry!r}.") from None
        self.feedback = Feedback(store, self.routes, osc.feedback_port, hosts, osc.feedback_rate) \
            if osc.feedback else None
        self.router = _Router(self._packet)
        for address, route in self.routes.items():
            self.router.map(address, _unused, route)
        self.packets = 0                # datagrams handled, good or bad
        self.accepted = 0               # messages applied
        self.refusals = RateLimitedLog(log)
        self._server: _UDPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._serving = False                    # serve_forever running (it must be shut down)
        self._life = threading.Lock()            # orders "start serving" against "stop"
        self.retry_s = RETRY_S
        _quiet_python_osc()

    @classmethod
    def from_setup(cls, setup: Setup, store: ParamStore, warnings: list[str] | None = None) -> "OscServer":
        """`warnings` is the HUD's list (Show.warnings): a taken port shows there until we get it."""
        return cls(store, setup.osc, setup.label, warnings)

    source = "osc"                      # what our store writes are stamped with

    @property
    def refused(self) -> int:
        return self.refusals.total

    @property
    def errors(self) -> int:
        return self.refusals.counts["bug"]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def port(self) -> int | None:
        """The port we listen on (the real one when the setup asks for 0), None before binding."""
        return self._server.server_address[1] if self._server else None

    # -- service -------------------------------------------------------------------------------
    def start(self) -> None:
        if not self.setup.enabled:
            log.info("OSC is off ([osc] enabled = false in the setup)")
            return
        self._stop.clear()
        if self.feedback:
            self.feedback.start()
        self._bind(first=True)
        self._thread = threading.Thread(target=self._serve, name="osc-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._life:
            self._stop.set()
            serving = self._serving
        if serving:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(2.0)
        if self._server is not None:
            self._server.server_close()
        if self.feedback:
            self.feedback.stop()

    def _bind(self, first: bool) -> bool:
        where = (self.setup.listen, self.setup.port)
        try:
            self._server = _UDPServer(where, self.router, self._junk, self._crash)
        except OSError as e:
            if first:
                log.error("OSC cannot listen on %s:%d (%s): another program (another vj, Resolume?) may hold "
                          "the port; change [osc] port in the setup. The show goes on; retrying every %g s.",
                          *where, e.strerror or e, self.retry_s)
                self.warnings.append(self._hud)
            return False
        if self._hud in self.warnings:
            self.warnings.remove(self._hud)
        log.info("OSC listening on %s:%d (%d addresses; `vj osc-spec` lists them)", where[0], self.port,
                 len(self.routes))
        return True

    def _serve(self) -> None:
        while self._server is None:
            if self._stop.wait(self.retry_s):
                return
            self._bind(first=False)
        with self._life:
            if self._stop.is_set():
                return
            self._serving = True
        self._server.serve_forever(poll_interval=0.1)

    # -- packets (server thread) ------------------------------------------------------------------
    def _packet(self, data: bytes, client: tuple) -> None:
        self.packets += 1
        try:
            messages = [t.message for t in OscPacket(data).messages]
        except Exception as e:  # python-osc raises more than ParseError on hostile bytes
            self.refusals("malformed", "refused a malformed OSC packet from %s (%s)", client[0], _short(e))
            return
        for msg in messages:
            try:
                self._message(msg, client[0])
            except Refused as e:
                # one line per address and reason: a broken fader never hides another's refusal (an
                # unknown address is grouped by reason only: a sender can make up endless addresses)
                about = msg.address if msg.address in self.routes else ""
                self.refusals(e.kind, "refused OSC %s from %s: %s", _short(msg.address), client[0], e, about=about)
            except Exception:  # a listener or handler bug: count it, keep serving
                self.refusals("bug", "OSC %s from %s failed; the server carries on", _short(msg.address),
                              client[0], exc_info=True)

    def _message(self, msg: OscMessage, host: str) -> None:
        address, args, tags = msg.address, msg.params, _type_tags(msg.dgram)
        if not set(tags[1:]) <= TYPE_TAGS:
            raise Refused(f"unknown OSC type tags in {_short(tags)!r}", "malformed")
        route = self.routes.get(address)
        if route is not None:
            self._apply(route, args, host)
        else:
            self._apply_pattern(self._match(address), args, host)
        self.accepted += 1
        if self.feedback:
            self.feedback.add_client(host)

    def _match(self, pattern: str) -> list[Route]:
        if len(pattern) > MAX_ADDRESS or sum(pattern.count(c) for c in "*?[{") > MAX_WILDCARDS:
            raise Refused("address is too long or has too many wildcards", "address")
        if not any(c in pattern for c in "*?[{"):
            raise Refused("unknown address; `vj osc-spec` lists them", "address")
        routes = [h.args[0] for h in self.router.handlers_for_address(pattern)]
        if not routes:
            raise Refused("address pattern matches nothing; `vj osc-spec` lists the addresses", "address")
        return routes

    def _apply_pattern(self, routes: list[Route], args: list[Any], host: str) -> None:
        """`/vj/prompt/*/frames 40`: every matching address that takes the value gets it."""
        refused = []
        for route in routes:
            try:
                self._apply(route, args, host)
            except Refused as e:
                refused.append(e)
        if len(refused) == len(routes):
            raise refused[0]

    def _apply(self, route: Route, args: list[Any], host: str) -> None:
        kind = route.kind
        if kind == SYNC_KIND:
            if self.feedback:
                self.feedback.sync(host)
            return
        if args == [QUERY] and kind != ACTION:
            if self.feedback:
                self.feedback.query(host, route.address)
            return
        write(self.store, route, args, "osc")

    def _junk(self, client: tuple) -> None:
        self.packets += 1
        self.refusals("junk", "refused a UDP packet from %s that is not OSC", client[0])

    def _crash(self, client: tuple) -> None:
        self.refusals("bug", "OSC packet from %s failed; the server carries on", client[0], exc_info=True)


def _unused(*_: Any) -> None:
    """Routes are mapped into the dispatcher for pattern matching only; we apply them ourselves."""


def _short(x: Any) -> str:
    text = str(x)
    return text if len(text) <= 80 else text[:77] + "..."
