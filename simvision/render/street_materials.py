"""The street's dressed materials (``scene.assets=infinigen``, :mod:`simvision.scene.street.dressing`) in Blender.

Each slot record's ``kind`` names a node material built here from the recorded values only (no random draws in
the render process): asphalt, concrete slabs, pavers, the open ground (lawn, gravel, soil), worn road paint,
car paint with flakes and clear coat, tinted / window glass, rubber, rims, number plates (the plate string drawn
into an in-memory image with Pillow's bundled font), fabric with stripes or checks, skin, worn traffic-cone PVC
and retroreflective bands, the shop fronts' fascia
signs (the shop's name drawn the same way) and display windows, house windows lit at night; ``infinigen``
appends the cached Infinigen material. Texture coordinates are the object's own coordinates in metres (street
meshes are built in metres).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simvision.render.infinigen_assets import cached_surface, camera_only
from simvision.scene.spec import MaterialSpec
from simvision.scene.street.materials import wet_surface

# the texture nodes a flat material reads in 2D, and the attribute that says so
_FLAT_DIMENSIONS = {"ShaderNodeTexNoise": "noise_dimensions", "ShaderNodeTexVoronoi": "voronoi_dimensions"}


class _Tree:
    """A small helper over a material's node tree. ``flat``: the material dresses level ground (a road, the
    open ground), so its noise and Voronoi textures are read in 2D (x, y): the same kind of pattern on the
    ground, cheaper to evaluate (a 2D Voronoi cell search visits 9 cells where a 3D one visits 27), which the
    camera's many road pixels pay at every sample, three times over under a bump (docs/realism.md, "The dressed
    street's frame cost")."""

    def __init__(self, bpy: Any, name: str, flat: bool = False) -> None:
        self.flat = flat
        self.mat = bpy.data.materials.new(name)
        self.mat.use_nodes = True
        self.nodes, self.links = self.mat.node_tree.nodes, self.mat.node_tree.links
        self.bsdf = self.nodes.get("Principled BSDF")
        self.coords = self.nodes.new("ShaderNodeTexCoord").outputs["Object"]

    def node(self, kind: str, inputs: dict[Any, Any] | None = None, **attrs: Any) -> Any:
        if self.flat and kind in _FLAT_DIMENSIONS:
            attrs.setdefault(_FLAT_DIMENSIONS[kind], "2D")
        n = self.nodes.new(kind)
        for key, value in attrs.items():
            setattr(n, key, value)
        for key, value in (inputs or {}).items():
            if hasattr(value, "is_output"):
                self.links.new(value, n.inputs[key])
            else:
                n.inputs[key].default_value = value
        return n

    def math(self, op: str, a: Any, b: Any = 0.0, clamp: bool = False) -> Any:
        return self.node("ShaderNodeMath", {0: a, 1: b}, operation=op, use_clamp=clamp).outputs[0]

    def vmath(self, op: str, a: Any, b: Any) -> Any:
        return self.node("ShaderNodeVectorMath", {0: a, 1: b}, operation=op).outputs[0]

    def vscale(self, a: Any, scale: Any) -> Any:
        return self.node("ShaderNodeVectorMath", {0: a, "Scale": scale}, operation="SCALE").outputs[0]

    def mix(self, factor: Any, a: Any, b: Any) -> Any:
        """RGBA mix: a where factor = 0, b where factor = 1."""
        return self.node("ShaderNodeMix", {0: factor, 6: a, 7: b}, data_type="RGBA").outputs[2]

    def ramp(self, value: Any, lo: float, hi: float, out_lo: float = 0.0, out_hi: float = 1.0) -> Any:
        inputs = {"Value": value, "From Min": lo, "From Max": hi, "To Min": out_lo, "To Max": out_hi}
        return self.node("ShaderNodeMapRange", inputs, clamp=True).outputs["Result"]

    def noise(self, vector: Any, scale: float, detail: float = 2.0) -> Any:
        return self.node("ShaderNodeTexNoise", {"Vector": vector, "Scale": scale, "Detail": detail})

    def bump(self, height: Any, strength: float, distance: float = 0.01) -> Any:
        n = self.node("ShaderNodeBump", {"Height": height, "Strength": strength, "Distance": distance})
        return n.outputs["Normal"]

    def set(self, **inputs: Any) -> None:
        for key, value in inputs.items():
            key = key.replace("_", " ")
            if hasattr(value, "is_output"):
                self.links.new(value, self.bsdf.inputs[key])
            else:
                self.bsdf.inputs[key].default_value = value


