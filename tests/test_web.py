"""OSCQuery and the page's server over real HTTP and WebSocket: namespace, HOST_INFO, LISTEN, token,
preview, zeroconf. The page in a real browser is tests/test_web_page.py."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import time
import urllib.error
import urllib.request

import aiohttp
import numpy as np
import pytest
from PIL import Image
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from engine.bus import Frame, FrameBus
from tests.osc_tools import wait_for
from vj.osc.addresses import address_of
from vj.setup import parse_setup
from vj.tables import app_store
from vj.web import WebServer
from vj.web.layout import SECTIONS

TOKEN = "s3cret-token"


def serve(**web) -> WebServer:
    setup = parse_setup({"name": "web test", "osc": {"port": 8123},
                         "web": {"port": 0, "advertise": False, **web}}, "<test>")
    server = WebServer.from_setup(setup, app_store(), FrameBus())
    server.start()
    assert server.port, "the server did not start"
    return server


@pytest.fixture(scope="module")
def server():
    s = serve()
    yield s
    s.stop()


def get(server: WebServer, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def get_json(server: WebServer, path: str) -> dict:
    status, body, _ = get(server, path)
    assert status == 200, body
    return json.loads(body)


def osc(address: str, *args) -> bytes:
    msg = OscMessageBuilder(address)
    for a in args:
        msg.add_arg(a)
    return msg.build().dgram


# -- OSCQuery ------------------------------------------------------------------------------------------

def test_the_namespace_has_every_parameter_with_its_type_range_value_and_access(server):
    root = get_json(server, "/")
    store = server.store
    for spec in store.specs.values():
        node = root
        for part in address_of(spec.name).strip("/").split("/"):
            node = node["CONTENTS"][part]
        assert node["FULL_PATH"] == address_of(spec.name)
        assert node["TYPE"] == {"float": "f", "int": "i", "bool": "T", "str": "s", "enum": "s"}[spec.kind], spec.name
        assert node["ACCESS"] == (1 if spec.readonly else 3)
        assert node["DESCRIPTION"].startswith(spec.doc)
        value = node["VALUE"][0]
        assert value == store.base(spec.name) and type(value) is type(store.base(spec.name)), spec.name
        if spec.numeric:
            assert node["RANGE"] == [{"MIN": spec.lo, "MAX": spec.hi}]
        elif spec.kind == "enum":
            assert node["RANGE"] == [{"VALS": list(spec.choices)}]
    for action in store.actions:
        node = get_json(server, address_of(action))
        assert node["ACCESS"] == 2 and "VALUE" not in node


def test_a_node_and_one_attribute_answer_alone_and_unknown_paths_are_404(server):
    server.store.set("temperature", 55.0)
    assert get_json(server, "/vj/temperature")["VALUE"] == [55.0]
    assert get_json(server, "/vj/temperature?VALUE") == {"VALUE": [55.0]}
    assert get_json(server, "/vj/temperature?RANGE") == {"RANGE": [{"MIN": 0, "MAX": 100}]}
    status, body, _ = get(server, "/vj/no/such/thing")
    assert status == 404 and b"no OSC address /vj/no/such/thing" in body


def test_host_info_names_the_osc_port_and_listen_support(server):
    info = get_json(server, "/?HOST_INFO")
    assert info["NAME"] == "web test" and info["OSC_PORT"] == 8123 and info["OSC_TRANSPORT"] == "UDP"
    assert info["EXTENSIONS"]["LISTEN"] is True and info["WS_PORT"] == server.port


def test_a_browser_gets_the_page_and_a_client_gets_json_at_the_same_address(server):
    status, body, headers = get(server, "/", {"Accept": "text/html,application/xhtml+xml"})
    assert status == 200 and body.startswith(b"<!doctype html>")
    assert "script-src" not in headers["Content-Security-Policy"] and "default-src 'self'" in \
        headers["Content-Security-Policy"]                        # no inline script can run
    assert json.loads(get(server, "/")[1])["CONTENTS"]["vj"]


def test_every_name_the_page_shows_is_in_the_table():
    store = app_store()
    for title, _, names in SECTIONS:
        for name in names:
            assert name in store.specs or name in store.actions, f"{title}: {name}"


def test_the_stage_buttons_come_before_the_prompt_slots(server):
    """On a phone the page is one column: blackout must not sit below eight prompt slots."""
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/layout.json", timeout=5) as r:
        sections = [s["title"] for s in json.loads(r.read())["sections"]]
    assert sections.index("Stage") == 0 and sections.index("Stage") < sections.index("Prompts")


async def _listen_session(server: WebServer) -> list:
    """LISTEN to temperature, see changes from elsewhere; set values by OSC over the socket; IGNORE."""
    url = f"ws://127.0.0.1:{server.port}/"
    got: list = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"COMMAND": "LISTEN", "DATA": "/vj/temperature"}))
        await ws.send_str("not json")                              # refused, the socket stays
        await asyncio.sleep(0.2)
        server.store.set("temperature", 42.0, "osc")               # a change made elsewhere
        msg = await asyncio.wait_for(ws.receive(), 5)
        m = OscMessage(msg.data)
        got.append((m.address, m.params))
        await ws.send_bytes(osc("/vj/crossfade", 0.25))            # the client sets a value
        await ws.send_bytes(osc("/vj/next", True))                 # and fires an action
        await ws.send_str(json.dumps({"COMMAND": "IGNORE", "DATA": "/vj/temperature"}))
        await asyncio.sleep(0.2)
        server.store.set("temperature", 43.0, "osc")
        try:
            extra = await asyncio.wait_for(ws.receive(), 0.5)
            got.append(("unexpected", extra.data))
        except asyncio.TimeoutError:
            pass
    return got


def test_listen_streams_changes_as_osc_and_the_socket_takes_osc_writes(server):
    server.store.set("prompt.1", "a")
    server.store.set("prompt.2", "b")
    server.store.set("prompt.select", 1)
    refused = server.refusals.total
    got = asyncio.run(_listen_session(server))
    assert got == [("/vj/temperature", [42.0])]                    # and nothing after IGNORE
    assert server.store.base("crossfade") == 0.25
    assert server.store.base("prompt.select") == 2
    assert server.refusals.total == refused + 1                    # the junk command, counted


# -- security ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def guarded():
    s = serve(token=TOKEN)
    yield s
    s.stop()


@pytest.mark.parametrize("path", ["/", "/vj/temperature", "/?HOST_INFO", "/layout.json", "/preview.jpg",
                                  "/static/page.js"])
def test_with_a_token_set_requests_without_it_are_refused(guarded, path):
    status, body, _ = get(guarded, path)
    assert status == 401 and b"access token" in body
    sep = "&" if "?" in path else "?"
    assert get(guarded, f"{path}{sep}token=wrong")[0] == 401
    assert get(guarded, f"{path}{sep}token={TOKEN}")[0] in (200, 204)
    assert get(guarded, path, {"Authorization": f"Bearer {TOKEN}"})[0] in (200, 204)


def test_with_a_token_set_a_websocket_without_it_is_refused(guarded):
    async def connect(query: str) -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(f"ws://127.0.0.1:{guarded.port}/{query}"):
                    return 101
            except aiohttp.WSServerHandshakeError as e:
                return e.status
    assert asyncio.run(connect("")) == 401
    assert asyncio.run(connect(f"?token={TOKEN}")) == 101


def test_a_websocket_from_another_sites_page_is_refused(server):
    async def connect(origin: str | None) -> int:
        headers = {"Origin": origin} if origin else {}
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(f"ws://127.0.0.1:{server.port}/", headers=headers):
                    return 101
            except aiohttp.WSServerHandshakeError as e:
                return e.status
    assert asyncio.run(connect("http://evil.example")) == 403
    assert asyncio.run(connect(f"http://127.0.0.1:{server.port}")) == 101      # our own page
    assert asyncio.run(connect(None)) == 101                                    # OSCQuery clients send none


# -- preview, port, discovery --------------------------------------------------------------------------

def publish(bus: FrameBus, rgb: tuple[int, int, int], size=(360, 640)) -> None:
    pixels = np.zeros((*size, 3), np.uint8)
    pixels[:] = rgb
    bus.publish(Frame(index=0, iteration=1, final=True, time=time.perf_counter(), pixels=pixels))


def test_the_preview_is_the_newest_frame_small(server):
    bus = server.preview.bus
    publish(bus, (255, 0, 0))
    status, red, headers = get(server, "/preview.jpg")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(red))
    assert picture.size == (320, 180)
    assert picture.getpixel((160, 90))[0] > 200
    publish(bus, (0, 0, 255))
    blue = Image.open(io.BytesIO(get(server, "/preview.jpg")[1]))
    assert blue.getpixel((160, 90))[2] > 200


def test_in_the_live_app_the_preview_is_the_output_picture_read_back_while_a_page_asks(xvfb):
    import open_clip  # noqa: F401  (before any GL context: triton's LLVM clashes with llvmpipe's)
    import moderngl

    from vj.web.preview import Preview

    ctx = moderngl.create_standalone_context()
    try:
        fbo = ctx.simple_framebuffer((640, 360))
        bus = FrameBus()
        publish(bus, (0, 0, 255))                                    # the generator's frame: blue
        preview = Preview(bus, fps=1000)
        fbo.use()
        fbo.clear(1.0, 0.0, 0.0)                                     # the output, after effects: red
        preview.on_output(fbo, 0.0)                                  # no page asked yet: nothing read
        assert preview._reader is None
        blue = Image.open(io.BytesIO(preview.jpeg()))                # a page asks: the bus until the output comes
        assert blue.getpixel((160, 90))[2] > 200
        preview.on_output(fbo, 0.0)                                  # queues a copy
        fbo.clear(0.0, 0.0, 0.0)                                     # blackout
        time.sleep(0.002)
        preview.on_output(fbo, 0.02)                                 # takes the red one, queues black
        red = Image.open(io.BytesIO(preview.jpeg()))
        assert red.size == (320, 180) and red.getpixel((160, 90))[0] > 200
        time.sleep(0.002)
        preview.on_output(fbo, 0.04)
        assert max(Image.open(io.BytesIO(preview.jpeg())).getpixel((160, 90))) < 20
        preview.release()
    finally:
        ctx.release()


def test_a_taken_port_is_one_sentence_and_a_hud_line_not_an_exception(caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        setup = parse_setup({"osc": {"listen": "127.0.0.1"}, "web": {"port": port, "advertise": False}}, "<test>")
        hud: list[str] = []
        server = WebServer.from_setup(setup, app_store(), warnings=hud)
        server.start()
        try:
            said = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(said) == 1 and "change [web] port in the setup" in said[0]
            assert hud == [f"WEB PORT {port} TAKEN: NO CONTROL PAGE"]
        finally:
            server.stop()


def test_zeroconf_discovery_finds_oscquery_and_osc():
    from zeroconf import ServiceBrowser, Zeroconf

    server = serve(advertise=True)
    found: dict[str, int] = {}

    class Listener:
        def add_service(self, zc, kind, name):
            info = zc.get_service_info(kind, name, timeout=2000)
            if info and name.startswith("web test"):
                found[kind] = info.port

        update_service = remove_service = lambda *a: None

    zc = Zeroconf()
    try:
        ServiceBrowser(zc, ["_oscjson._tcp.local.", "_osc._udp.local."], Listener())
        if not wait_for(lambda: len(found) == 2, timeout=8.0):
            error = server._advertiser.error
            assert error is None or isinstance(error, OSError), error
            pytest.skip(f"no zeroconf answer within 8 s: multicast does not work on this machine ({error})")
        assert found == {"_oscjson._tcp.local.": server.port, "_osc._udp.local.": 8123}
    finally:
        zc.close()
        server.stop()
