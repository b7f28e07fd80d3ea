#version 330 core
// The output picture (what the audience sees and the recorder records): the cross-faded frame
// fitted into the output size, with the display-clock effects and the master level.
// The picture texture has its top row first; the output is in OpenGL orientation (bottom row first).
uniform sampler2D picture;
uniform vec2 fit;          // picture size / output size after aspect fitting (1 on the fitted axis)
uniform float zoom;        // 1: none, 2: twice as close
uniform float hue;         // rotation in turns
uniform float brightness;  // gain
uniform float flash;       // 0..1 white mixed over
uniform float level;       // master fade: 1 normal, 0 black (blackout)
in vec2 uv;
out vec4 color;

vec3 rotate_hue(vec3 c, float turns) {
    // Rotation about the grey axis: greys stay grey, hues turn around the colour wheel.
    const vec3 k = vec3(0.57735026);
    float a = turns * 6.2831853;
    return c * cos(a) + cross(k, c) * sin(a) + k * dot(k, c) * (1.0 - cos(a));
}

void main() {
    vec2 p = (uv - 0.5) / (fit * zoom) + 0.5;
    vec3 c = vec3(0.0);
    if (all(greaterThanEqual(p, vec2(0.0))) && all(lessThanEqual(p, vec2(1.0)))) {
        c = texture(picture, vec2(p.x, 1.0 - p.y)).rgb;
    }
    c = clamp(rotate_hue(c, hue), 0.0, 1.0) * brightness;
    c = mix(c, vec3(1.0), flash);
    color = vec4(clamp(c * level, 0.0, 1.0), 1.0);
}
