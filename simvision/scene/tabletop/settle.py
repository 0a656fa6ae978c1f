"""After the drop: which objects ended off the table top (or out of the bin), from their final poses.

Plain numpy (no Blender), so the render process, scripts and tests share one rule. An object is off
when its box centre is not above the top's (the bin's inner) footprint, or when its lowest point is
more than :data:`BELOW_TOP_M` under the top (the table top and the bin's floor are at z = 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

BELOW_TOP_M = 0.03  # resting objects touch z = 0 (to within the physics' collision margin)


def off_container(container: dict[str, Any], vertices: np.ndarray, pose_world: np.ndarray) -> bool:
    """Whether an object with these object-frame ``vertices`` at ``pose_world`` (4x4) is off the container."""
    if container.get("kind") not in ("table", "bin"):
        return False
    size = container["top_size"] if container["kind"] == "table" else container["inner_size"]
    pose = np.asarray(pose_world, dtype=np.float64)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    centre = pose[:3, :3] @ ((lo + hi) / 2) + pose[:3, 3]
    lowest = float((vertices @ pose[2, :3]).min() + pose[2, 3])
    outside = bool(np.any(np.abs(centre[:2]) > np.asarray(size, dtype=np.float64) / 2))
    return outside or lowest < -BELOW_TOP_M


def fallen(spec: Any, poses_world: dict[int, np.ndarray]) -> list[int]:
    """Indices (in ``spec.objects``) of the objects that ended off the table or out of the bin."""
    return [
        i
        for i, obj in enumerate(spec.objects)
        if i in poses_world and off_container(spec.container, obj.vertices, poses_world[i])
    ]


def remove_fallen(spec: Any, poses_world: dict[int, np.ndarray]) -> tuple[list[int], dict[int, np.ndarray]]:
    """Drop the fallen objects from ``spec.objects`` (recorded in ``spec.physics["removed"]``); return their
    old indices and the poses of the kept objects under their new indices."""
    gone = fallen(spec, poses_world)
    parents = {spec.objects[i].instance_id for i in gone}  # what rides on a removed object goes with it
    gone += [i for i, o in enumerate(spec.objects) if getattr(o, "parent", 0) in parents - {0} and i not in gone]
    gone.sort()
    if not gone:
        return [], poses_world
    spec.physics["removed"] = [
        {
            "instance_id": spec.objects[i].instance_id,
            "class_name": spec.objects[i].class_name,
            "asset": spec.objects[i].asset.get("id") or spec.objects[i].asset.get("shape"),
            "pose_world": np.asarray(poses_world[i]).tolist(),
        }
        for i in gone
    ]
    kept = [i for i in range(len(spec.objects)) if i not in gone]
    spec.objects = [spec.objects[i] for i in kept]
    return gone, {new: poses_world[old] for new, old in enumerate(kept)}
