"""A procedural world of coloured shapes and true captions, the builtin model's only teacher.

A batch is made in three pure steps, all deterministic from one `numpy.random.Generator`:

    scenes = sample_scenes(rng, n)        what is in each picture (structured, no pixels)
    images = render(scenes, size)         the pictures, vectorised numpy, uint8 (n, size, size, 3)
    caps = describe(scenes, rng)          structured captions that drop attributes at random
    texts = caption_texts(caps)           "a big red circle on the left and blue stripes"

Because captions are structured, `truth(caps, scenes)` says which caption is true of which picture;
the trainer uses it so that two pictures a caption fits equally are not pushed apart, and the probe
builds its candidate captions (one attribute varied) from the same grammar.

Every object sits in one of five regions (left, right, top, bottom, center) and has one of two size
classes, so a caption's words are always literally true. Colours are jittered but always stay
nearest (in RGB) to their named palette entry; `PALETTE` is that palette, for model-free checks.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

COLOURS = ("red", "green", "blue", "yellow", "purple", "orange", "white", "black", "cyan", "pink")
PALETTE = np.array([  # RGB 0..255, one row per COLOURS entry; chosen to be far apart from each other
    (220, 40, 40), (40, 170, 60), (40, 80, 230), (245, 220, 40), (140, 50, 180),
    (245, 140, 30), (240, 240, 240), (20, 20, 20), (40, 220, 230), (245, 140, 200)], dtype=np.float32)
SHAPES = ("circle", "square", "triangle", "ring", "cross", "stripes")
SIZES = ("big", "small")
POSITIONS = ("left", "right", "top", "bottom", "center")
POSITION_WORDS = ("on the left", "on the right", "at the top", "at the bottom", "in the center")
# Colour+shape combinations that never appear in training pictures: the probe asks whether the model
# composes attributes it learned apart. One per shape and per colour, so each word is still common.
HELD_OUT = (("purple", "circle"), ("orange", "square"), ("cyan", "triangle"),
            ("pink", "ring"), ("yellow", "cross"), ("green", "stripes"))

# Region centres (fractions of the picture) and the jitter around them.
_CENTRES = np.array([(0.22, 0.5), (0.78, 0.5), (0.5, 0.22), (0.5, 0.78), (0.5, 0.5)], dtype=np.float32)
_JITTER = 0.04
# Size class -> radius range (fraction of the side). Small stays at least 15 px across at 64 px: the
# image tower's stem halves the picture twice before it sees any shape.
_RADIUS = {0: (0.18, 0.24), 1: (0.12, 0.15)}
_ATTRS = 4  # colour, shape, size, position: columns of Scenes.obj and Captions.obj


def _safe_light(margin: float = 30.0) -> np.ndarray:
    """(10, 2): the range of brightness factors that keeps each palette colour nearest to itself
    with `margin` to spare (dark yellow would read as orange, dark white as pink)."""
    f = np.linspace(0.6, 1.4, 81)
    out = np.ones((len(PALETTE), 2), np.float32)
    for i, c in enumerate(PALETTE):
        d = np.sqrt(((np.clip(c * f[:, None], 0, 255)[:, None, :] - PALETTE) ** 2).sum(-1))  # (81, 10)
        ok = d[:, i] + margin < np.delete(d, i, 1).min(1)
        lo = hi = 40  # f[40] == 1
        while lo > 0 and ok[lo - 1]:
            lo -= 1
        while hi < len(f) - 1 and ok[hi + 1]:
            hi += 1
        out[i] = f[lo], f[hi]
    return out


_LIGHT = _safe_light()


def held_out_mask() -> np.ndarray:
    """(10, 6) bool: True where a colour+shape pair is kept out of training."""
    m = np.zeros((len(COLOURS), len(SHAPES)), bool)
    for c, s in HELD_OUT:
        m[COLOURS.index(c), SHAPES.index(s)] = True
    return m


@dataclass
class Scenes:
    """What is in n pictures. Object slot 1 is unused (-1) where a picture has one object;
    slot 0 is always the larger object and is drawn first."""
    n_obj: np.ndarray   # (n,) 1 or 2
    obj: np.ndarray     # (n, 2, 4) int: colour, shape, size, position indices; -1 where absent
    bg: np.ndarray      # (n,) background colour index
    rgb: np.ndarray     # (n, 2, 3) float jittered object colours
    bg_rgb: np.ndarray  # (n, 3) float jittered background colour
    xy: np.ndarray      # (n, 2, 2) float object centres
    radius: np.ndarray  # (n, 2) float
    angle: np.ndarray   # (n, 2) float rotation
    shade: np.ndarray   # (n, 2, 3) object shading: linear gradient dx, dy and radial amount
    glow: np.ndarray    # (n, 2) halo strength 0..0.6
    bg_style: np.ndarray  # (n, 6) background gradient (gx, gy), ripple (amp, fx, fy, phase)
    outline: np.ndarray | None = None  # (n, 2) outline width in pixels at 64 px; None: no outlines
    texture: np.ndarray | None = None  # (n,) amplitude of a grain texture on the background, 0..255

    def __len__(self) -> int:
        return len(self.n_obj)

    def take(self, idx) -> Scenes:
        """The scenes at `idx` (an index array or list, repeats allowed), in that order."""
        return Scenes(*(None if getattr(self, f.name) is None else getattr(self, f.name)[idx] for f in fields(self)))


@dataclass
class Captions:
    """Structured captions: the same layout as Scenes.obj, -1 where an attribute is not said."""
    n_obj: np.ndarray  # (n,)
    obj: np.ndarray    # (n, 2, 4)
    bg: np.ndarray     # (n,) -1 where the background is not mentioned

    def __len__(self) -> int:
        return len(self.n_obj)

    def take(self, idx) -> Captions:
        """The captions at `idx` (an index array or list, repeats allowed), in that order."""
        return Captions(self.n_obj[idx], self.obj[idx], self.bg[idx])


def _in_cell(rgb: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """True where rgb stays nearest to palette entry idx when lit or shaded anywhere in the
    colour's _LIGHT range (cells are convex: checking the ends suffices)."""
    ok = np.ones(idx.shape, bool)
    for f in (_LIGHT[idx, 0, None], 1.0, _LIGHT[idx, 1, None]):
        lit = np.clip(rgb * f, 0, 255)
        ok &= ((lit[..., None, :] - PALETTE) ** 2).sum(-1).argmin(-1) == idx
    return ok


