"""Putting sampled assets into the scene: footprints that must not overlap, object specs with their
slot materials, and the lights their emitters cast at night."""

from __future__ import annotations

import math

import numpy as np

from simvision.scene.color import blackbody_rgb
from simvision.scene.spec import LightSpec, ObjectSpec
from simvision.scene.street.assets import KIND_CLASS, STREET_SHAPES
from simvision.scene.street.materials import slot_material
from simvision.scene.street.meshes import PartsMesh
from simvision.scene.street.road import RoadPath


def local_to_world(points: np.ndarray, location: list[float] | np.ndarray, yaw: float) -> np.ndarray:
    """(N, 3) points of an object's own frame in the world: turned by ``yaw`` about z, moved to ``location``
    (x, y, and z when given; a ground point at z = 0 otherwise)."""
    c, s = math.cos(yaw), math.sin(yaw)
    p = np.asarray(points, dtype=np.float64)
    z0 = float(location[2]) if len(location) > 2 else 0.0
    return np.column_stack(
        [location[0] + c * p[:, 0] - s * p[:, 1], location[1] + s * p[:, 0] + c * p[:, 1], z0 + p[:, 2]]
    )


def ground_reach(vertices: np.ndarray) -> float:
    """How far a mesh reaches from its origin over the ground (metres, in x and y): the radius of the disc its
    footprint stays inside whichever way it is turned; 0 for no vertices."""
    v = np.asarray(vertices)
    return float(np.hypot(v[:, 0], v[:, 1]).max()) if len(v) else 0.0


def _to_world(obj: ObjectSpec, local: list[float]) -> np.ndarray:
    return local_to_world(np.array([local]), obj.location, obj.rotation_euler[2])[0]


def _emitter_light(role: str, pos: np.ndarray, direction: np.ndarray, rng: np.random.Generator) -> LightSpec:
    """A headlight's beam, a tail light's red glow or a street lamp's wide cone."""
    if role == "headlight":
        energy = float(rng.uniform(300, 800))
        return LightSpec(
            "SPOT", pos.tolist(), (pos + 10 * direction).tolist(), 5500.0, blackbody_rgb(5500), energy, math.radians(50)
        )
    if role == "taillight":
        energy = float(rng.uniform(2, 8))
        return LightSpec("POINT", pos.tolist(), (pos + direction).tolist(), 2000.0, [1.0, 0.05, 0.02], energy, 0.0)
    kelvin = float(rng.uniform(2700, 4500))  # a street lamp
    energy = float(rng.uniform(800, 2500))
    return LightSpec(
        "SPOT", pos.tolist(), (pos + 5 * direction).tolist(), kelvin, blackbody_rgb(kelvin), energy, math.radians(110)
    )


def emitter_lights(obj: ObjectSpec, shape: PartsMesh, night: bool, rng: np.random.Generator) -> list[LightSpec]:
    """The lights of an object's head / tail lights or lamps; by day they stay off (and draw nothing)."""
    if not night:
        return []
    yaw = obj.rotation_euler[2]
    c, s = math.cos(yaw), math.sin(yaw)
    lights = []
    for emitter in shape.lights:
        pos = _to_world(obj, list(emitter["position"]))
        d = np.asarray(emitter["direction"], dtype=np.float64)
        d_world = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1], d[2]])
        lights.append(_emitter_light(emitter["role"], pos, d_world, rng))
    return lights


def _footprint(shape: PartsMesh, xy: np.ndarray, yaw: float) -> list[tuple[np.ndarray, float]]:
    """Discs covering an object's footprint: one for a compact object, a chain along the length of an elongated
    one (vehicles, barriers), so a car parked at the kerb does not claim the lane beside it."""
    lo, hi = shape.vertices.min(axis=0), shape.vertices.max(axis=0)
    length, width = float(hi[0] - lo[0]), float(hi[1] - lo[1])
    if length <= 1.5 * width:
        return [(xy, 0.5 * max(length, width) * 0.85)]
    centre_x = 0.5 * float(hi[0] + lo[0])
    radius = 0.5 * width
    n = int(math.ceil(length / width)) + 1
    along = np.array([math.cos(yaw), math.sin(yaw)])
    offsets = centre_x + np.linspace(-(length / 2 - radius), length / 2 - radius, n)
    return [(xy + k * along, radius) for k in offsets]


