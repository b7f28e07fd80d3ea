"""Control in any browser, and discovery: the page, OSCQuery and zeroconf, on one HTTP port.

namespace.py  the OSCQuery namespace and HOST_INFO, derived from the parameter table
layout.py     which controls the page shows, by parameter name
preview.py    the newest generator frame as a small JPEG
advertise.py  zeroconf: _oscjson._tcp and _osc._udp
server.py     the aiohttp service on its own thread: HTTP, WebSocket (LISTEN/IGNORE, OSC), token
static/       the page itself: plain HTML, CSS and one script, no build step
"""
from .server import WebServer

__all__ = ["WebServer"]
