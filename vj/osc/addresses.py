"""The OSC address table, derived from the parameter table: one row in, its addresses out.

`temperature` is `/vj/temperature` (a value in the parameter's own range) and
`/vj/temperature/unit` (a fader's 0..1, mapped onto the range); `prompt.3` is `/vj/prompt/3`;
the action `next` is `/vj/next`. Two addresses are not parameters: `/vj/sync` asks for every
value, and `/vj/prompt/active` carries the active prompt's text (feedback only, for labels).
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.params import ParamSpec, ParamStore

PREFIX = "/vj"
UNIT = "/unit"
SYNC = f"{PREFIX}/sync"
ACTIVE = f"{PREFIX}/prompt/active"

# What each route kind does with a message (also the `kind` column of the spec page).
PARAM, UNIT_PARAM, ACTION, SYNC_KIND, ACTIVE_KIND = "param", "unit", "action", "sync", "active"


@dataclass(frozen=True)
class Route:
    address: str
    kind: str          # PARAM, UNIT_PARAM, ACTION, SYNC_KIND or ACTIVE_KIND
    name: str          # the parameter or action it reaches ("" for the two special addresses)
    args: str          # what to send, for the spec page
    doc: str


def address_of(name: str) -> str:
    """`prompt.3.frames` -> `/vj/prompt/3/frames`."""
    return f"{PREFIX}/{name.replace('.', '/')}"


def has_unit(spec: ParamSpec) -> bool:
    """Parameters with a range a 0..1 fader can sweep (on/off takes 1/0 on its own address)."""
    return spec.kind in ("float", "int", "enum")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def arg_text(spec: ParamSpec) -> str:
    if spec.kind == "float":
        return f"float {_num(spec.lo)}..{_num(spec.hi)}"
    if spec.kind == "int":
        return f"int {_num(spec.lo)}..{_num(spec.hi)} (floats are rounded)"
    if spec.kind == "bool":
        return "1/0 or T/F (a number >= 0.5 is on)"
    if spec.kind == "enum":
        return "string: " + " | ".join(spec.choices)
    return f"string, at most {spec.max_len} characters"


def build_routes(store: ParamStore) -> dict[str, Route]:
    """Every address the server answers, in table order. Two rows on one address is a bug: raises."""
    routes: list[Route] = []
    for spec in store.specs.values():
        ro = " (read-only: query and feedback)" if spec.readonly else ""
        routes.append(Route(address_of(spec.name), PARAM, spec.name, arg_text(spec), spec.doc + ro))
        if has_unit(spec) and not spec.readonly:
            routes.append(Route(address_of(spec.name) + UNIT, UNIT_PARAM, spec.name, "float 0..1",
                                f"{spec.name} from a 0..1 fader, mapped onto {arg_text(spec).split(' (')[0]}"))
    for action in store.actions.values():
        routes.append(Route(address_of(action.name), ACTION, action.name,
                            "none, or a number (0 is ignored: a button's release)", action.doc))
    routes.append(Route(SYNC, SYNC_KIND, "", "none", "send every value back to the asking client now"))
    if "prompt.select" in store.specs:
        routes.append(Route(ACTIVE, ACTIVE_KIND, "", "string (sent by us)",
                            "text of the active prompt slot, for labels (read-only: query and feedback)"))
    table: dict[str, Route] = {}
    for r in routes:
        if r.address in table:
            raise ValueError(f"OSC address {r.address} is claimed by both {table[r.address].name or r.kind!r} "
                             f"and {r.name or r.kind!r}; rename one of the parameter rows")
        table[r.address] = r
    return table