def _rgba(c: Any) -> tuple[float, float, float, float]:
    return (float(c[0]), float(c[1]), float(c[2]), 1.0)


def _asphalt(t: _Tree, r: dict[str, Any], base: MaterialSpec) -> None:
    p = t.vmath("ADD", t.coords, tuple(r["offset"]))
    grey = np.asarray(base.base_color, dtype=np.float64)
    tone = t.ramp(t.noise(p, 0.3, 3.0).outputs["Fac"], 0.3, 0.7, 1 - r["tone_variation"], 1 + r["tone_variation"])
    stones = t.node("ShaderNodeTexVoronoi", {"Vector": p, "Scale": r["aggregate_scale"]})
    grain = t.node("ShaderNodeRGBToBW", {"Color": stones.outputs["Color"]}).outputs["Val"]
    contrast = r["aggregate_contrast"]
    shade = t.math("MULTIPLY", tone, t.ramp(grain, 0.0, 1.0, 1 - contrast, 1 + contrast))
    paint = t.vscale(tuple(grey), shade)
    # patches: cells of patch_size_m along x and y, a share of them re-laid with darker asphalt
    cell = t.vmath("SNAP", p, (r["patch_size_m"][0], r["patch_size_m"][1], 1000.0))
    pick = t.node("ShaderNodeTexWhiteNoise", {"Vector": cell}, noise_dimensions="3D").outputs["Value"]
    patch = t.math("LESS_THAN", pick, r["patch_coverage"])
    paint = t.mix(patch, paint, t.mix(r["patch_darkening"], (0, 0, 0, 1), paint))
    crack = t.math("MULTIPLY", _cracks(t, p, r), t.math("SUBTRACT", 1.0, patch))
    paint = t.mix(crack, paint, (0.01, 0.01, 0.01, 1))
    rough = _puddles(t, base, t.math("ADD", base.roughness, t.math("MULTIPLY", crack, 0.1), clamp=True))
    height = t.math("SUBTRACT", t.math("MULTIPLY", grain, 0.3), crack)
    t.set(Base_Color=paint, Roughness=rough, Normal=t.bump(height, 0.25, 0.004))


def _cracks(t: _Tree, p: Any, r: dict[str, Any]) -> Any:
    """1 on a crack: the edges of noise-warped Voronoi cells (``crack_scale`` cells per metre), only where a
    large-scale noise lets them show (``crack_coverage`` of the surface)."""
    warp = t.vscale(t.vmath("SUBTRACT", t.noise(p, 1.5).outputs["Color"], (0.5, 0.5, 0.5)), 0.6)
    q = t.vmath("ADD", t.vmath("MULTIPLY", p, (r["crack_scale"],) * 3), warp)
    cells = t.node("ShaderNodeTexVoronoi", {"Vector": q, "Scale": 1.0}, feature="DISTANCE_TO_EDGE")
    line = t.ramp(cells.outputs["Distance"], 0.004, 0.02, 1.0, 0.0)
    return t.math("MULTIPLY", line, _share(t, t.noise(p, 0.15, 2.0).outputs["Fac"], r["crack_coverage"]))


def _share(t: _Tree, level: Any, coverage: float) -> Any:
    """About 1 on ``coverage`` of a surface and 0 elsewhere: where a noise ``level`` is above the threshold."""
    at = 1.0 - float(coverage)
    return t.ramp(level, at - 0.05 + 0.2 * (at - 0.5), at + 0.05)


def _weeds(t: _Tree, p: Any, r: dict[str, Any], paint: Any, blades: Any) -> Any:
    """``paint`` with the record's weeds: its green, shaded blade by blade, on ``weed_coverage`` of the ground."""
    weeds = _share(t, t.noise(p, 2.0, 3.0).outputs["Fac"], r["weed_coverage"])
    green = t.vscale(_wet(r, r["weeds"], 0.9)[0][:3], t.ramp(blades, 0.0, 1.0, 0.6, 1.3))
    return t.mix(weeds, paint, green)


def _blades(t: _Tree, p: Any, scale: float) -> Any:
    """0-1 per blade-sized cell (``scale`` cells per metre): each blade of grass a little lighter or darker."""
    cells = t.node("ShaderNodeTexVoronoi", {"Vector": p, "Scale": scale})
    return t.node("ShaderNodeRGBToBW", {"Color": cells.outputs["Color"]}).outputs["Val"]