def _jitter_colours(rng: np.random.Generator, idx: np.ndarray) -> np.ndarray:
    """Colours named by palette entry idx. Half are the entry with a small jitter; half are drawn
    from far across the entry's cell (up to 110 levels a channel, as long as it stays nearest):
    an optimizer pushes pixels to saturated corners like pure (0, 255, 0), and the model must call
    that green, as the nearest-colour rule does, not guess."""
    base = PALETTE[idx]
    near = np.clip(base * rng.uniform(0.9, 1.06, idx.shape + (1,)) + rng.uniform(-14, 14, idx.shape + (3,)), 0, 255)
    far = np.clip(base + rng.uniform(-110, 110, idx.shape + (3,)), 0, 255)
    rgb = np.where((rng.random(idx.shape) < 0.5)[..., None], far, near)
    rgb = np.where(_in_cell(rgb, idx)[..., None], rgb, near)
    return np.where(_in_cell(rgb, idx)[..., None], rgb, base).astype(np.float32)


def sample_scenes(rng: np.random.Generator, n: int, n_objects: int | None = None,
                  pairs: str = "train", easy: float = 0.0) -> Scenes:
    """n random scenes. `n_objects` fixes 1 or 2 objects (else about 40% have two).
    `pairs`: "train" never uses HELD_OUT colour+shape pairs, "held_out" uses only those (one object),
    "any" uses everything. `easy`: the fraction of scenes that are one big object in the center on
    a plain background (a curriculum: shape is learned far sooner from such pictures)."""
    held = held_out_mask()
    two = (rng.random(n) < 0.4) if n_objects is None else np.full(n, n_objects == 2)
    n_obj = 1 + two.astype(int)
    colour = rng.integers(0, len(COLOURS), (n, 2))
    shape = rng.integers(0, len(SHAPES), (n, 2))
    if pairs == "held_out":
        pick = rng.integers(0, len(HELD_OUT), n)
        colour[:, 0] = [COLOURS.index(HELD_OUT[i][0]) for i in pick]
        shape[:, 0] = [SHAPES.index(HELD_OUT[i][1]) for i in pick]
        n_obj[:] = 1
        two[:] = False
    elif pairs == "train":
        for _ in range(8):  # resample held-out pairs; 6 of 60 pairs, so this converges fast
            bad = held[colour, shape]
            if not bad.any():
                break
            shape[bad] = rng.integers(0, len(SHAPES), bad.sum())
        shape[held[colour, shape]] = (shape[held[colour, shape]] + 1) % len(SHAPES)
    # Second object: a different colour and position from the first.
    colour[:, 1] = (colour[:, 0] + rng.integers(1, len(COLOURS), n)) % len(COLOURS)
    if pairs == "train":
        bad = held[colour[:, 1], shape[:, 1]]
        shape[bad, 1] = (shape[bad, 1] + 1) % len(SHAPES)
    size = rng.integers(0, 2, (n, 2))
    pos = np.empty((n, 2), int)
    pos[:, 0] = rng.integers(0, len(POSITIONS), n)
    pos[:, 1] = (pos[:, 0] + rng.integers(1, len(POSITIONS), n)) % len(POSITIONS)
    simple = rng.random(n) < easy if easy > 0 else np.zeros(n, bool)
    two &= ~simple
    n_obj = 1 + two.astype(int)
    size[simple, 0] = 0
    pos[simple, 0] = POSITIONS.index("center")
    # Background: any colour that no object has.
    bg = rng.integers(0, len(COLOURS), n)
    for _ in range(4):
        clash = (bg == colour[:, 0]) | (two & (bg == colour[:, 1]))
        bg[clash] = (bg[clash] + rng.integers(1, len(COLOURS), clash.sum())) % len(COLOURS)
    clash = (bg == colour[:, 0]) | (two & (bg == colour[:, 1]))
    while clash.any():  # deterministic fix-up for the rare leftovers
        bg[clash] = (bg[clash] + 1) % len(COLOURS)
        clash = (bg == colour[:, 0]) | (two & (bg == colour[:, 1]))

    lo = np.where(size == 0, _RADIUS[0][0], _RADIUS[1][0])
    hi = np.where(size == 0, _RADIUS[0][1], _RADIUS[1][1])
    radius = rng.uniform(lo, hi).astype(np.float32)
    xy = _CENTRES[pos] + rng.uniform(-_JITTER, _JITTER, (n, 2, 2)).astype(np.float32)
    obj = np.stack([colour, shape, size, pos], -1)
    # Slot 0 is the larger one so that drawing slot 0 first keeps both visible.
    swap = two & (radius[:, 1] > radius[:, 0])
    rgb = _jitter_colours(rng, colour)
    # Upright shapes, tilted at most 20 degrees: a square turned 45 degrees is a diamond, a turned
    # cross an x. Stripes run any way.
    angle = np.where(shape == SHAPES.index("stripes"), rng.uniform(0, np.pi, (n, 2)),
                     rng.uniform(-0.35, 0.35, (n, 2))).astype(np.float32)
    shade = rng.uniform(-0.12, 0.12, (n, 2, 3)).astype(np.float32)
    glow = np.where(rng.random((n, 2)) < 0.3, rng.uniform(0.2, 0.6, (n, 2)), 0).astype(np.float32)
    for a in (obj, radius, xy, rgb, angle, shade, glow):
        a[swap] = a[swap][:, ::-1]
    obj[~two, 1] = -1
    bg_style = np.concatenate([rng.uniform(-0.15, 0.15, (n, 2)), rng.uniform(0, 0.06, (n, 1)),
                               rng.uniform(-12, 12, (n, 2)), rng.uniform(0, 2 * np.pi, (n, 1))], 1)
    bg_style[rng.random(n) < 0.4] = 0  # plain backgrounds are common
    bg_style[simple] = 0
    glow[simple] = 0
    return Scenes(n_obj, obj, bg, rgb, _jitter_colours(rng, bg), xy, radius, angle, shade, glow,
                  bg_style.astype(np.float32))


