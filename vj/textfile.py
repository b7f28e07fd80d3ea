"""Text files as any OS or editor saves them: UTF-8 with or without a BOM (Windows Notepad writes
one), UTF-16 with a BOM (Notepad's "Unicode"), and CRLF or old-Mac CR line ends.

Every text file a performer edits (setups) is read through `read_text`, so tomllib and tomlkit
only ever see UTF-8 text with "\\n" line ends. A file in a legacy encoding (cp1252, Latin-1) is
refused with a sentence naming the real cause and the byte, not a parser's "invalid statement".
"""
from __future__ import annotations

import codecs
from pathlib import Path

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class TextFileError(ValueError):
    """A text file cannot be decoded; the message says where and how to save it instead."""


def read_text(path: str | Path) -> str:
    """The file's text, BOM removed and line ends made "\\n". Raises OSError when it cannot be read,
    TextFileError (one sentence: line, column, byte, what to do) when it is not UTF-8/UTF-16."""
    data = Path(path).read_bytes()
    encoding = next((name for bom, name in BOMS if data.startswith(bom)), "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise TextFileError(f"is not {encoding.upper().replace('-SIG', '')} text (byte 0x{data[e.start]:02x} at line "
                            f"{line}, column {column}, probably saved as Latin-1/Windows-1252); "
                            "save it as UTF-8 in the editor") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def write_like(path: str | Path, text: str, original: str | Path | None = None) -> bytes:
    """`text` as bytes in the encoding and line ends of `original` (default: `path` itself), so a
    file written back by vj (MIDI learn) opens the same way in the editor that made it."""
    src = Path(original or path)
    raw = src.read_bytes() if src.is_file() else b""
    bom = next((b for b, _ in BOMS if raw.startswith(b)), b"")
    newline = "\r\n" if b"\r\n" in raw else "\n"
    body = text.replace("\n", newline)
    if bom == codecs.BOM_UTF8 or not bom:
        return bom + body.encode("utf-8")
    return bom + body.encode("utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be")
