#version 330 core
// Edge-preserving smoothing of one generator frame, run once per new frame at the generator's
// resolution (never per display frame). The optimizer's pixels are noisy: each pixel is averaged
// with its four neighbours one optimization cell away, each weighted down the more its colour
// differs (a cheap bilateral filter with rational weights: no exp, five fetches; cheap even on a
// CPU renderer).
uniform sampler2D picture;
uniform float strength;   // 0: raw pixels, 1: strongest smoothing
uniform int grain;        // the generator's optimization grid in pixels (its `scale`): the noise's size
in vec2 uv;
out vec4 color;

vec3 at(ivec2 p) {
    return texelFetch(picture, clamp(p, ivec2(0), textureSize(picture, 0) - 1), 0).rgb;
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 c = at(p);
    // How fast a colour difference stops counting as noise: small differences only at low strength,
    // nearly any at full strength (the optimizer's noise is saturated colour, not film grain).
    float sharpness = 1.0 / mix(0.005, 1.0, strength * strength);
    vec3 n[4] = vec3[4](at(p + ivec2(grain, 0)), at(p - ivec2(grain, 0)), at(p + ivec2(0, grain)), at(p - ivec2(0, grain)));
    vec3 sum = c;
    float total = 1.0;
    for (int i = 0; i < 4; i++) {
        vec3 d = n[i] - c;
        float w = 1.0 / (1.0 + dot(d, d) * sharpness);
        sum += n[i] * w;
        total += w;
    }
    color = vec4(mix(c, sum / total, strength), 1.0);
}
