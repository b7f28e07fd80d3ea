"""The performer's preview: a second, smaller window with the picture and the HUD, while the show
window (fullscreen on the projector) stays clean.

Its OpenGL context shares the show window's textures (GLFW `share`), so the picture is not copied:
the preview wraps the renderer's picture texture and draws it with the same shader (scale.frag),
then the HUD over it. Vertex arrays are not shared between contexts, so it has its own; the show
window's context is flushed first, so the preview sees this frame's picture. Keys work in both.
"""
from __future__ import annotations

import moderngl

from .glsl import load_program
from .hud import TextLayer
from .renderer import Renderer
from .window import Window


class Preview:
    """A window of `size` (pixels) beside `main`, drawn after it on the main thread."""

    def __init__(self, main: Window, size: tuple[int, int], title: str, on_key, on_close) -> None:
        self.main = main
        self.window = Window(size, title, on_key=on_key, on_close=on_close, share=main, vsync=False)
        self.ctx = self.window.ctx
        self.program = load_program(self.ctx, "quad.vert", "scale.frag")
        self.quad = self.ctx.vertex_array(self.program, [])
        self.text = TextLayer(self.ctx)
        self._texture: tuple[int, moderngl.Texture] | None = None  # (GL name in the main context, wrapper here)
        main.make_current()

    def begin(self, renderer: Renderer, fill: bool) -> None:
        """Make the preview current and draw the picture into it (the HUD goes on top next)."""
        self.main.flush()
        self.window.make_current()
        screen, size = self.ctx.screen, self.window.size
        screen.viewport = (0, 0, *size)
        screen.use()
        self.ctx.clear(0.0, 0.0, 0.0, 1.0)
        uniforms = renderer.scale_uniforms(size, fill)
        if uniforms is None:
            return
        uniforms["picture"] = self._wrap(uniforms["picture"])
        uniforms["picture"].use(0)
        uniforms["picture"] = 0
        for key, value in uniforms.items():
            if key in self.program:
                self.program[key].value = value
        self.quad.render(moderngl.TRIANGLES, vertices=3)

    def end(self) -> None:
        """Show the preview and make the show window current again."""
        self.window.swap()
        self.main.make_current()

    def _wrap(self, texture: moderngl.Texture) -> moderngl.Texture:
        if self._texture is None or self._texture[0] != texture.glo:
            wrapped = self.ctx.external_texture(texture.glo, texture.size, texture.components, 0, "f1")
            wrapped.filter = (moderngl.LINEAR, moderngl.LINEAR)
            self._texture = (texture.glo, wrapped)
        return self._texture[1]

    def close(self) -> None:
        """Close the preview (its own context current: GL names are shared, so releasing its objects
        from the show window's context would delete that one's), then hand the show window back."""
        self.window.make_current()
        self.window.close()
        self.main.make_current()