class Placer:
    """Places assets along the road where their footprints are free, and collects the scene's labelled
    objects, unlabelled scenery and lights in placement order."""

    def __init__(
        self,
        path: RoadPath,
        class_ids: dict[str, int],
        night: bool,
        rng: np.random.Generator,
        scenery: list[ObjectSpec],
    ) -> None:
        self.path = path
        self.class_ids = class_ids
        self.night = night
        self.rng = rng
        self.scenery = scenery
        self.objects: list[ObjectSpec] = []
        self.lights: list[LightSpec] = []
        self.occupied: list[tuple[float, float, float]] = []  # (x, y, radius) footprints

    def reserve(self, x: float, y: float, radius: float) -> None:
        """Keep a footprint clear of everything placed later (the ego car's, for one)."""
        self.occupied.append((x, y, radius))

    def free(self, xy: np.ndarray, radius: float) -> bool:
        """True if a disc of ``radius`` at ``xy`` overlaps no footprint taken so far."""
        px, py = float(xy[0]), float(xy[1])
        return all((px - x) ** 2 + (py - y) ** 2 > (radius + r) ** 2 for x, y, r in self.occupied)

    def place(
        self,
        kind: str,
        s: float,
        t: float,
        yaw_offset: float,
        z: float = 0.0,
        labelled: bool = True,
        shape: PartsMesh | None = None,
    ) -> ObjectSpec | None:
        """Sample a ``kind`` (or take the ``shape`` already drawn) at arc length s, offset t, turned yaw_offset
        from the road's heading; if its footprint overlaps one already placed, it is dropped and None returned."""
        shape = shape if shape is not None else STREET_SHAPES[kind](rng=self.rng)
        xy = self.path.point(s, t)
        yaw = float(self.path.heading(s)) + yaw_offset
        discs = _footprint(shape, xy, yaw)
        if not all(self.free(c, r) for c, r in discs):
            return None
        obj = self.object_spec(kind, shape, xy, z, yaw, labelled)
        for c, r in discs:
            self.reserve(float(c[0]), float(c[1]), r)
        (self.objects if obj.class_name else self.scenery).append(obj)
        self.lights.extend(emitter_lights(obj, shape, self.night, self.rng))
        return obj

    def backdrop(self, kind: str, shape: PartsMesh, xy: np.ndarray, yaw: float) -> None:
        """Unlabelled scenery on the ground at xy, with no footprint check (buildings)."""
        self.scenery.append(self.object_spec(kind, shape, xy, 0.0, yaw, labelled=False))

    def object_spec(
        self, kind: str, shape: PartsMesh, xy: np.ndarray, z: float, yaw: float, labelled: bool = True
    ) -> ObjectSpec:
        """The object with a material per slot; labelled only if its class is in the class table."""
        class_name = KIND_CLASS.get(kind) if labelled else None
        if class_name is not None and class_name not in self.class_ids:
            class_name = None
        slots = {slot: slot_material(slot, night=self.night, rng=self.rng) for slot in shape.slots}
        active = shape.params.get("active") if kind == "traffic_light" else None
        if active and f"lamp_{active}" in slots:  # the lit signal glows day and night
            lit = slots[f"lamp_{active}"]
            lit.emission_strength = 25.0 if self.night else 8.0
        return ObjectSpec(
            instance_id=0,  # numbered once the scene is complete
            class_name=class_name,
            category_id=self.class_ids[class_name] if class_name else 0,
            asset={"kind": "procedural", "shape": kind, "params": shape.params, "licence": "GPL-3.0-or-later"},
            material=next(iter(slots.values())),
            location=[float(xy[0]), float(xy[1]), float(z)],
            rotation_euler=[0.0, 0.0, float(yaw)],
            vertices=shape.vertices,
            faces=shape.faces,
            slot_materials=slots,
            face_slots=shape.face_slots,
        )
