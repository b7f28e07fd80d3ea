#version 330 core
// HUD text: one instanced quad per glyph (or panel), positioned in window pixels, top-left origin.
in vec4 rect;       // x, y, width, height in pixels
in vec4 glyph;      // u0, v0, u1, v1 in the font atlas
in vec4 tint;       // rgba
uniform vec2 window;  // window size in pixels
out vec2 atlas_uv;
out vec4 text_color;

void main() {
    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1));  // triangle strip 0..3
    vec2 pixel = rect.xy + corner * rect.zw;
    atlas_uv = mix(glyph.xy, glyph.zw, corner);
    text_color = tint;
    gl_Position = vec4(pixel.x / window.x * 2.0 - 1.0, 1.0 - pixel.y / window.y * 2.0, 0.0, 1.0);
}
