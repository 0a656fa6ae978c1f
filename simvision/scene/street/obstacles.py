"""Rare obstacles on the road: debris, fallen cargo, an animal, a lost tyre."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simvision.scene.shapes import Mesh
from simvision.scene.street.meshes import (
    PartsBuilder,
    PartsMesh,
    Point,
    RecordingSampler,
    align_z,
    box,
    capsule,
    cylinder,
    ellipsoid,
    rot_x,
    rot_y,
    rot_z,
    transform,
    two_bone_ik,
    unit,
    wheel_torus,
)


def _rock(rng: np.random.Generator, radii: np.ndarray) -> Mesh:
    v, f = ellipsoid((0, 0, 0), (1, 1, 1), segments=10, rings=6)
    dirs = v / np.linalg.norm(v, axis=1, keepdims=True)
    waves, phases, amps = rng.normal(size=(4, 3)) * 1.5, rng.uniform(0, 2 * np.pi, 4), rng.uniform(0.04, 0.11, 4)
    bump = 1 + (amps * np.sin(dirs @ waves.T + phases)).sum(axis=1)
    v = dirs * bump[:, None] * radii
    v[:, 2] = np.maximum(v[:, 2], -0.6 * radii[2])
    return v, f


def _on_ground(mesh: Mesh, x: float, y: float, z: float = 0.0) -> Mesh:
    v, f = mesh
    return v + np.array([x, y, z - v[:, 2].min()]), f


def make_debris(*, rng: np.random.Generator) -> PartsMesh:
    """A few irregular rocks and broken planks lying on the road."""
    s = RecordingSampler(rng)
    count, spread = s.i("pieces", 3, 7), s.u("spread", 0.3, 1.0)
    parts = PartsBuilder(("rock", "wood"))
    pieces = []
    for _ in range(count):
        kind = "plank" if rng.random() < 0.35 else "rock"
        x, y = rng.uniform(-spread, spread, 2)
        yaw = rng.uniform(0, 2 * np.pi)
        if kind == "rock":
            radii = rng.uniform(0.05, 0.25) * np.array([1.0, rng.uniform(0.6, 1.0), rng.uniform(0.4, 0.8)])
            mesh = transform(_rock(rng, radii), rot_z(yaw))
            parts.add(_on_ground(mesh, x, y), "rock")
            pieces.append({"kind": kind, "position": [x, y], "yaw": yaw, "radii": radii})
        else:
            size = np.array([rng.uniform(0.4, 1.2), rng.uniform(0.08, 0.2), rng.uniform(0.02, 0.04)])
            tilt = rng.uniform(-0.15, 0.15, 2)
            mesh = box((0, 0, 0), size, rot_z(yaw) @ rot_x(tilt[0]) @ rot_y(tilt[1]))
            parts.add(_on_ground(mesh, x, y), "wood")
            pieces.append({"kind": kind, "position": [x, y], "yaw": yaw, "size": size, "tilt": tilt})
    return parts.finish("debris", {**s.params, "items": pieces})


Footprint = tuple[np.ndarray, np.ndarray, float, bool]  # xy min, xy max, top z, tilted


def _cargo_parts(kind: str, size: np.ndarray) -> list[tuple[Mesh, str]]:
    """A slatted wooden crate, or a taped cardboard box, centred on the origin."""
    sx, sy, sz = size
    if kind != "crate":
        return [
            (box((0, 0, 0), size), "cardboard"),
            (box((0, 0, 0), (sx + 0.004, min(0.05, sy / 3), sz + 0.004)), "tape"),
        ]
    local = [(box((0, 0, 0), size - 0.03), "wood")]
    slat = 0.05
    for ex in (-1, 1):
        for ey in (-1, 1):
            local.append((box((ex * (sx - slat) / 2, ey * (sy - slat) / 2, 0), (slat, slat, sz)), "wood"))
    for ez in (-1, 1):
        for ey in (-1, 1):
            local.append((box((0, ey * (sy - slat) / 2, ez * (sz - slat) / 2), (sx, slat, slat)), "wood"))
    return local


def _cargo_spot(
    ground: list[Footprint], half_xy: np.ndarray, spread: float, rng: np.random.Generator
) -> tuple[np.ndarray, float, bool]:
    """Where an item of footprint half-size ``half_xy`` lands: (centre, base height, stacked). It may go on an
    upright item larger than itself, else on free ground nearby (searching further out as attempts fail)."""
    below = [g for g in ground if not g[3] and np.all(g[1] - g[0] > 2 * half_xy)]
    if bool(below) and rng.random() < 0.35:
        g_lo, g_hi, base, _ = below[int(rng.integers(0, len(below)))]
        return (g_lo + g_hi) / 2 + rng.uniform(-0.25, 0.25, 2) * ((g_hi - g_lo) / 2 - half_xy), base, True
    for attempt in range(40):
        radius = spread * (1 + attempt / 8)
        centre = rng.uniform(-radius, radius, 2)
        if all(np.any(centre + half_xy + 0.05 < g[0]) or np.any(centre - half_xy - 0.05 > g[1]) for g in ground):
            break
    return centre, 0.0, False


def make_fallen_cargo(*, rng: np.random.Generator) -> PartsMesh:
    """Cardboard boxes and wooden crates lost on the road, some tipped over or stacked."""
    s = RecordingSampler(rng)
    count, spread = s.i("items_count", 1, 4), s.u("spread", 0.2, 1.2)
    parts = PartsBuilder(("cardboard", "wood", "tape"))
    items: list[dict[str, Any]] = []
    ground: list[Footprint] = []
    for _ in range(count):
        kind = "crate" if rng.random() < 0.4 else "cardboard"
        if kind == "crate":
            size = rng.uniform([0.5, 0.4, 0.4], [1.2, 1.0, 0.9])
        else:
            size = rng.uniform([0.3, 0.25, 0.2], [0.75, 0.6, 0.5])
        yaw, tilt_axis = rng.uniform(0, 2 * np.pi), int(rng.integers(0, 2))
        tilt = rng.uniform(0.08, 0.3) if rng.random() < 0.3 else 0.0  # resting on something hidden / crushed
        rot = rot_z(yaw) @ (rot_x(tilt) if tilt_axis == 0 else rot_y(tilt))
        meshes = [(transform(m, rot), slot) for m, slot in _cargo_parts(kind, size)]
        allv = np.concatenate([m[0] for m, _ in meshes])
        lo, hi = allv.min(axis=0), allv.max(axis=0)
        half_xy = (hi[:2] - lo[:2]) / 2
        centre, base, stacked = _cargo_spot(ground, half_xy, spread, rng)
        shift = np.array([centre[0] - (lo[0] + hi[0]) / 2, centre[1] - (lo[1] + hi[1]) / 2, base - lo[2]])
        for (v, f), slot in meshes:
            parts.add((v + shift, f), slot)
        if not stacked:
            ground.append((centre - half_xy, centre + half_xy, float(base + hi[2] - lo[2]), tilt > 0))
        items.append(
            {
                "kind": kind,
                "size": size,
                "yaw": yaw,
                "tilt": tilt,
                "tilt_axis": "xy"[tilt_axis],
                "stacked": stacked,
                "position": centre,
            }
        )
    return parts.finish("fallen_cargo", {**s.params, "items": items})


ANIMAL_SPECIES = ("deer", "dog")
ANIMAL_RANGES = {  # (low, high) in metres for each of ANIMAL_SPECIES
    "body_length": ((1.0, 1.45), (0.5, 0.85)),
    "shoulder_height": ((0.8, 1.1), (0.4, 0.7)),
    "girth": ((0.38, 0.48), (0.24, 0.36)),
    "neck_length": ((0.4, 0.6), (0.15, 0.25)),
    "neck_radius": ((0.07, 0.1), (0.05, 0.08)),
    "head_length": ((0.25, 0.33), (0.18, 0.28)),
    "ear_length": ((0.1, 0.15), (0.06, 0.12)),
    "tail_length": ((0.1, 0.18), (0.15, 0.32)),
}


def _animal_legs(
    parts: PartsBuilder, d: dict[str, float], radii: Point, zc: float, stride: float, phase: float, walking: bool
) -> None:
    """Four two-bone legs ending in hooves / paws; walking swings and lifts them in a diagonal gait."""
    rx, ry, rz = radii
    leg_r = 0.12 * d["girth"]
    for front in (True, False):
        for side in (1.0, -1.0):
            joint = np.array([(0.62 if front else -0.62) * rx, side * 0.55 * ry, zc - 0.25 * rz])
            gait = phase + (0 if front else np.pi) + (0 if side > 0 else np.pi)
            swing = math.radians(stride) * math.sin(gait)
            lift = 0.08 * d["shoulder_height"] * max(0.0, math.cos(gait))
            lift = lift if walking else 0.0
            hoof_r = 0.55 * leg_r
            h = joint[2] - hoof_r
            target = joint + np.array([math.tan(swing) * h, 0.0, -h + lift])
            seg = (0.505 if front else 0.54) * float(np.linalg.norm(target - joint))  # hind hocks bend more
            knee, foot = two_bone_ik(joint, target, seg, seg, (1.0 if front else -1.0, 0.0, 0.0))
            parts.add(capsule(joint, knee, leg_r * (1.4 if not front else 1.1), leg_r * 0.7, segments=8), "fur")
            parts.add(capsule(knee, foot, leg_r * 0.65, leg_r * 0.45, segments=8), "fur")
            parts.add(
                ellipsoid(foot + (0.3 * hoof_r, 0, 0), (hoof_r * 1.5, hoof_r * 1.1, hoof_r), segments=8, rings=3),
                "dark",
            )


def _animal_head(
    parts: PartsBuilder, d: dict[str, float], neck_base: np.ndarray, neck_angle: float, grazing: bool, antlers: bool
) -> None:
    """Neck, head, snout and nose, then the ears (and antlers)."""
    neck_r, head_l = d["neck_radius"], d["head_length"]
    neck_dir = np.array([math.cos(neck_angle), 0.0, math.sin(neck_angle)])
    neck_top = neck_base + d["neck_length"] * neck_dir
    parts.add(capsule(neck_base, neck_top, neck_r * 1.3, neck_r, segments=10), "fur")
    head_pitch = -neck_angle * 0.3 - math.radians(25 if not grazing else 45)
    head_dir = np.array([math.cos(head_pitch), 0.0, math.sin(head_pitch)])
    head_c = neck_top + head_dir * head_l * 0.3
    rot = align_z(head_dir)
    parts.add(ellipsoid(head_c, (0.55 * neck_r * 1.3, 0.5 * head_l * 0.45, 0.5 * head_l * 0.75), rot), "fur")
    snout = head_c + head_dir * head_l * 0.4
    parts.add(ellipsoid(snout, (0.32 * head_l * 0.6, 0.22 * head_l, 0.3 * head_l), rot, segments=10, rings=5), "fur")
    parts.add(
        ellipsoid(
            snout + head_dir * 0.27 * head_l, (0.08 * head_l, 0.1 * head_l, 0.06 * head_l), rot, segments=8, rings=3
        ),
        "dark",
    )
    _animal_ears(parts, d, head_c, head_dir, antlers)


def _animal_ears(
    parts: PartsBuilder, d: dict[str, float], head_c: np.ndarray, head_dir: np.ndarray, antlers: bool
) -> None:
    """Ears angled out from the top of the head; a deer's antlers just behind them."""
    neck_r, head_l, ear_l = d["neck_radius"], d["head_length"], d["ear_length"]
    up = np.cross(head_dir, [0.0, 1.0, 0.0])  # the head's "up", perpendicular to its axis
    for side in (1.0, -1.0):
        ear_base = head_c + up * 0.5 * neck_r - head_dir * 0.1 * head_l + np.array([0, side * 0.15 * head_l, 0])
        ear_dir = unit(up + np.array([0.0, side * 0.6, 0.0]) - 0.3 * head_dir)
        parts.add(
            ellipsoid(
                ear_base + ear_dir * ear_l / 2,
                (0.18 * ear_l, 0.35 * ear_l, 0.5 * ear_l),
                align_z(ear_dir),
                segments=8,
                rings=3,
            ),
            "fur",
        )
        if antlers:
            a0 = ear_base - head_dir * 0.05 * head_l
            a1 = a0 + unit([-0.3, side * 0.5, 1.0]) * 0.3
            parts.add(capsule(a0, a1, 0.015, 0.008, segments=6), "dark")
            parts.add(
                capsule(
                    a0 + (a1 - a0) * 0.5, a0 + (a1 - a0) * 0.5 + unit([0.6, 0.0, 1.0]) * 0.12, 0.01, 0.006, segments=6
                ),
                "dark",
            )


