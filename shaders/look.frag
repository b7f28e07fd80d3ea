#version 330 core
// The picture of one display frame, at the generator's resolution: the cross-fade from the picture
// on screen when the newest generator frame arrived to that frame, then the display-clock effects
// (zoom, hue, brightness, flash) and the master level (blackout). Cheap: a quarter of the pixels
// of a 720p output; scale.frag then resamples it to the output and the window.
// Also used with no effects (neutral uniforms) to snapshot the mix when a new frame arrives.
uniform sampler2D from_picture;
uniform sampler2D to_picture;
uniform float progress;    // 0..1 through the cross-fade
uniform float zoom;        // 1: none, 2: twice as close
uniform mat3 hue;          // colour rotation about the grey axis (identity: none), built on the CPU
uniform float brightness;  // gain
uniform float flash;       // 0..1 white mixed over
uniform float level;       // master fade: 1 normal, 0 black
in vec2 uv;
out vec4 color;

void main() {
    vec2 p = (uv - 0.5) / zoom + 0.5;
    vec3 c = mix(texture(from_picture, p).rgb, texture(to_picture, p).rgb, progress);
    c = clamp(hue * c, 0.0, 1.0) * brightness;
    c = mix(c, vec3(1.0), flash);
    color = vec4(clamp(c * level, 0.0, 1.0), 1.0);
}
