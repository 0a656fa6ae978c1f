"""Traffic cones knocked over (``scene.cones_knocked_over``): a share of a street's cones lie on their side.

A cone struck by a car or blown over by the wind lies in the lane: a hazard a perception model must still call a
traffic cone, and one the cone photos show too. A knocked-over cone is the same cone (mesh, materials, label)
turned about its own horizontal axis to where it rests, on its body and the edge of its base: the turn, among
those about that axis, that puts its centre of mass lowest (the volume centroid of its closed parts). Its mesh
is centred on where it stood. Which cones lie is drawn from a generator of its own (:data:`SEED_TAG`), after
every other draw of the scene's population, so with the share at 0 (the default) nothing changes, and a cone
that would lie across another object's footprint stays standing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simvision.scene.street.draws import tagged_rng
from simvision.scene.street.placement import Placer, ground_reach

SEED_TAG = 0x4B0C  # mixed into the scene seed: which cones lie never touches the scene's own generator
SMALL_M = 3.0  # scenery reaching less than this from its origin is street furniture a cone could hit
TILTS_DEG = np.arange(45.0, 135.01, 0.5)  # the turns about the cone's y axis searched for its resting pose


def _centroid(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """The volume centroid of a mesh of closed, outward-wound parts (signed tetrahedra from the origin)."""
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)) / 6.0
    total = volume.sum()
    if abs(total) < 1e-12:
        return vertices.mean(axis=0)
    return ((a + b + c) / 4.0 * volume[:, None]).sum(axis=0) / total


def _turned(vertices: np.ndarray, deg: float) -> np.ndarray:
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    x, y, z = vertices[:, 0], vertices[:, 1], vertices[:, 2]
    return np.column_stack([x * c + z * s, y, -x * s + z * c])


def lying(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, float]:
    """The cone's vertices lying on its side (its resting turn about y: the lowest centre of mass), centred in x
    and y on its old origin, its lowest point at z = 0; and the turn in degrees."""
    v = np.asarray(vertices, dtype=np.float64)
    centroid = _centroid(v, np.asarray(faces))
    heights = [(_turned(centroid[None], d)[0, 2] - _turned(v, d)[:, 2].min(), d) for d in TILTS_DEG]
    _, deg = min(heights)
    out = _turned(v, float(deg))
    out[:, 0] -= (out[:, 0].max() + out[:, 0].min()) / 2
    out[:, 1] -= (out[:, 1].max() + out[:, 1].min()) / 2
    out[:, 2] -= out[:, 2].min()
    return out, float(deg)


def knock_over(placer: Placer, share: float, seed: Any) -> int:
    """Lay ``share`` of the placed traffic cones on their side (drawn per cone, in placement order); return how
    many lie. Each lying cone records its turn (``asset.knocked_over``) and keeps its new footprint clear."""
    if share <= 0.0:
        return 0
    rng = tagged_rng(seed, SEED_TAG)
    cones = [o for o in placer.objects if o.asset.get("shape") == "traffic_cone"]
    knocked = 0
    for cone in cones:
        if rng.uniform() >= share:
            continue
        vertices, deg = lying(cone.vertices, cone.faces)
        reach = ground_reach(vertices)
        xy = np.asarray(cone.location[:2])
        # the road users and the small street furniture (poles, lamps, signs; buildings stand beyond the sidewalks)
        others = [o for o in placer.objects if o is not cone]
        others += [o for o in placer.scenery if o.asset.get("kind") != "scenery" and ground_reach(o.vertices) < SMALL_M]
        if any(np.hypot(*(xy - np.asarray(o.location[:2]))) < reach + ground_reach(o.vertices) for o in others):
            continue  # it would lie across something: it stays standing
        cone.vertices = vertices
        cone.asset["knocked_over"] = {"tilt_deg": deg}
        placer.reserve(float(xy[0]), float(xy[1]), reach)
        knocked += 1
    return knocked
