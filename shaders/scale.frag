#version 330 core
// The picture resampled (bilinear) into the output framebuffer or the window, keeping its aspect
// ratio: letterboxed/pillarboxed with black bars, or filled (cropped); the zoom effect is part of
// the same resample. Kept as cheap as possible: on a CPU renderer (llvmpipe) the full-size passes
// cost the most. The picture has its top row first; targets are in OpenGL orientation.
uniform sampler2D picture;
uniform vec2 frame;    // the picture's size as a fraction of the target, zoom included
uniform vec2 region;   // the output's place in the target (1, 1 when drawing the output itself)
in vec2 uv;
out vec4 color;

void main() {
    vec2 p = (uv - 0.5) / frame + 0.5;
    bool inside = all(lessThanEqual(abs(p - 0.5), vec2(0.5))) && all(lessThanEqual(abs(uv - 0.5), 0.5 * region));
    color = inside ? vec4(texture(picture, vec2(p.x, 1.0 - p.y)).rgb, 1.0) : vec4(0.0, 0.0, 0.0, 1.0);
}
