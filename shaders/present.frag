#version 330 core
// The output picture drawn into the window: letterboxed/pillarboxed (black bars) or filled (cropped).
uniform sampler2D picture;
uniform vec2 fit;   // output size / window size after aspect fitting
in vec2 uv;
out vec4 color;

void main() {
    vec2 p = (uv - 0.5) / fit + 0.5;
    bool inside = all(greaterThanEqual(p, vec2(0.0))) && all(lessThanEqual(p, vec2(1.0)));
    color = inside ? vec4(texture(picture, p).rgb, 1.0) : vec4(0.0, 0.0, 0.0, 1.0);
}
