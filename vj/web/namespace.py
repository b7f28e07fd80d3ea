"""The OSCQuery namespace, derived from the parameter table (Vidvox OSCQuery proposal, v1:
https://github.com/Vidvox/OSCQueryProposal).

Each parameter is a node at its OSC address (`temperature` at /vj/temperature) with FULL_PATH,
TYPE (an OSC type tag: f float, i int, T bool, s text and choices), RANGE ({MIN, MAX}, or VALS for
choices), VALUE, DESCRIPTION and ACCESS (1 read-only, 3 read and write). Actions are write-only
nodes (ACCESS 2) of TYPE T: a button sends true. Dots in names become containers with CONTENTS, so
/vj/prompt/3 holds the slot's text and /vj/prompt/3/frames its length. The /unit twins of the OSC
address table are left out: an OSCQuery client reads the RANGE and sends values in it.
"""
from __future__ import annotations

from typing import Any

from engine.params import ParamSpec, ParamStore

from ..osc.addresses import ACTION, PARAM, Route
from ..osc.values import outgoing

TYPES = {"float": "f", "int": "i", "bool": "T", "str": "s", "enum": "s"}
READ, WRITE = 1, 2
# What HOST_INFO says we answer (the proposal's EXTENSIONS keys).
EXTENSIONS = {"ACCESS": True, "VALUE": True, "RANGE": True, "DESCRIPTION": True, "TYPE": True, "LISTEN": True,
              "FULL_PATH": True, "CONTENTS": True, "PATH_CHANGED": False, "TAGS": False, "CLIPMODE": False,
              "UNIT": False, "CRITICAL": False, "OVERLOADS": False, "EXTENDED_TYPE": False, "HTML": False}


def wire_value(spec: ParamSpec, value: Any) -> Any:
    """A value as JSON and the WebSocket carry it: bools stay bools (TYPE T), the rest as OSC sends them."""
    return value if spec.kind == "bool" else outgoing(spec, value)


def _param_node(route: Route, spec: ParamSpec, store: ParamStore) -> dict[str, Any]:
    node: dict[str, Any] = {"FULL_PATH": route.address, "TYPE": TYPES[spec.kind],
                            "ACCESS": READ if spec.readonly else READ | WRITE,
                            "VALUE": [wire_value(spec, store.base(spec.name))], "DESCRIPTION": route.doc}
    if spec.numeric:
        node["RANGE"] = [{"MIN": spec.lo, "MAX": spec.hi}]
    elif spec.kind == "enum":
        node["RANGE"] = [{"VALS": list(spec.choices)}]
    elif spec.kind == "str":
        node["MAX_LENGTH"] = spec.max_len           # not in the proposal; clients ignore unknown keys
    return node


def build_namespace(store: ParamStore, routes: dict[str, Route]) -> dict[str, Any]:
    """The whole tree from "/", values as they are now. Rebuilt per request: about 100 nodes."""
    root: dict[str, Any] = {"FULL_PATH": "/", "CONTENTS": {}, "DESCRIPTION": "vj live parameters"}
    for route in routes.values():
        if route.kind == PARAM:
            node = _param_node(route, store.specs[route.name], store)
        elif route.kind == ACTION:
            node = {"FULL_PATH": route.address, "TYPE": "T", "ACCESS": WRITE, "DESCRIPTION": route.doc}
        else:
            continue                                # /unit twins, /vj/sync, /vj/prompt/active
        parent = root
        parts = route.address.strip("/").split("/")
        for depth, part in enumerate(parts[:-1], start=1):
            contents = parent.setdefault("CONTENTS", {})
            parent = contents.setdefault(part, {"FULL_PATH": "/" + "/".join(parts[:depth])})
        contents = parent.setdefault("CONTENTS", {})
        contents[parts[-1]] = {**node, **contents.get(parts[-1], {})}     # a container made earlier keeps its CONTENTS
    return root


def find(root: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The node at `path` ("/vj/temperature"), or None."""
    node = root
    for part in (p for p in path.split("/") if p):
        node = node.get("CONTENTS", {}).get(part)
        if node is None:
            return None
    return node


def host_info(name: str, osc_ip: str, osc_port: int | None, ws_port: int) -> dict[str, Any]:
    """The HOST_INFO answer: our name, the OSC server's UDP port, what we support."""
    info: dict[str, Any] = {"NAME": name, "EXTENSIONS": EXTENSIONS, "WS_PORT": ws_port}
    if osc_port is not None:
        info.update(OSC_IP=osc_ip, OSC_PORT=osc_port, OSC_TRANSPORT="UDP")
    return info
