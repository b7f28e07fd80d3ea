#version 330 core
// The picture of one display frame, at the generator's resolution: the cross-fade from the picture
// on screen when the newest generator frame arrived to that frame, then the display-clock colour
// effects (hue, brightness, flash) and the master level (blackout). A quarter of the pixels of a
// 720p output and no filtering: cheap even on a CPU renderer. scale.frag then resamples it (and
// zooms) into the output and the window.
// Also run with neutral effects to snapshot the mix when a new generator frame arrives.
uniform sampler2D from_picture;
uniform sampler2D to_picture;
uniform float progress;    // 0..1 through the cross-fade
uniform mat3 hue;          // colour rotation about the grey axis (identity: none), built on the CPU
uniform float brightness;  // gain
uniform float flash;       // 0..1 white mixed over
uniform float level;       // master fade: 1 normal, 0 black
out vec4 color;

void main() {
    ivec2 at = ivec2(gl_FragCoord.xy);
    vec3 c = mix(texelFetch(from_picture, at, 0).rgb, texelFetch(to_picture, at, 0).rgb, progress);
    c = clamp(hue * c, 0.0, 1.0) * brightness;
    c = mix(c, vec3(1.0), flash);
    color = vec4(clamp(c * level, 0.0, 1.0), 1.0);
}
