"""MIDI learn: the control a performer moves becomes a [[midi.map]] row, saved to the setup file.

The row is what a performer would have written: `cc`/`note`, `channel`, and `param` or `action`
(a note on a number parameter sets the value it has now: "this pad brings back this slot").
The file is edited with tomlkit, so its comments and layout stay; rows on the same control are
replaced (one control, one job). It is written to a temporary file and renamed over the
original, so a full disk or a crash never leaves half a show file.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import mido
import tomlkit

from engine.params import ParamStore

from ..textfile import read_text, write_like


class CannotLearn(ValueError):
    """The armed name cannot be learned; the message is one sentence for the performer."""


def learnable(name: str, store: ParamStore) -> None:
    """Raise CannotLearn when `name` is no action or MIDI-drivable parameter."""
    if name in store.actions:
        return
    spec = store.specs.get(name)
    if spec is None:
        raise CannotLearn(f"MIDI learn: there is no parameter or action named {name!r}; "
                          "`vj osc-spec` lists them")
    if spec.readonly or spec.kind == "str":
        raise CannotLearn(f"MIDI learn: {name} cannot be driven by MIDI "
                          f"({'it is read-only' if spec.readonly else 'it is text'})")


def learned_row(msg: mido.Message, name: str, store: ParamStore) -> dict[str, Any] | None:
    """The mapping row for `name` from the first message of a moved control, or None when the
    message is no control move (a note release, clock, ...)."""
    if msg.type == "control_change":
        row: dict[str, Any] = {"cc": msg.control}
    elif msg.type == "note_on" and msg.velocity > 0:
        row = {"note": msg.note}
    else:
        return None
    row["channel"] = msg.channel + 1
    if name in store.actions:
        row["action"] = name
        return row
    row["param"] = name
    spec = store.specs[name]
    if "note" in row and spec.kind != "bool":
        value = store.base(name)
        if spec.kind == "enum":
            raise CannotLearn(f"MIDI learn: a pad cannot choose {name} (a choice); use a knob or fader")
        row["value"] = value
    return row


def save_row(path: Path, row: dict[str, Any]) -> None:
    """Add `row` to the file's [[midi.map]], dropping rows on the same control; keeps comments."""
    doc = tomlkit.parse(read_text(path))  # a BOM or CRLF from a Windows editor stays readable
    midi = doc.get("midi")
    if midi is None:
        midi = tomlkit.table()
        doc["midi"] = midi
    rows = midi.get("map")
    if rows is None:
        rows = tomlkit.aot()
        midi["map"] = rows
    control = "cc" if "cc" in row else "note"
    for i in reversed(range(len(rows))):
        old = rows[i]
        if old.get(control) == row[control] and old.get("channel", 0) in (0, row["channel"]):
            del rows[i]
    # `[[midi.map]]` tables, or `map = [{...}, ...]` one line per control: add in the file's style
    table = tomlkit.table() if isinstance(rows, tomlkit.items.AoT) else tomlkit.inline_table()
    table.update(row)
    rows.append(table)
    _write_atomically(path, tomlkit.dumps(doc))


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(write_like(path, text))  # the editor that made the file finds its BOM and line ends
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
