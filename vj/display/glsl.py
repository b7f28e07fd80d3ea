"""Shader programs loaded from the files in shaders/ at start (edit a shader, restart, see it).

A compile error names the file, the line and the driver's message, in one sentence, so a shader
can be fixed without reading Python.
"""
from __future__ import annotations

import re
from pathlib import Path

import moderngl

SHADER_DIR = Path(__file__).resolve().parents[2] / "shaders"

# Mesa "0:12(5): error: ...", NVIDIA "0(12) : error C0000: ...", others "ERROR: 0:12: ...".
_LINE = re.compile(r"(?:\d+:(\d+)\(\d+\)|\d+\((\d+)\)|ERROR: \d+:(\d+))\s*:?\s*(.*)")


class ShaderError(RuntimeError):
    """A shader file is missing or does not compile; the message names the file and line."""


def load_program(ctx: moderngl.Context, vertex: str, fragment: str,
                 folder: Path = SHADER_DIR) -> moderngl.Program:
    """Compile and link `folder/vertex` with `folder/fragment`. Raises ShaderError."""
    paths = {"vertex_shader": folder / vertex, "fragment_shader": folder / fragment}
    sources = {}
    for stage, path in paths.items():
        try:
            sources[stage] = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ShaderError(f"Shader {path} cannot be read ({e.strerror}); restore it from the repository.") from None
    try:
        return ctx.program(**sources)
    except moderngl.Error as e:
        raise ShaderError(explain(str(e), paths)) from None


def explain(message: str, paths: dict[str, Path]) -> str:
    """Turn the driver's compile/link log into 'FILE line N: message'."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip() and not set(ln.strip()) <= {"="}]
    stage = next((ln for ln in lines if ln in paths), None)
    for ln in lines:
        m = _LINE.match(ln)
        if m:
            number = next(g for g in m.groups()[:3] if g)
            where = paths[stage] if stage else " + ".join(map(str, paths.values()))
            return f"Shader {where} line {number}: {m.group(4)}; fix the shader and start again."
    detail = next((ln for ln in reversed(lines) if "error" in ln.lower()), lines[-1] if lines else message)
    files = paths[stage] if stage else " and ".join(map(str, paths.values()))
    return f"Shaders {files} do not link: {detail}; fix the shader and start again."
