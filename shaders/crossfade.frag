#version 330 core
// The display-rate cross-fade: from the picture shown when the newest generator frame arrived
// to that frame, over the measured interval between generator frames.
uniform sampler2D from_picture;
uniform sampler2D to_picture;
uniform float progress;   // 0..1
in vec2 uv;
out vec4 color;

void main() {
    ivec2 at = ivec2(gl_FragCoord.xy);
    color = vec4(mix(texelFetch(from_picture, at, 0).rgb, texelFetch(to_picture, at, 0).rgb, progress), 1.0);
}
