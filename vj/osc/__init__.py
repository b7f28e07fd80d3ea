"""OSC control: every live parameter at its own address, state echoed back to the surfaces.

addresses.py  the address table, derived from the parameter table
values.py     OSC arguments <-> parameter values (types, ranges, "?", "+0.1")
server.py     the UDP server service (python-osc), refusing bad input with counters
write.py      one message applied to the store by its route (shared with the browser's WebSocket)
feedback.py   echo of changed values to clients, rate-limited per address (vj/throttle.py); /vj/sync
spec.py       the address list as a Markdown page (`vj osc-spec`, docs/osc.md)
"""
from .server import OscServer

__all__ = ["OscServer"]