def _lawn(t: _Tree, r: dict[str, Any]) -> None:
    p = _along_road(t, r)
    (green, rough), (dry, _) = _wet(r, r["colors"][0], 0.9), _wet(r, r["colors"][1], 0.9)
    color = t.mix(_share(t, t.noise(p, 0.5, 4.0).outputs["Fac"], r["dry_coverage"]), green, dry)
    blades = _blades(t, p, r["blade_scale"])
    clumps = t.ramp(t.noise(p, 6.0, 3.0).outputs["Fac"], 0.3, 0.7, 0.8, 1.2)
    # mowing stripes: lanes of stripe_m across the road, alternately lighter and darker
    across = t.node("ShaderNodeSeparateXYZ", {"Vector": p}).outputs["Y"]
    lane = t.math("LESS_THAN", t.math("FRACT", t.math("DIVIDE", across, 2.0 * r["stripe_m"])), 0.5)
    c = r["stripe_contrast"]
    stripes = t.math("ADD", 1.0 - c, t.math("MULTIPLY", lane, 2.0 * c))
    tone = t.math("MULTIPLY", t.math("MULTIPLY", t.ramp(blades, 0.0, 1.0, 0.55, 1.35), clumps), stripes)
    paint = t.vscale(color, tone)
    bare = _share(t, t.noise(p, 1.2, 4.0).outputs["Fac"], r["bare_coverage"])
    paint = t.mix(bare, paint, _wet(r, r["soil"], 0.95)[0])
    height = t.math("MULTIPLY", blades, t.math("SUBTRACT", 1.0, bare))
    t.set(Base_Color=paint, Roughness=rough, Normal=t.bump(height, 0.5, 0.01))


def _gravel(t: _Tree, r: dict[str, Any]) -> None:
    p = _along_road(t, r)
    (c1, rough), (c2, _) = _wet(r, r["colors"][0], 0.75), _wet(r, r["colors"][1], 0.75)
    stones = t.node("ShaderNodeTexVoronoi", {"Vector": p, "Scale": r["stone_scale"]})
    pick = t.node("ShaderNodeRGBToBW", {"Color": stones.outputs["Color"]}).outputs["Val"]
    paint = t.mix(pick, c1, c2)
    edges = t.node("ShaderNodeTexVoronoi", {"Vector": p, "Scale": r["stone_scale"]}, feature="DISTANCE_TO_EDGE")
    gap = t.ramp(edges.outputs["Distance"], 0.03, 0.1, 1.0, 0.0)  # earth between the stones
    paint = t.mix(gap, paint, _wet(r, r["soil"], 0.95)[0])
    paint = _weeds(t, p, r, paint, _blades(t, p, 150.0))
    dome = t.ramp(stones.outputs["Distance"], 0.0, 0.6, 1.0, 0.0)
    t.set(Base_Color=paint, Roughness=rough, Normal=t.bump(t.math("SUBTRACT", dome, gap), 0.6, 0.008))


def _soil(t: _Tree, r: dict[str, Any]) -> None:
    p = _along_road(t, r)
    (c1, rough), (c2, _) = _wet(r, r["colors"][0], 0.95), _wet(r, r["colors"][1], 0.95)
    paint = t.mix(t.ramp(t.noise(p, 3.0, 5.0).outputs["Fac"], 0.35, 0.65), c1, c2)
    clods = t.node("ShaderNodeTexVoronoi", {"Vector": p, "Scale": r["clod_scale"]})
    dome = t.ramp(clods.outputs["Distance"], 0.0, 0.7, 1.0, 0.0)
    paint = t.vscale(paint, t.ramp(dome, 0.0, 1.0, 0.75, 1.1))
    paint = _weeds(t, p, r, paint, _blades(t, p, 150.0))
    grain = t.noise(p, 120.0, 2.0).outputs["Fac"]
    height = t.math("ADD", dome, t.math("MULTIPLY", grain, 0.3))
    t.set(Base_Color=paint, Roughness=rough, Normal=t.bump(height, 0.5, 0.008))


def _puddles(t: _Tree, base: MaterialSpec, rough: Any) -> Any:
    """``rough`` with the procedural wet road's puddles: mirror-like where a large noise is low."""
    if base.puddles <= 0:
        return rough
    level = t.noise(t.coords, 0.15, 4.0).outputs["Fac"]
    lo = float(np.clip(0.32 + 0.36 * base.puddles, 0, 1))
    wet = t.ramp(level, lo, lo + 0.02, 1.0, 0.0)
    return t.node("ShaderNodeMix", {0: wet, 2: rough, 3: 0.02}, data_type="FLOAT").outputs[0]


