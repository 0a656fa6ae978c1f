"""Grass blades in front of a verge scene's camera (``scene.verge_view.blades_per_m2``): the lawn seen up close.

A lawn's material is a flat texture: from a camera a metre above it, pitched down, it reads as green felt, where a
photo shows blades, their tips catching light, the gaps between them dark, and the foot of a cone standing in them
(docs/realism.md, "Cones standing in grass"). So where a verge scene's ground is a lawn, the ground in front of its
camera, out to ``blade_reach_m`` (thinning and shortening over its far half), gets real blades: one thin,
leaning triangle each, in the lawn's own green, a paler green and its straw, as one unlabelled mesh (tens of
thousands of triangles). None stand on the sidewalk or under an object; the renderer's labels see them like any
scenery (a blade in front of a cone's foot hides those pixels). Drawn from a generator of their own, after the
dressing, so nothing else in the scene changes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simvision.scene.spec import MaterialSpec, ObjectSpec, SceneSpec
from simvision.scene.street.placement import ground_reach
from simvision.scene.street.road import RoadPath
from simvision.scene.street.vegetation import GROUND_Z

BLADE_WIDTH_M = (0.003, 0.007)  # at the base; a blade tapers to its tip
BLADE_LEAN = (0.0, 0.45)  # how far the tip leans, as a share of the blade's height
NEAREST_M = 0.25  # no blades closer to the camera than this (they would fill the lens)


def _views(cameras: list[Any]) -> tuple[float, float]:
    """The bearings (radians) bounding what a rig's cameras see on the ground, 5 degrees wider either side: one
    camera's view, or the union of a rig's (its cameras share one position; at most a full turn)."""
    spans = []
    for camera in cameras:
        forward = np.asarray(camera.cam_to_world, dtype=np.float64)[:3, 2]
        half = math.atan(0.5 * camera.width / float(camera.K[0][0])) + math.radians(5.0)
        spans.append((math.atan2(forward[1], forward[0]), half))
    first = spans[0][0]
    lo = hi = first
    for yaw, half in spans:
        yaw = first + math.atan2(math.sin(yaw - first), math.cos(yaw - first))  # unwrapped near the first
        lo, hi = min(lo, yaw - half), max(hi, yaw + half)
    return (lo, hi) if hi - lo <= 2 * math.pi else (first - math.pi, first + math.pi)


def grass_blades(spec: SceneSpec, lawn: dict[str, Any], cfg: Any, rng: np.random.Generator) -> ObjectSpec | None:
    """The blade mesh of a verge scene whose ground is ``lawn`` (its dressing record), or None when no blade fits.
    Blades fill the cameras' views (and 5 degrees either side) from :data:`NEAREST_M` to ``cfg.blade_reach_m``
    at ``cfg.blades_per_m2`` (drawn per scene), on the open ground beyond the sidewalk, clear of every object."""
    verge = spec.container["verge_view"]
    camera = np.asarray(spec.cameras[0].cam_to_world, dtype=np.float64)
    lo, hi = _views(spec.cameras)
    density = float(rng.uniform(*(float(v) for v in cfg.blades_per_m2)))
    reach = float(cfg.blade_reach_m)
    n = int(density * 0.5 * (hi - lo) * (reach**2 - NEAREST_M**2))  # the sector's area
    r = np.sqrt(rng.uniform(NEAREST_M**2, reach**2, n))  # uniform over the sector's area
    a = rng.uniform(lo, hi, n)
    xy = camera[:2, 3] + np.column_stack([r * np.cos(a), r * np.sin(a)])
    h = rng.uniform(*(float(v) for v in cfg.blade_height_m), n)
    w = rng.uniform(*BLADE_WIDTH_M, n)
    facing = rng.uniform(0.0, math.pi, n)
    lean_dir = rng.uniform(0.0, 2 * math.pi, n)
    shade = rng.uniform(0.0, 1.0, n)
    # thinning out and shortening over the far half of the reach, so the blades fade into the lawn's material
    # instead of ending along an arc
    fade = np.clip((reach - r) / (0.5 * reach), 0.0, 1.0)
    h = h * np.sqrt(np.maximum(fade, 0.05))
    lean = rng.uniform(*BLADE_LEAN, n) * h
    edge = abs(float(verge["camera_t"])) - float(verge["distance_m"])  # the sidewalk's outer edge
    keep = rng.uniform(0.0, 1.0, n) < fade
    keep &= float(verge["side"]) * RoadPath(float(spec.container.get("curvature", 0.0))).lateral(xy) > edge + 0.02
    for obj in spec.objects:  # nothing grows through a cone's base or a wheel
        keep &= np.hypot(*(xy - np.asarray(obj.location[:2])).T) > ground_reach(obj.vertices)
    xy, h, w, facing, lean_dir, lean, shade = (x[keep] for x in (xy, h, w, facing, lean_dir, lean, shade))
    if not len(xy):
        return None
    side = np.column_stack([np.cos(facing), np.sin(facing)]) * (w / 2)[:, None]
    tip = xy + np.column_stack([np.cos(lean_dir), np.sin(lean_dir)]) * lean[:, None]
    tip_z = np.sqrt(np.maximum(h**2 - lean**2, 0.0))
    zeros = np.zeros(len(xy))
    vertices = np.stack(
        [np.column_stack([xy - side, zeros]), np.column_stack([xy + side, zeros]), np.column_stack([tip, tip_z])],
        axis=1,
    ).reshape(-1, 3)
    faces = np.arange(len(vertices), dtype=np.int64).reshape(-1, 3)
    green, dry = (np.asarray(c, dtype=np.float64) for c in lawn["colors"])
    slots = {
        "green": MaterialSpec([float(c) for c in green], 0.6, 0.0),
        "pale": MaterialSpec([float(c) for c in np.clip((0.6 * green + 0.4 * dry) * 1.35, 0, 1)], 0.55, 0.0),
        "dry": MaterialSpec([float(c) for c in dry], 0.7, 0.0),
    }
    dry_share = float(lawn.get("dry_coverage", 0.0))
    face_slots = np.where(shade < dry_share * 0.6, 2, np.where(shade < dry_share * 0.6 + 0.3, 1, 0)).astype(np.int64)
    asset = {"kind": "scenery", "part": "grass_blades", "blades": int(len(xy)), "density_per_m2": density}
    return ObjectSpec(
        0,
        None,
        0,
        asset,
        slots["green"],
        [0.0, 0.0, GROUND_Z],
        [0.0, 0.0, 0.0],
        vertices,
        faces,
        slot_materials=slots,
        face_slots=face_slots,
    )
