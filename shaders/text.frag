#version 330 core
uniform sampler2D atlas;   // one channel: glyph coverage
in vec2 atlas_uv;
in vec4 text_color;
out vec4 color;

void main() {
    color = vec4(text_color.rgb, text_color.a * texture(atlas, atlas_uv).r);
}