def make_animal(*, rng: np.random.Generator) -> PartsMesh:
    """A quadruped facing +x: deer- or dog-sized, standing, walking or grazing."""
    s = RecordingSampler(rng)
    species = s.choice("species", ANIMAL_SPECIES, p=(0.55, 0.45))
    d = {name: s.u(name, *ranges[ANIMAL_SPECIES.index(species)]) for name, ranges in ANIMAL_RANGES.items()}
    pose = s.choice("pose", ("standing", "walking", "grazing"), p=(0.4, 0.4, 0.2))
    neck_angle = math.radians(s.u("neck_angle", -50, -30) if pose == "grazing" else s.u("neck_angle", 35, 70))
    stride, phase = (s.u("stride", 10, 25), s.u("phase", 0.0, 2 * np.pi)) if pose == "walking" else (0.0, 0.0)
    antlers = species == "deer" and s.flag("antlers", 0.3)
    rx, ry, rz = d["body_length"] / 2, d["girth"] / 2 * 0.85, d["girth"] / 2
    zc = d["shoulder_height"] - rz * 0.9
    parts = PartsBuilder(("fur", "dark"))
    parts.add(ellipsoid((0, 0, zc), (rx, ry, rz), segments=14, rings=7), "fur")
    _animal_legs(parts, d, (rx, ry, rz), zc, stride, phase, pose == "walking")
    _animal_head(parts, d, np.array([0.75 * rx, 0.0, zc + 0.25 * rz]), neck_angle, pose == "grazing", antlers)
    tail_dir = unit([-1.0, 0.0, 0.5 if species == "dog" else 0.2])
    tail_base = np.array([-0.95 * rx, 0.0, zc + 0.3 * rz])
    neck_r = d["neck_radius"]
    parts.add(
        capsule(tail_base, tail_base + tail_dir * d["tail_length"], 0.2 * neck_r * 1.3, 0.12 * neck_r, segments=8),
        "fur",
    )
    return parts.finish("animal", s.params)


def make_tyre(*, rng: np.random.Generator) -> PartsMesh:
    """A lost tyre, lying flat or standing on its tread, possibly still on its rim."""
    s = RecordingSampler(rng)
    radius, width = s.u("radius", 0.3, 0.55), s.u("width", 0.17, 0.38)
    sidewall = radius * s.u("sidewall_ratio", 0.22, 0.35)
    lying, with_rim = s.flag("lying", 0.55), s.flag("with_rim", 0.4)
    yaw = s.u("yaw", 0.0, 2 * np.pi)
    parts = PartsBuilder(("tyre", "rim"))
    rot = rot_z(yaw) @ (rot_x(np.pi / 2) if lying else np.eye(3))
    parts.add(transform(wheel_torus((0, 0, 0), radius, sidewall, width, segments=24, sides=10), rot), "tyre")
    if with_rim:
        hub = np.array([0.0, 0.75 * width / 2, 0.0])
        parts.add(transform(cylinder(-hub, hub, radius - sidewall, segments=20), rot), "rim")
    return parts.finish("tyre", s.params)