def _along_road(t: _Tree, r: dict[str, Any]) -> Any:
    """Texture coordinates along the road (metres): x the arc length, y the offset left of the centre line, z up,
    plus the record's offset. A straight road's own coordinates already are; a curved one (a circular arc of
    ``curvature``, centre (0, 1/k), heading +x at the origin) is unrolled, so joints and paver rows follow it."""
    k = float(r.get("curvature", 0.0))
    if k == 0.0:
        return t.vmath("ADD", t.coords, tuple(r["offset"]))
    xyz = t.node("ShaderNodeSeparateXYZ", {"Vector": t.coords}).outputs
    sign, radius = math.copysign(1.0, k), 1.0 / k
    dy = t.math("SUBTRACT", radius, xyz["Y"])
    theta = t.math("ARCTAN2", t.math("MULTIPLY", xyz["X"], sign), t.math("MULTIPLY", dy, sign))
    dist = t.math("SQRT", t.math("ADD", t.math("MULTIPLY", xyz["X"], xyz["X"]), t.math("MULTIPLY", dy, dy)))
    along = t.math("DIVIDE", theta, k)
    across = t.math("SUBTRACT", radius, t.math("MULTIPLY", dist, sign))
    unrolled = t.node("ShaderNodeCombineXYZ", {"X": along, "Y": across, "Z": xyz["Z"]}).outputs[0]
    return t.vmath("ADD", unrolled, tuple(r["offset"]))


def _wet(r: dict[str, Any], color: Any, roughness: float) -> tuple[tuple[float, ...], float]:
    """A dry surface's colour and roughness at the record's wetness, by the procedural road's rule."""
    wet_color, wet_roughness = wet_surface(color, roughness, float(r.get("wetness", 0.0)))
    return _rgba(wet_color), wet_roughness


def _joint(t: _Tree, v: Any, pitch: float, width: float) -> Any:
    """1 on the joints of a grid of ``pitch`` metres along the coordinate ``v``, ``width`` metres wide."""
    phase = t.math("FRACT", t.math("ADD", t.math("DIVIDE", v, pitch), 0.5))
    d = t.math("MULTIPLY", t.math("ABSOLUTE", t.math("SUBTRACT", phase, 0.5)), pitch)
    return t.ramp(d, 0.5 * width, width, 1.0, 0.0)


def _concrete(t: _Tree, r: dict[str, Any], base: MaterialSpec) -> None:
    p = _along_road(t, r)
    xyz = t.node("ShaderNodeSeparateXYZ", {"Vector": p}).outputs
    color, rough = _wet(r, r["color"], 0.85)
    v = r["tone_variation"]
    # each slab a little lighter or darker (white noise of its cell), mottled within
    cell = t.vmath("SNAP", p, (r["slab_m"][0], r["slab_m"][1], 1000.0))
    slab = t.node("ShaderNodeTexWhiteNoise", {"Vector": cell}, noise_dimensions="3D").outputs["Value"]
    tone = t.math(
        "MULTIPLY",
        t.ramp(slab, 0.0, 1.0, 1 - v, 1 + v),
        t.ramp(t.noise(p, 2.0, 4.0).outputs["Fac"], 0.3, 0.7, 0.9, 1.1),
    )
    paint = t.vscale(color[:3], tone)
    stain_at = 1.0 - r["stain_coverage"]
    stain = t.ramp(t.noise(p, 0.4, 3.0).outputs["Fac"], stain_at - 0.1, stain_at + 0.1, 0.0, 0.35)
    paint = t.mix(stain, paint, (0.02, 0.02, 0.02, 1))
    joints = t.math(
        "MAXIMUM", _joint(t, xyz["X"], r["slab_m"][0], r["joint_m"]), _joint(t, xyz["Y"], r["slab_m"][1], r["joint_m"])
    )
    groove = t.math("MAXIMUM", joints, _cracks(t, p, r))
    paint = t.mix(groove, paint, (0.015, 0.015, 0.015, 1))
    rough = _puddles(t, base, t.math("SUBTRACT", rough, t.math("MULTIPLY", stain, 0.3)))
    grain = t.noise(p, 60.0, 2.0).outputs["Fac"]
    height = t.math("SUBTRACT", t.math("MULTIPLY", grain, 0.2), groove)
    t.set(Base_Color=paint, Roughness=rough, Normal=t.bump(height, 0.3, 0.004))