def alternatives(scenes: Scenes, caps: Captions, rng: np.random.Generator, k: int) -> Scenes:
    """k clean pictures each caption is true of, drawn flat (no shading, glow or background
    pattern), for one-object scenes: (len(caps) * k) scenes, caption i's at rows i*k .. i*k + k-1.
    What a caption says (colour, shape, size, position, background) is kept from `scenes`; what it
    leaves unsaid is drawn afresh, and every picture gets its own placement jitter, size and angle.
    Used to find, among pictures true of a prompt, the one nearest a painting (train_post.py)."""
    n = len(caps)
    out = sample_scenes(rng, n * k, n_objects=1, pairs="any")
    said = np.repeat(caps.obj[:, 0] >= 0, k, 0)                         # (n*k, 4)
    obj = np.where(said, np.repeat(scenes.obj[:, 0], k, 0), out.obj[:, 0])
    bg = np.where(np.repeat(caps.bg >= 0, k), np.repeat(scenes.bg, k), out.bg)
    bg = np.where(bg == obj[:, 0], (bg + 1 + rng.integers(0, len(COLOURS) - 1, len(bg))) % len(COLOURS), bg)
    lo = np.where(obj[:, 2] == 0, _RADIUS[0][0], _RADIUS[1][0])
    hi = np.where(obj[:, 2] == 0, _RADIUS[0][1], _RADIUS[1][1])
    out.obj[:, 0] = obj
    out.bg = bg
    out.radius[:, 0] = rng.uniform(lo, hi)
    out.xy[:, 0] = _CENTRES[obj[:, 3]] + rng.uniform(-_JITTER, _JITTER, (len(bg), 2))
    out.angle[:, 0] = np.where(obj[:, 1] == SHAPES.index("stripes"), rng.uniform(0, np.pi, len(bg)),
                               rng.uniform(-0.35, 0.35, len(bg)))
    out.rgb[:, 0] = PALETTE[obj[:, 0]]
    out.bg_rgb = PALETTE[bg].astype(np.float32)
    return replace(out, shade=np.zeros_like(out.shade), glow=np.zeros_like(out.glow),
                   bg_style=np.zeros_like(out.bg_style))


