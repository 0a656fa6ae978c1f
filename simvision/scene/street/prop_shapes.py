"""Street props, the unlabelled distractors of ``scene.props`` (fronts face +x, long axis x): fence and railing
segments, bollards, utility and sign poles, litter bins (wheelie bins and round public bins) and parked bicycles
(on a kickstand or at a hoop stand). Procedural meshes from our own primitives; every random value is drawn
through a :class:`RecordingSampler` and recorded in ``params``. Values a caller fixes (one style for all the
segments of a fence run) are recorded too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from simvision.scene.shapes import torus
from simvision.scene.street.meshes import (
    PartsBuilder,
    PartsMesh,
    RecordingSampler,
    box,
    cylinder,
    outward,
    rot_x,
    transform,
)
from simvision.scene.street.people import _add_bike, _sample_bike, _sample_figure_style

FENCE_VARIANTS = ("railing", "picket", "guardrail")


def make_fence(
    *, rng: np.random.Generator, variant: str | None = None, length: float | None = None, height: float | None = None
) -> PartsMesh:
    """One straight fence segment along x: a metal railing (posts, two rails, vertical bars), a wooden picket
    fence (posts, two rails, pickets with gaps) or a low pedestrian guardrail (posts and two rails)."""
    s = RecordingSampler(rng)
    if variant is None:
        variant = s.choice("variant", FENCE_VARIANTS)
    if length is None:
        length = s.u("length", 2.0, 5.0)
    if height is None:
        height = s.u("height", *{"railing": (0.9, 1.4), "picket": (0.8, 1.3), "guardrail": (0.8, 1.1)}[variant])
    params: dict[str, Any] = {"variant": variant, "length": length, "height": height}
    material = "wood" if variant == "picket" else "painted_metal"
    parts = PartsBuilder((material,))
    post_w = s.u("post_width", 0.05, 0.07) if variant != "picket" else s.u("post_width", 0.08, 0.11)
    n_posts = max(2, int(math.ceil(length / s.u("post_spacing", 1.2, 2.0))) + 1)
    for x in np.linspace(-length / 2 + post_w / 2, length / 2 - post_w / 2, n_posts):
        parts.add(box((x, 0.0, height / 2), (post_w, post_w, height)), material)
    rail_h = s.u("rail_height", 0.03, 0.06)
    rails = (0.12, 0.92) if variant != "guardrail" else (0.45, 0.95)
    for z in rails:
        parts.add(box((0.0, 0.0, z * height), (length, 0.035, rail_h)), material)
    if variant == "railing":
        pitch, bar = s.u("bar_pitch", 0.11, 0.16), s.u("bar_width", 0.015, 0.025)
        for x in np.arange(-length / 2 + pitch, length / 2 - pitch / 2, pitch):
            parts.add(box((x, 0.0, 0.52 * height), (bar, bar, 0.8 * height)), material)
    elif variant == "picket":
        width, gap = s.u("picket_width", 0.07, 0.11), s.u("picket_gap", 0.03, 0.08)
        pointed = s.flag("pointed", 0.5)
        for x in np.arange(-length / 2 + width / 2, length / 2 - width / 2 + 1e-6, width + gap):
            top = height * (1.0 if pointed else 0.97)
            parts.add(box((x, 0.03, 0.04 + (top - 0.04) / 2), (width, 0.018, top - 0.04)), material)
            if pointed:  # a small pyramid-ish cap: a narrower box on top
                parts.add(box((x, 0.03, top + 0.025), (width * 0.5, 0.018, 0.05)), material)
    return parts.finish("fence", {**params, **s.params})


def make_bollard(*, rng: np.random.Generator) -> PartsMesh:
    """A slim steel bollard with a domed cap and a reflective band, or a squat concrete one."""
    s = RecordingSampler(rng)
    parts = PartsBuilder(("painted_metal", "stripe", "concrete"))
    variant = s.choice("variant", ("steel", "concrete"), p=(0.7, 0.3))
    if variant == "concrete":
        r, h = s.u("radius", 0.15, 0.25), s.u("height", 0.45, 0.8)
        parts.add(cylinder((0, 0, 0), (0, 0, h), r, r * s.u("taper", 0.85, 1.0), segments=20), "concrete")
        return parts.finish("bollard", s.params)
    r, h = s.u("radius", 0.05, 0.1), s.u("height", 0.8, 1.1)
    parts.add(cylinder((0, 0, 0), (0, 0, h - r * 0.5), r, segments=16), "painted_metal")
    parts.add(cylinder((0, 0, h - r * 0.5), (0, 0, h), r, r * 0.5, segments=16), "painted_metal")  # cap
    band = s.u("band_height", 0.82, 0.9) * h
    parts.add(cylinder((0, 0, band - 0.04), (0, 0, band + 0.04), r * 1.03, segments=16), "stripe")
    return parts.finish("bollard", s.params)


def make_pole(*, rng: np.random.Generator) -> PartsMesh:
    """A wooden utility pole with a cross-arm and insulators, or a metal post with a small rectangular sign
    (parking, information) facing +x."""
    s = RecordingSampler(rng)
    variant = s.choice("variant", ("utility", "sign_post"), p=(0.4, 0.6))
    if variant == "utility":
        parts = PartsBuilder(("wood", "painted_metal"))
        h, r = s.u("height", 7.0, 10.0), s.u("radius", 0.1, 0.15)
        parts.add(cylinder((0, 0, 0), (0, 0, h), r, r * 0.75, segments=12), "wood")
        arm = s.u("arm_length", 1.2, 2.0)
        z = h - s.u("arm_drop", 0.3, 0.6)
        parts.add(box((0.0, 0.0, z), (0.1, arm, 0.1)), "wood")
        for y in (-0.45 * arm, -0.15 * arm, 0.15 * arm, 0.45 * arm):
            parts.add(cylinder((0, y, z + 0.05), (0, y, z + 0.2), 0.035, segments=8), "painted_metal")
        return parts.finish("pole", s.params)
    parts = PartsBuilder(("painted_metal", "sign", "metal"))
    h, r = s.u("height", 2.4, 3.2), s.u("radius", 0.03, 0.045)
    parts.add(cylinder((0, 0, 0), (0, 0, h), r, segments=12), "painted_metal")
    w, ph = s.u("plate_width", 0.3, 0.6), s.u("plate_height", 0.3, 0.6)
    parts.add(box((r + 0.012, 0.0, h - ph / 2 - 0.05), (0.015, w, ph)), "sign")
    parts.add(box((r + 0.002, 0.0, h - ph / 2 - 0.05), (0.006, w + 0.02, ph + 0.02)), "metal")
    return parts.finish("pole", s.params)


def make_bin(*, rng: np.random.Generator) -> PartsMesh:
    """A two-wheeled wheelie bin (body wider at the top, lid, handle and wheels at the back, -x) or a round
    public litter bin on a post or standing on the ground."""
    s = RecordingSampler(rng)
    variant = s.choice("variant", ("wheelie", "public"), p=(0.6, 0.4))
    if variant == "wheelie":
        parts = PartsBuilder(("plastic", "lid", "tyre"))
        w, d, h = s.u("width", 0.48, 0.6), s.u("depth", 0.55, 0.75), s.u("height", 0.92, 1.08)
        n = 4  # the body as stacked boxes, each a little larger: the wheelie bin's taper
        for k in range(n):
            grow = 0.88 + 0.12 * (k + 0.5) / n
            z0, z1 = h * 0.06 + k * (h * 0.88) / n, h * 0.06 + (k + 1) * (h * 0.88) / n
            parts.add(box((0.0, 0.0, (z0 + z1) / 2), (d * grow, w * grow, z1 - z0)), "plastic")
        parts.add(box((0.0, 0.0, h * 0.94 + 0.03), (d * 1.04, w * 1.04, 0.06)), "lid")
        parts.add(cylinder((-d / 2 - 0.05, -w / 2, h * 0.92), (-d / 2 - 0.05, w / 2, h * 0.92), 0.018), "plastic")
        wheel_r = s.u("wheel_radius", 0.09, 0.11)
        for y in (-w / 2 + 0.04, w / 2 - 0.04):
            parts.add(cylinder((-d / 2, y - 0.03, wheel_r), (-d / 2, y + 0.03, wheel_r), wheel_r, segments=14), "tyre")
        return parts.finish("bin", s.params)
    parts = PartsBuilder(("painted_metal", "plastic"))
    r, h = s.u("radius", 0.18, 0.28), s.u("height", 0.55, 0.8)
    on_post = s.flag("on_post", 0.5)
    z0 = s.u("mount_height", 0.35, 0.5) if on_post else 0.0
    if on_post:
        parts.add(cylinder((0, -r - 0.04, 0), (0, -r - 0.04, z0 + h), 0.035, segments=10), "painted_metal")
    parts.add(cylinder((0, 0, z0), (0, 0, z0 + h), r * 0.92, r, segments=20), "plastic")
    rim = torus(r, 0.02, 20, 6)  # around the y axis: turned to stand around the bin's (z) axis
    parts.add(outward(transform(rim, rot_x(math.pi / 2), (0.0, 0.0, z0 + h))), "painted_metal")
    return parts.finish("bin", s.params)


def _spokes(parts: PartsBuilder, hub: np.ndarray, reach: float, n: int, phase: float) -> None:
    """Thin spokes from the hub flanges to the rim, laced alternately to both flanges."""
    for k in range(n):
        a = phase + 2 * math.pi * k / n
        side = 0.025 if k % 2 else -0.025
        end = hub + np.array([reach * math.cos(a), 0.0, reach * math.sin(a)])
        parts.add(cylinder(hub + (0.0, side, 0.0), end, 0.0016, segments=4), "rim")


def make_bicycle(*, rng: np.random.Generator) -> PartsMesh:
    """A parked bicycle without a rider (the cyclist's frame, wheels, handlebar, saddle, cranks, plus spokes)
    on its kickstand, leaning 6-12 degrees to its left, or upright against a hoop (Sheffield) stand beside it."""
    s = RecordingSampler(rng)
    height, d = _sample_figure_style(s, adult_only=True)  # the owner the saddle is set for
    bike, _ = _sample_bike(s, d, height)
    inner = PartsBuilder(("frame", "tyre", "rim", "painted_metal"))
    _add_bike(inner, bike)
    n_spokes = 2 * s.i("spokes_half", 12, 18)
    for hub in (bike.rear, bike.front):
        _spokes(inner, hub, bike.wheel_r - 2 * bike.tyre_r - 0.01, n_spokes, s.u("spoke_phase", 0.0, math.pi))
    stand = s.choice("stand", ("kickstand", "hoop"), p=(0.6, 0.4))
    lean = math.radians(s.u("lean_deg", 6.0, 12.0) if stand == "kickstand" else s.u("lean_deg", 0.0, 3.0))
    if stand == "kickstand":  # a strut from behind the bottom bracket to the ground on the left (+y)
        foot = bike.bb + np.array([-0.2, 0.0, 0.0])
        reach = 0.22  # the strut's foot, off the wheels' line; it touches the ground once the bike leans on it
        end = (foot[0] - 0.08, reach, reach * math.tan(lean))
        inner.add(cylinder(foot + (0.0, 0.05, 0.02), end, 0.008, segments=6), "frame")
    # the bike's parts into the final mesh, leaning about its ground line (the x axis) towards +y
    built = inner.finish("bicycle", {})
    v, f = transform((built.vertices, built.faces), rot_x(-lean))
    parts = PartsBuilder(inner.slots)
    parts.add((v, f), built.face_slots)
    if stand == "hoop":  # an inverted U of steel tube beside the bike, along it
        hoop_h, hoop_w = s.u("hoop_height", 0.75, 0.9), s.u("hoop_width", 0.6, 0.9)
        y = 0.21  # beside the pedals (0.16 m out), inside the handlebar's ends, which pass above it
        xc = float(0.5 * (v[:, 0].min() + v[:, 0].max()))
        a, b = (xc - hoop_w / 2, y, 0.0), (xc + hoop_w / 2, y, 0.0)
        top_a, top_b = (a[0], y, hoop_h), (b[0], y, hoop_h)
        for p0, p1 in ((a, top_a), (b, top_b), (top_a, top_b)):
            parts.add(cylinder(p0, p1, 0.025, segments=10), "painted_metal")
    params = {
        **s.params,
        "lean_deg": math.degrees(lean),
        "wheelbase": float(bike.front[0] - bike.rear[0]),
        "spokes": n_spokes,
    }
    return parts.finish("bicycle", params)


PROP_SHAPES: dict[str, Callable[..., PartsMesh]] = {
    "fence": make_fence,
    "bollard": make_bollard,
    "pole": make_pole,
    "bin": make_bin,
    "bicycle": make_bicycle,
}