def _pavers(t: _Tree, r: dict[str, Any], base: MaterialSpec) -> None:
    p = _along_road(t, r)
    (c1, rough), (c2, _) = _wet(r, r["colors"][0], 0.8), _wet(r, r["colors"][1], 0.8)
    length, width = r["size_m"]
    blocks = t.node(
        "ShaderNodeTexBrick",
        {
            "Vector": p,
            "Color1": c1,
            "Color2": c2,
            "Mortar": _wet(r, r["joint_color"], 0.9)[0],
            "Scale": 1.0,
            "Mortar Size": r["joint_m"],
            "Mortar Smooth": 0.3,
            "Brick Width": length,
            "Row Height": width,
        },
        offset=r["bond"],
        offset_frequency=2,
    )
    v = r["tone_variation"]
    tone = t.ramp(t.noise(p, 1.5, 4.0).outputs["Fac"], 0.3, 0.7, 1 - v, 1 + v)
    paint = t.vscale(blocks.outputs["Color"], tone)
    joint = blocks.outputs["Fac"]  # 1 in the joints
    rough = _puddles(t, base, t.math("ADD", rough, t.math("MULTIPLY", joint, 0.1), clamp=True))
    grain = t.noise(p, 80.0, 2.0).outputs["Fac"]
    height = t.math("SUBTRACT", t.math("MULTIPLY", grain, 0.15), joint)
    t.set(Base_Color=paint, Roughness=rough, Normal=t.bump(height, 0.4, 0.006))


def _road_paint(t: _Tree, r: dict[str, Any], base: MaterialSpec) -> None:
    p = t.vmath("ADD", t.coords, tuple(r["offset"]))
    level = t.noise(p, r["wear_scale"], 6.0).outputs["Fac"]
    at = 0.35 + 0.3 * r["wear"]
    kept = t.ramp(level, at - 0.03, at + 0.03)
    t.set(Base_Color=t.mix(kept, (0.06, 0.06, 0.06, 1), _rgba(base.base_color)), Roughness=base.roughness)


def _car_paint(t: _Tree, r: dict[str, Any]) -> None:
    t.set(
        Base_Color=_rgba(r["color"]),
        Metallic=r["metallic"],
        Roughness=r["base_roughness"],
        Coat_Weight=r["coat"],
        Coat_Roughness=r["coat_roughness"],
        Coat_IOR=1.5,
    )
    if r["metallic"] > 0:  # metallic flakes: a cell-wise random tilt of the base layer under the clear coat
        flakes = t.node("ShaderNodeTexVoronoi", {"Vector": t.coords, "Scale": r["flake_scale"]})
        tilt = t.node("ShaderNodeRGBToBW", {"Color": flakes.outputs["Color"]}).outputs["Val"]
        t.set(Normal=t.bump(tilt, 0.15, 0.001))


def _packed_image(bpy: Any, name: str, img: Any) -> Any:
    """A Pillow RGB image as a packed Blender image (sRGB)."""
    w, h = img.size
    pixels = np.asarray(img, dtype=np.float32)[::-1] / 255.0
    rgba = np.concatenate([pixels, np.ones((h, w, 1), np.float32)], axis=2)
    image = bpy.data.images.new(name, w, h, alpha=False)
    image.pixels.foreach_set(rgba.ravel())
    image.pack()
    return image


def _plate_image(bpy: Any, name: str, text: str) -> Any:
    """The plate drawn in an in-memory image (1 px per mm): white, black rim, blue band, black characters."""
    from PIL import Image, ImageDraw, ImageFont  # noqa: PLC0415

    w, h = 520, 110
    img = Image.new("RGB", (w, h), (235, 235, 230))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, w - 1, h - 1], outline=(10, 10, 10), width=5)
    draw.rectangle([5, 5, 45, h - 6], fill=(20, 50, 160))
    font = ImageFont.load_default(size=78)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = 45 + (w - 45 - (right - left)) / 2 - left
    y = (h - (bottom - top)) / 2 - top
    draw.text((x, y), text, fill=(15, 15, 15), font=font)
    return _packed_image(bpy, name, img)


