"""Street furniture (fronts face +x): traffic cones, barriers, traffic lights and signs, street lamps."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from simvision.scene.shapes import cuboid, lathe
from simvision.scene.street.draws import tagged_rng, weighted_choice
from simvision.scene.street.meshes import (
    PartsBuilder,
    PartsMesh,
    RecordingSampler,
    box,
    cylinder,
    face_normals,
    prism,
    regular_polygon,
    rot_y,
)

# Cone styles seen on real streets and in the cone photos (traffic_cones/valid): orange PVC with white
# reflective bands on a black rubber base (the common 28-36 inch cone), a one-piece cone whose base is the
# same orange PVC, a plain cone without bands, and the black cone with yellow bands. name: (weight, body
# slot, band slot or None, base slot)
CONE_STYLES: dict[str, tuple[float, str, str | None, str]] = {
    "banded_black_base": (0.45, "cone", "stripe", "base"),
    "banded_one_piece": (0.25, "cone", "stripe", "cone"),
    "plain": (0.2, "cone", None, "base"),
    "black_yellow": (0.1, "black_pvc", "yellow_band", "base"),
}


# the PVC of a cone's body (linear RGB), beside the fluorescent red-orange every cone had: red (common in Europe),
# a darker red-orange, and pink and salmon (sun-faded red); the cone photos have each. name -> colour
CONE_COLORS: dict[str, list[float]] = {
    "orange": [0.88, 0.1, 0.01],
    "red_orange": [0.75, 0.045, 0.01],
    "red": [0.55, 0.012, 0.01],
    "salmon": [0.8, 0.2, 0.1],
    "pink": [0.85, 0.12, 0.22],
}
COLOR_TAG = 0x0C01  # mixed into the scene seed: the cones' colours never touch the scene's own generator


def color_cones(objects: list[Any], weights: Mapping[str, float], seed: Any) -> dict[str, int]:
    """Give each traffic cone among ``objects`` whose body is the orange PVC (not the black cone) a body colour
    drawn from ``weights`` (names of :data:`CONE_COLORS`), jittered +-8 % per channel, from a generator of its own
    (:data:`COLOR_TAG`); recorded as ``asset.body_color``. Returns how many cones got each colour."""
    rng = tagged_rng(seed, COLOR_TAG)
    counts: dict[str, int] = {}
    for obj in objects:
        if obj.asset.get("shape") != "traffic_cone" or "cone" not in obj.slot_materials:
            continue
        name = weighted_choice(dict(weights), rng)
        body = obj.slot_materials["cone"]
        body.base_color = np.clip(np.asarray(CONE_COLORS[name]) * rng.uniform(0.92, 1.08, 3), 0, 1).tolist()
        obj.asset["body_color"] = name
        counts[name] = counts.get(name, 0) + 1
    return counts


def make_traffic_cone(*, rng: np.random.Generator) -> PartsMesh:
    """A traffic cone on a square base with a raised collar, in one of :data:`CONE_STYLES`; the bands are
    separate faces (their own material slot)."""
    s = RecordingSampler(rng)
    height = s.u("height", 0.32, 0.95)
    # base width by the standard sizes (12/18/28/36 inch cones on 19/27/37/38 cm bases): the base is a smaller
    # share of a taller cone, so tall cones are slender (the photos' cone boxes are a median 2x as tall as wide)
    base_w = (0.11 + 0.32 * height) * s.u("base_scale", 0.9, 1.1)
    base_t = s.u("base_thickness", 0.02, 0.05)
    r0, r1 = base_w * s.u("cone_radius_ratio", 0.34, 0.4), s.u("top_radius", 0.018, 0.03)
    style = s.choice("style", list(CONE_STYLES), p=[w for w, *_ in CONE_STYLES.values()])
    _, body, band, base = CONE_STYLES[style]
    bands = [] if band is None else [(0.62, 0.8)] if height < 0.55 else [(0.38, 0.5), (0.64, 0.8)]
    bands = [(lo + s.u(f"stripe{i}_shift", -0.03, 0.03), hi) for i, (lo, hi) in enumerate(bands)]
    z_bottom = base_t * 0.5
    levels = sorted({z_bottom, height, *(z_bottom + (height - z_bottom) * t for b in bands for t in b)})
    radius = [r0 + (r1 - r0) * (z - z_bottom) / (height - z_bottom) for z in levels]
    profile = np.array([[0.0, z_bottom]] + [[r, z] for r, z in zip(radius, levels, strict=True)] + [[0.0, height]])
    v, f = lathe(profile, 24)
    parts = PartsBuilder(tuple(dict.fromkeys(x for x in (body, band, base) if x is not None)))
    slot = np.full(len(f), parts.sid(body))
    if band is not None:
        zc = v[f].mean(axis=1)[:, 2]
        vertical = np.abs(face_normals(v, f)[:, 2]) < 0.99
        for lo, hi in bands:
            z_lo, z_hi = z_bottom + (height - z_bottom) * lo, z_bottom + (height - z_bottom) * hi
            slot[vertical & (zc > z_lo) & (zc < z_hi)] = parts.sid(band)
    parts.add((v, f), slot)
    parts.add(cuboid((base_w, base_w, base_t)), base)
    # the collar the cone sits in: a short ring a little wider than the cone's foot, in the base's material
    collar_h = base_t * s.u("collar_ratio", 0.6, 1.2)
    parts.add(cylinder((0, 0, z_bottom), (0, 0, base_t + collar_h), r0 * 1.12, r0 * 1.04, segments=24), base)
    return parts.finish("traffic_cone", {**s.params, "stripes": [list(b) for b in bands]})


def stack_cones(cone: PartsMesh, count: int, gap_m: float) -> PartsMesh:
    """``count`` copies of one traffic cone nested in a stack, as cones are stored and carried: each one's base
    rests ``gap_m`` above the collar of the one below, its body around the lower cones' bodies (the top cone's body
    hides theirs; the bases show as a pile at the foot)."""
    p = cone.params
    step = float(p["base_thickness"]) * (1.0 + float(p["collar_ratio"])) + gap_m
    n = len(cone.vertices)
    vertices = np.vstack([cone.vertices + [0.0, 0.0, k * step] for k in range(count)])
    faces = np.vstack([cone.faces + k * n for k in range(count)])
    params = {**p, "stack": {"count": int(count), "step_m": step}}
    return PartsMesh(cone.kind, params, vertices, faces, np.tile(cone.face_slots, count), cone.slots)


def _clip_polygon(poly: np.ndarray, axis: int, value: float, keep_below: bool) -> np.ndarray:
    out = []
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        ina = a[axis] <= value if keep_below else a[axis] >= value
        inb = b[axis] <= value if keep_below else b[axis] >= value
        if ina:
            out.append(a)
        if ina != inb:
            t = (value - a[axis]) / (b[axis] - a[axis])
            out.append(a + t * (b - a))
    if not out:
        return np.zeros((0, 2))
    pts = np.array(out)
    keep = np.linalg.norm(pts - np.roll(pts, -1, axis=0), axis=1) > 1e-6
    return pts[keep]


def make_barrier(*, rng: np.random.Generator) -> PartsMesh:
    """A construction barrier (striped board(s) on A-frame legs) or a concrete jersey barrier; long axis y."""
    s = RecordingSampler(rng)
    parts = PartsBuilder(("board", "stripe", "leg", "concrete"))
    variant = s.choice("variant", ("construction", "jersey"))
    if variant == "jersey":
        length, h = s.u("length", 2.0, 4.0), s.u("height", 0.8, 1.07)
        wb, wt = s.u("base_width", 0.55, 0.62) / 2, s.u("top_width", 0.15, 0.24) / 2
        toe, brk = 0.075 * h / 0.81, 0.33 * h / 0.81
        w1 = wb - 0.1
        poly = np.array([[-wb, 0], [wb, 0], [wb, toe], [w1, brk], [wt, h], [-wt, h], [-w1, brk], [-wb, toe]])
        v, f, _ = prism(poly, axis=1, lo=-length / 2, hi=length / 2)
        parts.add((v, f), "concrete")
        return parts.finish("barrier", s.params)
    length, top = s.u("length", 1.0, 2.0), s.u("top_height", 0.95, 1.1)
    board_h, board_t = s.u("board_height", 0.2, 0.3), s.u("board_thickness", 0.025, 0.04)
    stripe_w = s.u("stripe_width", 0.1, 0.15)
    boards = 2 if s.flag("two_boards", 0.5) else 1
    direction = 1.0 if s.flag("stripes_right", 0.5) else -1.0
    for k in range(boards):
        z1 = top - k * (board_h + 0.22)
        z0 = z1 - board_h
        parts.add(box((0.0, 0.0, (z0 + z1) / 2), (board_t, length, board_h)), "board")
        period = 2 * stripe_w * math.sqrt(2)
        for y0 in np.arange(-length / 2 - board_h, length / 2 + period, period):
            lo_z, hi_z = z0 - 0.002, z1 + 0.002  # proud of the board's top and bottom faces too
            quad = np.array(
                [
                    [y0, lo_z],
                    [y0 + period / 2, lo_z],
                    [y0 + period / 2 + direction * board_h, hi_z],
                    [y0 + direction * board_h, hi_z],
                ]
            )
            poly = _clip_polygon(_clip_polygon(quad, 0, -length / 2, False), 0, length / 2, True)
            if len(poly) < 3 or abs(np.cross(poly[1] - poly[0], poly[2] - poly[0])) < 1e-5:
                continue
            area = 0.5 * abs(np.sum(poly[:, 0] * np.roll(poly[:, 1], -1) - np.roll(poly[:, 0], -1) * poly[:, 1]))
            if area < 2e-4:
                continue
            v, f, _ = prism(poly, axis=0, lo=-board_t / 2 - 0.003, hi=board_t / 2 + 0.003)
            parts.add((v, f), "stripe")
    foot = s.u("leg_spread", 0.25, 0.35)
    for y in (-length / 2 + 0.12, length / 2 - 0.12):
        for x in (-foot, foot):
            parts.add(cylinder((0.0, y, top + 0.02), (x, y, 0.03), 0.02, segments=8), "leg")
            parts.add(box((x, y, 0.015), (0.12, 0.08, 0.03)), "leg")
    return parts.finish("barrier", s.params)


def make_traffic_light(*, rng: np.random.Generator) -> PartsMesh:
    """A post-mounted signal head facing +x: red on top, amber, green; ``active`` names the lit lamp."""
    s = RecordingSampler(rng)
    pole_h, pole_r = s.u("pole_height", 2.4, 3.6), s.u("pole_radius", 0.05, 0.08)
    lamp_r = s.u("lamp_radius", 0.09, 0.115)
    house_w, house_d = 2 * lamp_r + s.u("housing_margin", 0.07, 0.12), s.u("housing_depth", 0.2, 0.3)
    house_h = 6 * lamp_r + 4 * s.u("lamp_gap", 0.025, 0.045)
    s.choice("active", ("red", "amber", "green"), p=(0.45, 0.1, 0.45))
    parts = PartsBuilder(("metal", "housing", "lamp_red", "lamp_amber", "lamp_green"))
    parts.add(cylinder((0, 0, 0), (0, 0, pole_h), pole_r, pole_r * 0.9, segments=16), "metal")
    parts.add(cylinder((0, 0, 0), (0, 0, 0.3), pole_r * 1.6, pole_r * 1.3, segments=16), "metal")
    x_back = pole_r + 0.02
    z_mid = pole_h - house_h / 2 + s.u("housing_raise", 0.0, 0.3)
    parts.add(box((x_back + 0.04, 0.0, z_mid), (0.08, 0.1, 0.3)), "metal")  # bracket
    x0 = x_back + 0.06
    parts.add(box((x0 + house_d / 2, 0.0, z_mid), (house_d, house_w, house_h)), "housing")
    if s.flag("backplate", 0.5):
        parts.add(box((x0 + 0.01, 0.0, z_mid), (0.02, house_w + 0.2, house_h + 0.2)), "housing")
    x_front = x0 + house_d
    pitch = house_h / 3
    for k, slot in enumerate(("lamp_red", "lamp_amber", "lamp_green")):
        z = z_mid + (1 - k) * pitch
        parts.add(cylinder((x_front - 0.01, 0, z), (x_front + 0.02, 0, z), lamp_r, segments=20), slot)
        parts.add(
            box((x_front + 0.09, 0.0, z + lamp_r + 0.015), (0.18, 2 * lamp_r + 0.04, 0.012), rot_y(math.radians(-8))),
            "housing",
        )  # visor
    return parts.finish("traffic_light", s.params)


def make_traffic_sign(*, rng: np.random.Generator) -> PartsMesh:
    """A pole with a sign plate facing +x: circle, triangle, inverted triangle, octagon, diamond or rectangle."""
    s = RecordingSampler(rng)
    shape = s.choice(
        "shape", ("circle", "triangle", "yield", "octagon", "diamond", "rectangle"), p=(0.3, 0.2, 0.1, 0.1, 0.1, 0.2)
    )
    size = s.u("size", 0.5, 0.9)
    pole_r, thickness = s.u("pole_radius", 0.025, 0.04), s.u("plate_thickness", 0.015, 0.03)
    bottom = s.u("plate_bottom", 2.0, 2.4)
    if shape == "circle":
        poly = regular_polygon(32, size / 2)
    elif shape == "octagon":
        poly = regular_polygon(8, size / 2 / math.cos(math.pi / 8), math.pi / 8)
    elif shape == "diamond":
        poly = regular_polygon(4, size / 2)
    elif shape in ("triangle", "yield"):
        poly = regular_polygon(3, size / math.sqrt(3), math.pi / 2 if shape == "triangle" else -math.pi / 2)
    else:
        aspect = s.u("aspect", 0.6, 1.6)
        w, h = size * math.sqrt(aspect), size / math.sqrt(aspect)
        poly = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    poly = poly - [0.0, poly[:, 1].min()]
    plate_h = float(poly[:, 1].max())
    x0 = pole_r + 0.01
    v, f, band = prism(poly + [0.0, bottom], axis=0, lo=x0, hi=x0 + thickness)
    parts = PartsBuilder(("metal", "sign"))
    parts.add((v, f), np.where(band == 1, parts.sid("sign"), parts.sid("metal")))
    parts.add(cylinder((0, 0, 0), (0, 0, bottom + plate_h + 0.03), pole_r, segments=12), "metal")
    return parts.finish("traffic_sign", s.params)


def make_street_lamp(*, rng: np.random.Generator) -> PartsMesh:
    """A lamp post with one or two arms (along x) ending in lamp heads that light straight down."""
    s = RecordingSampler(rng)
    height, base_r = s.u("height", 6.0, 10.0), s.u("base_radius", 0.09, 0.13)
    arm_len, rise = s.u("arm_length", 0.8, 2.2), s.u("arm_rise", 0.0, 0.35)
    head_l, head_w = s.u("head_length", 0.45, 0.75), s.u("head_width", 0.2, 0.35)
    head_h = s.u("head_height", 0.08, 0.15)
    arms = 2 if s.flag("double_arm", 0.3) else 1
    parts = PartsBuilder(("metal", "lamp"))
    parts.add(cylinder((0, 0, 0), (0, 0, height), base_r, base_r * 0.5, segments=16), "metal")
    parts.add(
        cylinder((0, 0, 0), (0, 0, s.u("plinth_height", 0.3, 0.6)), base_r * 1.5, base_r * 1.4, segments=16), "metal"
    )
    z_arm = height - 0.15
    for sign in (1.0, -1.0)[:arms]:
        end = np.array([sign * arm_len, 0.0, z_arm + rise])
        parts.add(cylinder((0, 0, z_arm - 0.1), end, 0.04, 0.03, segments=8), "metal")
        center = end + np.array([sign * (head_l / 2 - 0.08), 0.0, 0.0])
        parts.add(box(center, (head_l, head_w, head_h)), "metal")
        lens_z = center[2] - head_h / 2 - 0.005
        parts.add(box((center[0], 0.0, lens_z), (head_l * 0.8, head_w * 0.8, 0.02)), "lamp")
        parts.light("street_lamp", (center[0], 0.0, lens_z - 0.01), (0.0, 0.0, -1.0))
    return parts.finish("street_lamp", s.params)
