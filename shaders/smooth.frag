#version 330 core
// Edge-preserving smoothing of one generator frame (a 5x5 bilateral filter), run once per new
// frame at the generator's resolution, not per display frame. The optimizer's pixels are noisy;
// neighbours of similar colour are averaged, edges (large colour steps) are kept.
uniform sampler2D picture;
uniform float strength;   // 0: raw pixels, 1: strongest smoothing
in vec2 uv;
out vec4 color;

void main() {
    ivec2 size = textureSize(picture, 0);
    ivec2 at = ivec2(gl_FragCoord.xy);
    vec3 center = texelFetch(picture, at, 0).rgb;
    float range = mix(0.04, 0.3, strength);          // colour distance still treated as noise
    float inv_range = 1.0 / (2.0 * range * range);
    vec3 sum = vec3(0.0);
    float total = 0.0;
    for (int dy = -2; dy <= 2; dy++) {
        for (int dx = -2; dx <= 2; dx++) {
            vec3 c = texelFetch(picture, clamp(at + ivec2(dx, dy), ivec2(0), size - 1), 0).rgb;
            vec3 d = c - center;
            float w = exp(-float(dx * dx + dy * dy) / 4.5 - dot(d, d) * inv_range);
            sum += c * w;
            total += w;
        }
    }
    color = vec4(mix(center, sum / total, strength), 1.0);
}
