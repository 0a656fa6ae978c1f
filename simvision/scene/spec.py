"""The scene as plain data: everything a sampler drew, nothing that touches Blender.

A :class:`SceneSpec` is enough to rebuild the scene exactly; :meth:`SceneSpec.record` gives its
JSON form for the per-frame metadata (mesh arrays are left out: they are regenerated from the
recorded seed and parameters).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class MaterialSpec:
    base_color: list[float]
    roughness: float
    metallic: float
    texture: str | None = None  # noise | voronoi | checker | wave
    texture_scale: float = 10.0
    second_color: list[float] | None = None
    emission_color: list[float] | None = None  # emitters: lamp heads, head/tail lights, lit signals
    emission_strength: float = 0.0
    image_texture: str | None = None  # a texture image (e.g. from diffusion polishing) as base colour
    puddles: float = 0.0  # fraction of the surface covered by mirror-like puddles (wet roads)


@dataclass
class ObjectSpec:
    instance_id: int  # 1.. for labelled objects, 0 for unlabelled distractors
    class_name: str | None  # None for distractors
    category_id: int  # from the class table; 0 for distractors
    asset: dict[str, Any]  # {"kind": "procedural", "shape": ..., "params": {...}} or a mesh entry
    material: MaterialSpec
    location: list[float]  # initial placement in the world (physics may move it; see pose_world)
    rotation_euler: list[float]
    vertices: np.ndarray = field(repr=False)  # (V, 3) metres, object frame, base at z=0
    faces: np.ndarray = field(repr=False)  # (F, 3) triangles
    # several materials per object: slot name -> material, and the slot index of every face
    slot_materials: dict[str, MaterialSpec] = field(default_factory=dict)
    face_slots: np.ndarray | None = field(default=None, repr=False)
    # > 0: the object rides on the labelled object with this instance id (food in a bowl): ``location`` and
    # ``rotation_euler`` are in that object's frame, and it has no physics of its own (it moves with it)
    parent: int = 0

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "instance_id": self.instance_id,
            "class_name": self.class_name,
            "category_id": self.category_id,
            "asset": self.asset,
            "material": asdict(self.material),
            "location": self.location,
            "rotation_euler": self.rotation_euler,
        }
        if self.asset.get("kind") == "blend":  # a cached asset brings its own materials (named by asset)
            del out["material"]
        if self.parent:
            out["parent_instance_id"] = self.parent
        if self.slot_materials:
            out["slot_materials"] = {name: asdict(m) for name, m in self.slot_materials.items()}
        lo, hi = self.vertices.min(axis=0), self.vertices.max(axis=0)
        out["bbox3d"] = {"center_obj": ((lo + hi) / 2).tolist(), "size": (hi - lo).tolist()}
        return out


@dataclass
class LightSpec:
    type: str  # POINT | AREA | SPOT | SUN
    location: list[float]
    target: list[float]
    temperature_k: float
    color: list[float]
    energy: float  # W for point/area/spot, W/m^2 (strength) for sun
    size: float = 0.0  # area light size or spot cone angle (rad)


@dataclass
class CameraSpec:
    K: list[list[float]]
    width: int
    height: int
    cam_to_world: list[list[float]]  # OpenCV axes
    sampled: dict[str, float] = field(default_factory=dict)


@dataclass
class SceneSpec:
    scene_index: int
    seed: list[int]
    scene_name: str
    container: dict[str, Any]
    objects: list[ObjectSpec]
    lights: list[LightSpec]
    cameras: list[CameraSpec]
    background: dict[str, Any]
    physics: dict[str, float]
    conditions: dict[str, Any] = field(default_factory=dict)
    # unlabelled static meshes (road, kerbs, buildings, furniture): rendered, never labelled
    scenery: list[ObjectSpec] = field(default_factory=list)
    # camera effects applied to the RGB after rendering (a Conditions record), None for none
    effects: dict[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        return {
            "scene_index": self.scene_index,
            "seed": self.seed,
            "scene_name": self.scene_name,
            "container": self.container,
            "objects": [o.record() for o in self.objects],
            "lights": [asdict(light) for light in self.lights],
            "background": self.background,
            "physics": self.physics,
            "conditions": self.conditions,
            "scenery": _count_parts(self.scenery),
        }


def _count_parts(scenery: list[ObjectSpec]) -> dict[str, int]:
    """Compact record of the static scenery (it is regenerated from the seed): parts and counts."""
    counts: dict[str, int] = {}
    for obj in scenery:
        key = str(obj.asset.get("part") or obj.asset.get("shape") or "mesh")
        counts[key] = counts.get(key, 0) + 1
    return counts
