#version 330 core
// The picture of one display frame, at the generator's resolution: the cross-fade from the picture
// on screen when the newest generator frame arrived to that frame, then the display-clock colour
// effects (hue, brightness, flash) and the master level (blackout). A quarter of the pixels of a
// 720p output and no filtering: cheap even on a CPU renderer. scale.frag then resamples it (and
// zooms) into the output and the window.
// Both pictures are read through the camera flow (engine/motion.py) from the time their content
// stood to now, so camera motion runs at display rate between generator frames.
// Also run with neutral effects to snapshot the mix when a new generator frame arrives.
uniform sampler2D from_picture;
uniform sampler2D to_picture;
uniform float progress;    // 0..1 through the cross-fade
uniform mat3 hue;          // colour rotation about the grey axis (identity: none), built on the CPU
uniform float brightness;  // gain
uniform float flash;       // 0..1 white mixed over
uniform float level;       // master fade: 1 normal, 0 black
uniform mat3 from_map;     // pixel -> where to read from_picture, in [-1, 1] coordinates, y down (identity: still)
uniform mat3 to_map;       // the same for to_picture
uniform int edge;          // what lies beyond the picture: 0 mirror, 1 wrap, 2 the edge's colour
uniform bool moving;       // false: the camera is still, read texels directly (a third cheaper on llvmpipe)
out vec4 color;

vec3 read(sampler2D picture, mat3 map, vec2 p) {
    if (!moving) return texelFetch(picture, ivec2(gl_FragCoord.xy), 0).rgb;
    vec3 q = map * vec3(p, 1.0);
    vec2 uv = (q.xy / max(q.z, 1e-6) + 1.0) * 0.5;   // texture coordinates: row 0 (the top) at v = 0
    if (edge == 0) uv = 1.0 - abs(mod(uv, 2.0) - 1.0);
    else if (edge == 1) uv = fract(uv);
    return texture(picture, uv).rgb;                  // edge colour: the sampler clamps to the edge
}

void main() {
    vec2 size = vec2(textureSize(to_picture, 0));
    vec2 p = gl_FragCoord.xy / size * 2.0 - 1.0;      // this texel's centre; texel rows are picture rows
    vec3 c = mix(read(from_picture, from_map, p), read(to_picture, to_map, p), progress);
    c = clamp(hue * c, 0.0, 1.0) * brightness;
    c = mix(c, vec3(1.0), flash);
    color = vec4(clamp(c * level, 0.0, 1.0), 1.0);
}