def restyle(scenes: Scenes, rng: np.random.Generator) -> Scenes:
    """The same scenes drawn in another style, for the judge (bench/quality.py): flat colours, no
    glow, outlines on 60% of objects (not stripes), grain instead of ripples on 40% of backgrounds, no gradient
    lighting, and object sizes scaled by 0.8..1.15 (small shapes stay at least 12 px across at 64 px).
    Captions stay true: colours, shapes, sizes and positions are unchanged."""
    n = len(scenes)
    outline = np.where(rng.random((n, 2)) < 0.6, rng.uniform(1.5, 3.0, (n, 2)), 0).astype(np.float32)
    outline[scenes.obj[..., 1] == SHAPES.index("stripes")] = 0  # a rim on thin bars hides their colour
    texture = np.where(rng.random(n) < 0.4, rng.uniform(4, 12, n), 0).astype(np.float32)
    radius = (scenes.radius * rng.uniform(0.8, 1.15, (n, 2))).astype(np.float32)
    radius = np.maximum(radius, 0.095)
    bg_style = np.zeros_like(scenes.bg_style)
    return replace(scenes, radius=radius, shade=np.zeros_like(scenes.shade), glow=np.zeros_like(scenes.glow),
                   bg_style=bg_style, outline=outline, texture=texture)