def sign_image(r: dict[str, Any], px_per_m: float = 160.0) -> Any:
    """A shop's fascia sign as a Pillow image: its name, as large as the sign allows, on the sign's colour."""
    from PIL import Image, ImageDraw, ImageFont  # noqa: PLC0415

    width_m, height_m = r["size"]
    w = int(np.clip(width_m * px_per_m, 64, 2048))
    h = int(np.clip(height_m * w / width_m, 16, 512))
    ink = tuple(int(round(255 * c)) for c in r["lettering"])
    img = Image.new("RGB", (w, h), tuple(int(round(255 * c)) for c in r["background"]))
    draw = ImageDraw.Draw(img)
    size = max(8, int(h * r["text_height"]))
    while True:  # shrink the lettering until the name fits in 90 % of the sign's width
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = draw.textbbox((0, 0), r["text"], font=font)
        if right - left <= 0.9 * w or size <= 8:
            break
        size = int(size * 0.9)
    draw.text(((w - (right - left)) / 2 - left, (h - (bottom - top)) / 2 - top), r["text"], fill=ink, font=font)
    draw.rectangle([0, 0, w - 1, h - 1], outline=ink, width=max(1, h // 40))
    return img


def _face_uv(t: _Tree, r: dict[str, Any]) -> Any:
    """UV over a facing quad (``center``, ``size`` [along y, along z], ``facing`` +-1 along x) in object space."""
    xyz = t.node("ShaderNodeSeparateXYZ", {"Vector": t.coords}).outputs
    width, height = r["size"]
    u = t.math("ADD", t.math("MULTIPLY", t.math("SUBTRACT", xyz["Y"], r["center"][1]), r["facing"] / width), 0.5)
    v = t.math("ADD", t.math("MULTIPLY", t.math("SUBTRACT", xyz["Z"], r["center"][2]), 1.0 / height), 0.5)
    return t.node("ShaderNodeCombineXYZ", {"X": u, "Y": v}).outputs[0]


def _plate(t: _Tree, bpy: Any, name: str, r: dict[str, Any]) -> None:
    tex = t.node("ShaderNodeTexImage", {"Vector": _face_uv(t, r)}, extension="EXTEND", interpolation="Closest")
    tex.image = _plate_image(bpy, f"{name}_image", str(r["text"]))
    t.set(Base_Color=tex.outputs["Color"], Roughness=0.35)


def _shop_sign(t: _Tree, bpy: Any, name: str, r: dict[str, Any]) -> None:
    tex = t.node("ShaderNodeTexImage", {"Vector": _face_uv(t, r)}, extension="EXTEND")
    tex.image = _packed_image(bpy, f"{name}_image", sign_image(r))
    t.set(Base_Color=tex.outputs["Color"], Roughness=0.45)


def _shop_window(t: _Tree, r: dict[str, Any]) -> None:
    """Dark, glossy display glass over a dim interior of goods (Voronoi cells of random colour); lit at night."""
    p = t.vmath("ADD", t.coords, tuple(r["offset"]))
    cells = t.node("ShaderNodeTexVoronoi", {"Vector": p, "Scale": r["goods_scale"]}).outputs["Color"]
    goods = t.mix(r["goods_mix"], _rgba(r["interior"]), cells)
    b = r["brightness"]
    dim = t.node("ShaderNodeMix", {0: 1.0, 6: goods, 7: (b, b, b, 1.0)}, data_type="RGBA", blend_type="MULTIPLY")
    t.set(Base_Color=dim.outputs[2], Roughness=r["roughness"])
    if r["lit"] > 0:
        t.set(Emission_Color=goods, Emission_Strength=r["lit"])


def _fabric(t: _Tree, r: dict[str, Any]) -> None:
    color: Any = _rgba(r["color"])
    if r["pattern"] == "stripes":
        z = t.node("ShaderNodeSeparateXYZ", {"Vector": t.coords}).outputs[r.get("stripe_axis", "Z")]
        band = t.math("GREATER_THAN", t.math("FLOORED_MODULO", t.math("DIVIDE", z, r["period_m"]), 2.0), 1.0)
        color = t.mix(band, color, _rgba(r["second_color"]))
    elif r["pattern"] == "checks":
        checker = t.node("ShaderNodeTexChecker", {"Vector": t.coords, "Scale": 1.0 / r["period_m"]})
        checker.inputs["Color1"].default_value = color
        checker.inputs["Color2"].default_value = _rgba(r["second_color"])
        color = checker.outputs["Color"]
    weave = t.noise(t.coords, 400.0, 2.0).outputs["Fac"]
    t.set(Base_Color=color, Roughness=r["roughness"], Normal=t.bump(weave, 0.2, 0.002))


def _cone_grime(t: _Tree, r: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(grime, scuffs, coordinates) of a worn cone, each 0-1: road dirt climbing from the base up to
    ``grime_height_m`` and blotches over the whole cone, both scaled by ``wear``; thin horizontal scuffs."""
    p = t.vmath("ADD", t.coords, tuple(r["offset"]))
    z = t.node("ShaderNodeSeparateXYZ", {"Vector": t.coords}).outputs["Z"]
    rising = t.ramp(z, 0.0, max(float(r["grime_height_m"]), 1e-3), 1.0, 0.0)
    # the edge of the dirt is ragged, not a straight line around the cone
    rising = t.math("MULTIPLY", rising, t.ramp(t.noise(p, 25.0, 4.0).outputs["Fac"], 0.3, 0.6, 0.5, 1.3), clamp=True)
    blotches = t.ramp(t.noise(p, r["blotch_scale"], 5.0).outputs["Fac"], 0.45, 0.62)
    wear = float(r["wear"])
    dirt = t.math("MULTIPLY", t.math("MAXIMUM", rising, t.math("MULTIPLY", blotches, 0.8)), 1.1 * wear, clamp=True)
    # scuffs: streaks stretched around the cone (noise squashed along z), on a share that grows with wear
    streaks = t.noise(
        t.vmath("MULTIPLY", p, (r["scuff_scale"] / 6.0, r["scuff_scale"] / 6.0, r["scuff_scale"])), 1.0, 6.0
    )
    scuffs = t.ramp(streaks.outputs["Fac"], 0.72 - 0.12 * wear, 0.76 - 0.12 * wear, 0.0, min(1.0, 1.5 * wear))
    return dirt, scuffs, p


def _worn_plastic(t: _Tree, r: dict[str, Any]) -> None:
    """A traffic cone's PVC (``cone_wear``): a thin film of the grime over the whole cone, heavier dirt from
    the base, lighter rough scuffs; the dirt is matte and a little raised."""
    dirt, scuffs, _ = _cone_grime(t, r)
    color: Any = _rgba(r["color"])
    grime = _rgba(r["grime_color"])
    color = t.mix(0.3 * float(r["wear"]), color, grime)  # the film of dust a used cone never loses
    scuffed = _rgba([0.55 * c + 0.25 for c in r["color"]])  # abraded PVC: paler, duller
    color = t.mix(scuffs, color, scuffed)
    color = t.mix(dirt, color, grime)
    rough = t.math("ADD", r["roughness"], t.math("MULTIPLY", t.math("MAXIMUM", dirt, scuffs), 0.5), clamp=True)
    t.set(Base_Color=color, Roughness=rough, Normal=t.bump(t.math("ADD", dirt, scuffs), 0.2, 0.001))


def _reflective_sheeting(t: _Tree, r: dict[str, Any]) -> None:
    """A cone's band: prismatic retroreflective sheeting (silver-white, fairly glossy, with a faint cell
    pattern), worn through to the PVC on ``worn_through`` of it and soiled like the PVC around it."""
    dirt, scuffs, p = _cone_grime(t, r)
    cells = t.node("ShaderNodeTexVoronoi", {"Vector": p, "Scale": 400.0})
    prism = t.node("ShaderNodeRGBToBW", {"Color": cells.outputs["Color"]}).outputs["Val"]
    color = t.vscale(tuple(r["color"]), t.ramp(prism, 0.0, 1.0, 0.9, 1.05))
    through = _share(t, t.noise(p, 30.0, 4.0).outputs["Fac"], r["worn_through"])
    color = t.mix(t.math("MAXIMUM", through, t.math("MULTIPLY", scuffs, 0.5)), color, _rgba(r["body_color"]))
    color = t.mix(dirt, color, _rgba(r["grime_color"]))
    rough = t.math("ADD", r["roughness"], t.math("MULTIPLY", dirt, 0.5), clamp=True)
    t.set(Base_Color=color, Roughness=rough, Normal=t.bump(prism, 0.05, 0.0005))


def _plain(t: _Tree, color: Any, roughness: float, metallic: float = 0.0) -> None:
    t.set(Base_Color=_rgba(color), Roughness=roughness, Metallic=metallic)


GROUNDS = {"lawn": _lawn, "gravel": _gravel, "soil": _soil}
# the kinds that dress level ground: their textures are read in 2D (_Tree's flat)
FLAT_KINDS = frozenset({"asphalt", "concrete", "pavers", "road_paint", *GROUNDS})
RIMS = {"chrome": ([0.9, 0.9, 0.9], 0.05, 1.0), "alloy": ([0.6, 0.6, 0.62], 0.3, 1.0), "black": ([0.02] * 3, 0.4, 0.2)}


def slot_material(bpy: Any, name: str, record: dict[str, Any], base: MaterialSpec) -> Any:
    """The Blender material of one dressed slot (``record``: the slot's entry in ``asset["materials"]``)."""
    kind = record["kind"]
    if kind == "infinigen":  # full node tree for camera rays only, with scene.infinigen.indirect_shading=mean
        return cached_surface(bpy, record)
    t = _Tree(bpy, name, flat=kind in FLAT_KINDS)
    if kind == "asphalt":
        _asphalt(t, record, base)
    elif kind == "concrete":
        _concrete(t, record, base)
    elif kind == "pavers":
        _pavers(t, record, base)
    elif kind in GROUNDS:
        GROUNDS[kind](t, record)
    elif kind == "road_paint":
        _road_paint(t, record, base)
    elif kind == "car_paint":
        _car_paint(t, record)
    elif kind in ("tinted_glass", "window_glass"):
        _plain(t, record["tint"], record["roughness"])
    elif kind == "rubber":
        _plain(t, [record["color"]] * 3, record["roughness"])
        t.set(Normal=t.bump(t.noise(t.coords, 300.0).outputs["Fac"], 0.1, 0.002))
    elif kind == "rim":
        _plain(t, *RIMS[record["finish"]])
    elif kind == "plate":
        _plate(t, bpy, name, record)
    elif kind == "shop_sign":
        _shop_sign(t, bpy, name, record)
    elif kind == "shop_window":
        _shop_window(t, record)
    elif kind == "lit_window":  # a room lit behind the pane: dark glossy glass that glows
        _plain(t, [0.05] * 3, 0.05)
        t.set(Emission_Color=_rgba(record["color"]), Emission_Strength=record["strength"])
    elif kind == "fabric":
        _fabric(t, record)
    elif kind == "worn_plastic":
        _worn_plastic(t, record)
    elif kind == "reflective_sheeting":
        _reflective_sheeting(t, record)
    elif kind == "skin":
        _plain(t, record["color"], 0.5)
    else:
        raise ValueError(f"{name}: unknown dressed material kind {kind!r}")
    if kind in FLAT_KINDS and record.get("indirect") == "mean":  # scene.infinigen.indirect_shading, as for Infinigen's
        colour, roughness = flat_mean(record, base)
        t.mat["sv_mean_color"], t.mat["sv_mean_roughness"] = [float(c) for c in colour], float(roughness)
        camera_only(bpy, t.mat)
    return t.mat


def flat_mean(record: dict[str, Any], base: MaterialSpec) -> tuple[tuple[float, ...], float]:
    """The mean colour (linear RGB) and roughness of a level-ground material: what rays other than camera rays
    see of it with ``indirect`` "mean" (the road and open ground fill much of what bounces light in a street,
    and their textures and bump cost most there: docs/realism.md, "The dressed street's materials: relief and
    textures for the camera rays only")."""
    kind, r = record["kind"], record
    if kind == "asphalt":  # re-laid patches are darker; the grain and tone average out
        grey = np.asarray(base.base_color[:3], dtype=np.float64)
        return tuple(grey * (1.0 - r["patch_coverage"] * r["patch_darkening"])), float(base.roughness)
    if kind == "road_paint":
        return tuple(base.base_color[:3]), float(base.roughness)
    if kind == "concrete":
        colour, roughness = _wet(r, r["color"], 0.85)
        return colour[:3], roughness
    roughness = {"pavers": 0.8, "lawn": 0.9, "gravel": 0.75, "soil": 0.95}[kind]
    (c1, wet_roughness), (c2, _) = _wet(r, r["colors"][0], roughness), _wet(r, r["colors"][1], roughness)
    c1, c2 = np.asarray(c1[:3]), np.asarray(c2[:3])
    if kind == "lawn":  # dry patches over the green, bare soil through both
        grass = c1 + (c2 - c1) * r["dry_coverage"]
        soil = np.asarray(_wet(r, r["soil"], 0.95)[0][:3])
        return tuple(grass + (soil - grass) * r["bare_coverage"]), wet_roughness
    return tuple((c1 + c2) / 2), wet_roughness
