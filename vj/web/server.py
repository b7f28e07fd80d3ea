"""The web service: the control page, OSCQuery over HTTP and its WebSocket, the preview picture.

One aiohttp server on its own thread with its own asyncio loop, so nothing here can block the show:

    GET /                  the control page (a browser asks for HTML), else the OSCQuery root
    GET /vj/temperature    an OSCQuery node; ?VALUE (or another attribute) answers that one only
    GET /?HOST_INFO        our name, the OSC server's port, what we support
    GET /layout.json       which controls the page shows (vj/web/layout.py)
    GET /preview.jpg       the output picture (or the newest generator frame), small (vj/web/preview.py)
    WS  /                  OSCQuery's WebSocket: {"COMMAND": "LISTEN"|"IGNORE", "DATA": path} in text;
                           OSC packets in binary, both ways (the page sets values this way too)

Values go out to each WebSocket through a Throttle (vj/throttle.py): at most `[web] rate` updates a
second per parameter, the latest value, like OSC feedback and the MIDI LEDs. With `[web] token`
set, every request must carry it (?token=..., or an `Authorization: Bearer` header): 401 otherwise.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit
from aiohttp import WSMsgType, web
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from engine.bus import FrameBus
from engine.params import Change, ParamStore

from ..osc.addresses import PARAM, Route, address_of, build_routes
from ..osc.values import Refused
from ..osc.write import write
from ..ratelog import RateLimitedLog
from ..setup import Setup, WebSetup
from ..throttle import Throttle
from .advertise import Advertiser, host_addresses
from .layout import page_layout
from .namespace import build_namespace, find, host_info, wire_value
from .preview import Preview

log = logging.getLogger(__name__)

SOURCE = "web"
RETRY_S = 5.0                 # a taken port is tried again this often
STATIC = resources.files("vj.web") / "static"
# The page loads only its own files: a prompt that slipped past escaping still could not run script.
CSP = "default-src 'self'; img-src 'self' blob:; connect-src 'self' ws: wss:; style-src 'self'; object-src 'none'"


class _Client:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.listening: set[str] = set()


class WebServer:
    """The page and OSCQuery on `[web] listen`:`[web] port`; `port` and `url` are known once started."""

    def __init__(self, store: ParamStore, web_setup: WebSetup, name: str = "vj", bus: FrameBus | None = None,
                 osc_listen: str = "0.0.0.0", osc_port: int | None = None, warnings: list[str] | None = None) -> None:
        self.store, self.setup, self.name = store, web_setup, name
        self.listen = web_setup.listen or osc_listen
        self.osc_port = osc_port
        self.warnings = warnings if warnings is not None else []
        self.routes: dict[str, Route] = build_routes(store)
        self.preview = Preview(bus, fps=web_setup.preview_fps) if bus is not None and web_setup.preview_fps > 0 \
            else None
        self.port: int | None = None
        self.refusals = RateLimitedLog(log)
        self._clients: set[_Client] = set()
        self._tasks: set[asyncio.Task] = set()
        self._throttle = Throttle(self._deliver, web_setup.rate, "web-feedback")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._advertiser: Advertiser | None = None
        self._hud = f"WEB PORT {web_setup.port} TAKEN: NO CONTROL PAGE"
        store.subscribe(self._on_change)

    @classmethod
    def from_setup(cls, setup: Setup, store: ParamStore, bus: FrameBus | None = None,
                   warnings: list[str] | None = None) -> "WebServer":
        osc_port = setup.osc.port if setup.osc.enabled else None
        return cls(store, setup.web, setup.name, bus, setup.osc.listen, osc_port, warnings)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.listen in ("", "0.0.0.0") else self.listen
        token = f"?token={quote(self.setup.token)}" if self.setup.token else ""
        return f"http://{host}:{self.port}/{token}"

    # -- service -------------------------------------------------------------------------------
    def start(self, timeout: float = 5.0) -> None:
        """Serve from a thread of our own; returns once listening (or after `timeout` if the port is taken)."""
        if not self.setup.enabled:
            log.info("The control page is off ([web] enabled = false in the setup)")
            return
        self._throttle.start()
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        self._thread.start()
        self._ready.wait(timeout)

    def on_output(self, fbo: Any, t: float) -> None:
        """Frame sink (main thread): the output picture, for the page's preview while a page asks."""
        if self.preview is not None and self._thread is not None:
            self.preview.on_output(fbo, t)

    def stop(self) -> None:
        """Stop serving (on the main thread in the live app, so the preview's GL buffers can go)."""
        if self.preview is not None:
            self.preview.release()
        if self._loop is not None and self._stopping is not None:
            try:
                self._loop.call_soon_threadsafe(self._stopping.set)
            except RuntimeError:
                pass                                       # the loop already ended (see _run)
        if self._thread is not None:
            self._thread.join(5.0)
        self._throttle.stop()
        if self._advertiser is not None:
            self._advertiser.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(loop))
        except Exception:  # a bug here must not take the show down
            log.exception("the control page stopped; the show goes on without it")
        finally:
            loop.close()
            self._ready.set()

    async def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._stopping = loop, asyncio.Event()
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/preview.jpg", self._preview)
        app.router.add_get("/layout.json", self._layout)
        app.router.add_static("/static", str(STATIC))
        app.router.add_get("/{path:.*}", self._query)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            if await self._bind(runner):
                self._ready.set()
                await self._stopping.wait()
        finally:
            for client in list(self._clients):
                await client.ws.close()
            await runner.cleanup()

    async def _bind(self, runner: web.AppRunner) -> bool:
        first = True
        while not self._stopping.is_set():
            try:
                await web.TCPSite(runner, self.listen, self.setup.port).start()
            except OSError as e:
                if first:
                    log.error("The control page cannot listen on %s:%d (%s): another program may hold the port; "
                              "change [web] port in the setup. The show goes on; retrying every %g s.",
                              self.listen, self.setup.port, e.strerror or e, RETRY_S)
                    self.warnings.append(self._hud)
                    self._ready.set()
                    first = False
                try:
                    await asyncio.wait_for(self._stopping.wait(), RETRY_S)
                except asyncio.TimeoutError:
                    pass
                continue
            if self._hud in self.warnings:
                self.warnings.remove(self._hud)
            self.port = runner.addresses[0][1]
            for ip in host_addresses(self.listen):
                log.info("Control page: http://%s:%d/%s (OSCQuery on the same port)", ip, self.port,
                         "?token=..." if self.setup.token else "")
            if self.setup.advertise:
                self._advertiser = Advertiser(self.name, self.listen, self.port, self.osc_port)
                self._advertiser.start()
            return True
        return False

    # -- HTTP ----------------------------------------------------------------------------------
    def allowed(self, request: web.Request) -> bool:
        """True when no token is set, or the request carries it (query, or Authorization: Bearer)."""
        token = self.setup.token
        if not token:
            return True
        given = request.query.get("token") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), token.encode())

    @web.middleware
    async def _guard(self, request: web.Request, handler) -> web.StreamResponse:
        if not self.allowed(request):
            self.refusals("token", "refused a request from %s without the access token", request.remote)
            return web.Response(status=401, text="This vj needs its access token: open the address with "
                                                 "?token=... as set in the setup's [web] token.\n")
        response = await handler(request)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _query(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        query = [k for k in request.query if k != "token"]
        if "HOST_INFO" in query:
            return web.json_response(host_info(self.name, self.listen, self.osc_port, self.port or 0))
        if request.path == "/" and not query and "text/html" in request.headers.get("Accept", ""):
            page = (STATIC / "index.html").read_text(encoding="utf-8")
            if self.setup.token:   # the page's own script and styles are requests too: they carry it
                page = page.replace('.css"', f'.css?token={quote(self.setup.token)}"')
                page = page.replace('.js"', f'.js?token={quote(self.setup.token)}"')
            return web.Response(text=page, content_type="text/html", headers={"Content-Security-Policy": CSP})
        node = find(build_namespace(self.store, self.routes), request.path)
        if node is None:
            return web.json_response({"error": f"no OSC address {request.path}; GET / lists them"}, status=404)
        if query:
            attribute = query[0]
            if attribute not in node:
                return web.Response(status=204)      # the proposal: an attribute the node lacks -> no content
            return web.json_response({attribute: node[attribute]})
        return web.json_response(node)

    async def _layout(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"sections": page_layout(self.store),
                                  "preview_ms": round(1000 / self.setup.preview_fps) if self.preview else 0})

    async def _preview(self, request: web.Request) -> web.StreamResponse:
        jpeg = await asyncio.get_running_loop().run_in_executor(None, self.preview.jpeg) if self.preview else None
        if jpeg is None:
            return web.Response(status=204)
        return web.Response(body=jpeg, content_type="image/jpeg")

    # -- WebSocket -----------------------------------------------------------------------------
    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            # a browser sends its page's origin: another site open on the performer's phone must not steer
            self.refusals("origin", "refused a WebSocket from a page of %s (not this server's page)", origin[:60])
            return web.Response(status=403, text="Only this server's own page may connect.\n")
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=64 * 1024)
        await ws.prepare(request)
        client = _Client(ws)
        self._clients.add(client)
        try:
            async for msg in ws:
                try:
                    if msg.type == WSMsgType.TEXT:
                        self._command(client, msg.data)
                    elif msg.type == WSMsgType.BINARY:
                        self._osc(msg.data, request.remote)
                except Refused as e:
                    self.refusals(e.kind, "refused from the web page at %s: %s", request.remote, e)
        finally:
            self._clients.discard(client)
        return ws

    def _command(self, client: _Client, text: str) -> None:
        """OSCQuery's LISTEN / IGNORE; other commands are refused with a reason."""
        try:
            command = json.loads(text)
            what, path = command["COMMAND"], command["DATA"]
        except (ValueError, KeyError, TypeError):
            raise Refused(f"a WebSocket command must be JSON {{\"COMMAND\": \"LISTEN\", \"DATA\": path}}, "
                          f"got {text[:60]!r}", "command") from None
        route = self.routes.get(path) if isinstance(path, str) else None
        if route is None or route.kind != PARAM:
            raise Refused(f"{what} {str(path)[:60]!r}: no such parameter; GET / lists them", "address")
        if what == "LISTEN":
            client.listening.add(path)
        elif what == "IGNORE":
            client.listening.discard(path)
        else:
            raise Refused(f"unknown WebSocket command {str(what)[:30]!r} (LISTEN and IGNORE are known)", "command")

    def _osc(self, data: bytes, host: str | None) -> None:
        try:
            messages = [t.message for t in OscPacket(data).messages]
        except Exception as e:  # python-osc raises more than ParseError on hostile bytes
            raise Refused(f"a malformed OSC packet ({str(e)[:60]})", "malformed") from None
        for msg in messages:
            route = self.routes.get(msg.address)
            if route is None:
                raise Refused(f"unknown address {msg.address[:60]!r}; GET / lists them", "address")
            write(self.store, route, list(msg.params), SOURCE)

    # -- value updates: store -> throttle thread -> loop -> each listening socket ------------------
    def _on_change(self, change: Change) -> None:
        if self._clients and change.name in self.store.specs:
            self._throttle.mark(change.name)

    def _deliver(self, names: list[str]) -> None:
        loop = self._loop
        if not names or loop is None or loop.is_closed():
            return
        updates = []
        for name in names:
            spec, address = self.store.specs[name], address_of(name)
            msg = OscMessageBuilder(address)
            msg.add_arg(wire_value(spec, self.store.base(name)))
            updates.append((address, msg.build().dgram))
        try:
            loop.call_soon_threadsafe(self._broadcast, updates)
        except RuntimeError:
            pass                                   # the loop closed while we built: the show is ending

    def _broadcast(self, updates: list[tuple[str, bytes]]) -> None:
        for client in list(self._clients):
            dgrams = [d for address, d in updates if address in client.listening]
            if dgrams:
                task = asyncio.get_running_loop().create_task(self._send(client, dgrams))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _send(self, client: _Client, dgrams: list[bytes]) -> None:
        try:
            for d in dgrams:
                await client.ws.send_bytes(d)
        except (ConnectionError, RuntimeError):
            self._clients.discard(client)          # a phone that went to sleep: it reconnects by itself