def _sdf(shape: int, u: np.ndarray, v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Signed distance (negative inside) of a shape centred at 0 with rotated coordinates u, v."""
    au, av = np.abs(u), np.abs(v)
    if shape == 0:  # circle
        return np.sqrt(u * u + v * v) - r
    if shape == 1:  # square, about the circle's area
        return np.maximum(au, av) - 0.85 * r
    if shape == 2:  # equilateral triangle, circumradius 1.2 r
        d = v  # edge normals at 90, 210, 330 degrees; distance to each edge is 0.6 r
        d = np.maximum(d, -0.866 * u - 0.5 * v)
        d = np.maximum(d, 0.866 * u - 0.5 * v)
        return d - 0.6 * r
    if shape == 3:  # ring: outer radius r, inner 0.45 r
        return np.abs(np.sqrt(u * u + v * v) - 0.725 * r) - 0.275 * r
    if shape == 4:  # cross: two bars, half length r, half thickness 0.3 r
        return np.minimum(np.maximum(au - r, av - 0.3 * r), np.maximum(au - 0.3 * r, av - r))
    # stripes: a square patch of parallel bars, at least 8 px a period at 64 px. Thinner bars blend
    # with the background in the image tower's first 4x4 cells, so their colour was never seen pure.
    period = np.maximum(0.6 * r, 8 / 64)
    bars = (np.abs((u / period) % 1.0 - 0.5) - 0.25) * period
    return np.maximum(np.maximum(au, av) - 0.9 * r, bars)


def _objects(scenes: Scenes, size: int):
    """Yield (slot, picture indices, coordinates and signed distance in pixels) per slot and shape."""
    t = (np.arange(size, dtype=np.float32) + 0.5) / size
    X, Y = t[None, None, :], t[None, :, None]  # (1, 1, S) and (1, S, 1)
    for k in range(2):
        present = np.flatnonzero(scenes.obj[:, k, 0] >= 0)
        for shape in range(len(SHAPES)):
            idx = present[scenes.obj[present, k, 1] == shape]
            if len(idx) == 0:
                continue
            dx = X - scenes.xy[idx, k, 0, None, None]
            dy = Y - scenes.xy[idx, k, 1, None, None]
            r = scenes.radius[idx, k, None, None]
            ca, sa = np.cos(scenes.angle[idx, k])[:, None, None], np.sin(scenes.angle[idx, k])[:, None, None]
            sd = _sdf(shape, ca * dx + sa * dy, -sa * dx + ca * dy, r) * size
            yield k, idx, dx, dy, r, sd


def render(scenes: Scenes, size: int = 64) -> np.ndarray:
    """Pictures of the scenes: uint8 (n, size, size, 3). Pure: the same scenes give the same bytes."""
    t = (np.arange(size, dtype=np.float32) + 0.5) / size
    X, Y = t[None, None, :], t[None, :, None]
    s = scenes.bg_style
    light = (1 + s[:, 0, None, None] * (X - 0.5) * 2 + s[:, 1, None, None] * (Y - 0.5) * 2
             + s[:, 2, None, None] * np.sin(s[:, 3, None, None] * X + s[:, 4, None, None] * Y
                                            + s[:, 5, None, None]))
    lo, hi = _LIGHT[scenes.bg, 0, None, None], _LIGHT[scenes.bg, 1, None, None]
    img = scenes.bg_rgb[:, None, None, :] * np.clip(light, lo, hi)[..., None]  # (n, S, S, 3)
    if scenes.texture is not None:  # grain fixed by the scene itself, so render stays pure
        grain = np.random.default_rng(int(scenes.bg_rgb.sum() * 1000) % 2**32).standard_normal((len(scenes), size, size, 1))
        img = img + grain.astype(np.float32) * scenes.texture[:, None, None, None]
    for k, idx, dx, dy, r, sd in _objects(scenes, size):
        alpha = np.clip(0.5 - sd, 0, 1)[..., None]  # antialiased edge, one pixel wide
        sh = scenes.shade[idx, k]
        tone = (1 + sh[:, 0, None, None] * dx / r + sh[:, 1, None, None] * dy / r
                - np.abs(sh[:, 2, None, None]) * np.sqrt(dx * dx + dy * dy) / r)
        colour = scenes.obj[idx, k, 0]
        tone = np.clip(tone, _LIGHT[colour, 0, None, None], _LIGHT[colour, 1, None, None])
        col = scenes.rgb[idx, k, None, None, :]
        halo = (scenes.glow[idx, k, None, None] * np.exp(-np.maximum(sd, 0) / (0.05 * size)))[..., None]
        sub = img[idx]
        sub = sub + (col - sub) * halo * (1 - alpha)
        sub = sub + (col * tone[..., None] - sub) * alpha
        if scenes.outline is not None:  # a darker (light colours) or lighter (dark ones) rim inside the edge
            width = scenes.outline[idx, k, None, None] * size / 64
            rim = (np.clip(0.5 - sd, 0, 1) * np.clip(sd + width + 0.5, 0, 1))[..., None]
            ink = np.where(col.mean(-1, keepdims=True) > 110, col * 0.45, col * 0.5 + 120)
            sub = sub + (ink - sub) * rim * (width > 0)[..., None]
        img[idx] = sub
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def masks(scenes: Scenes, size: int = 64) -> np.ndarray:
    """(n, 2, size, size) bool: the pixels each object covers fully and visibly (slot 1 is drawn
    over slot 0; edge pixels, which blend with what is behind, are left out)."""
    out = np.zeros((len(scenes), 2, size, size), bool)
    cover = np.zeros_like(out)
    for k, idx, _, _, _, sd in _objects(scenes, size):
        out[idx, k] = sd <= -0.5
        cover[idx, k] = sd < 0.5
    out[:, 0] &= ~cover[:, 1]
    return out


def describe(scenes: Scenes, rng: np.random.Generator, full: bool = False) -> Captions:
    """Structured captions of the scenes. Each object keeps its colour with p 0.85, shape 0.85 (at
    least one of the two), size 0.5, position 0.6; the background is said with p 0.5.
    `full=True` says everything."""
    n = len(scenes)
    obj = scenes.obj.copy()
    bg = scenes.bg.copy()
    if not full:
        keep = rng.random((n, 2, _ATTRS)) < np.array([0.85, 0.85, 0.5, 0.6])
        neither = ~keep[..., 0] & ~keep[..., 1]
        keep[..., 0] |= neither & (rng.random((n, 2)) < 0.5)
        keep[..., 1] |= ~keep[..., 0]
        obj = np.where(keep, obj, -1)
        obj[scenes.obj[:, :, 0] < 0] = -1
        bg = np.where(rng.random(n) < 0.5, bg, -1)
    return Captions(scenes.n_obj.copy(), obj, bg)


def _phrase(colour: int, shape: int, size: int, pos: int, article: bool = True) -> str:
    words = [SIZES[size]] if size >= 0 else []
    if colour >= 0:
        words.append(COLOURS[colour])
    words.append(SHAPES[shape] if shape >= 0 else "shape")
    if article and shape != SHAPES.index("stripes"):
        words.insert(0, "an" if words[0][0] in "aeiou" else "a")
    if pos >= 0:
        words.append(POSITION_WORDS[pos])
    return " ".join(words)


def caption_texts(caps: Captions, order: np.ndarray | None = None, bare: np.ndarray | None = None) -> list[str]:
    """Words for structured captions. `order[i]` True says a two-object caption's objects in
    reverse (slot 1 first); captions are true either way. `bare[i]` True drops the articles
    ("red circle on the left"), as performers often type; it also puts every colour word first in
    some captions, as "green stripes" does, so a held-out pair's words are not new in that place."""
    out = []
    for i in range(len(caps)):
        slots = [0, 1] if caps.n_obj[i] == 2 else [0]
        if order is not None and order[i]:
            slots.reverse()
        article = bare is None or not bare[i]
        text = " and ".join(_phrase(*caps.obj[i, k], article=article) for k in slots)
        if caps.bg[i] >= 0:
            name = COLOURS[caps.bg[i]]
            text += f" on {'an' if name[0] in 'aeiou' else 'a'} {name} background"
        out.append(text)
    return out


def truth(caps: Captions, scenes: Scenes) -> np.ndarray:
    """(len(caps), len(scenes)) bool: caption i is true of picture j. A caption must name as many
    objects as the picture has; every attribute it says must match (objects in either order)."""
    c = caps.obj[:, None]    # (C, 1, 2, 4)
    s = scenes.obj[None]     # (1, N, 2, 4)
    ok = lambda a, b: ((a < 0) | (a == b)).all(-1)  # noqa: E731  said attributes match
    straight = ok(c[:, :, 0], s[:, :, 0]) & (ok(c[:, :, 1], s[:, :, 1]) | (caps.n_obj[:, None] == 1))
    crossed = ok(c[:, :, 0], s[:, :, 1]) & ok(c[:, :, 1], s[:, :, 0]) & (caps.n_obj[:, None] == 2)
    same_n = caps.n_obj[:, None] == scenes.n_obj[None]
    bg_ok = (caps.bg[:, None] < 0) | (caps.bg[:, None] == scenes.bg[None])
    return same_n & bg_ok & (straight | crossed)


def batch(seed: int | tuple[int, ...], n: int, size: int = 64, **kw) -> tuple[np.ndarray, list[str]]:
    """n (picture, caption) pairs from a seed: the convenience form of the steps above."""
    rng = np.random.default_rng(seed)
    scenes = sample_scenes(rng, n, **kw)
    caps = describe(scenes, rng)
    return render(scenes, size), caption_texts(caps, rng.random(n) < 0.5)
