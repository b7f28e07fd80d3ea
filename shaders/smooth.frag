#version 330 core
// Edge-preserving smoothing of one generator frame, run once per new frame at the generator's
// resolution (never per display frame). The optimizer's pixels are noisy: each pixel is averaged
// with its four neighbours, each weighted down the more its colour differs (a cheap bilateral
// filter with rational weights: no exp, five fetches; cheap even on a CPU renderer).
uniform sampler2D picture;
uniform float strength;   // 0: raw pixels, 1: strongest smoothing
in vec2 uv;
out vec4 color;

vec3 at(ivec2 p) {
    return texelFetch(picture, clamp(p, ivec2(0), textureSize(picture, 0) - 1), 0).rgb;
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 c = at(p);
    float sharpness = 1.0 / mix(0.003, 0.1, strength);   // how fast a colour difference stops counting as noise
    vec3 n[4] = vec3[4](at(p + ivec2(1, 0)), at(p - ivec2(1, 0)), at(p + ivec2(0, 1)), at(p - ivec2(0, 1)));
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
