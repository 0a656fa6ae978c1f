"""Procedural street scenes for driving: road layout, traffic, people, obstacles, conditions.

Pure sampling (no Blender): the result is a SceneSpec whose labelled objects carry their own
meshes and multi-material slots, plus static scenery meshes (road, kerbs, buildings, furniture)
and the lights that go with them (street lamps, head and tail lights at night).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from simvision.config.paths import SCENES_DIR
from simvision.labels.geometry import intrinsics_from_hfov
from simvision.scene.color import blackbody_rgb, random_color
from simvision.scene.conditions import Conditions, sample_conditions, sun_direction
from simvision.scene.shapes import merge
from simvision.scene.spec import CameraSpec, LightSpec, MaterialSpec, ObjectSpec, SceneSpec
from simvision.scene.street.assets import KIND_CLASS, STREET_SHAPES
from simvision.scene.street.buildings import make_building
from simvision.scene.street.meshes import PartsMesh

CAR_PAINT = [
    [0.8, 0.8, 0.8],
    [0.05, 0.05, 0.05],
    [0.35, 0.35, 0.37],
    [0.55, 0.56, 0.58],
    [0.5, 0.04, 0.03],
    [0.04, 0.1, 0.35],
    [0.15, 0.2, 0.15],
    [0.6, 0.45, 0.2],
    [0.85, 0.85, 0.75],
    [0.9, 0.6, 0.05],
]
SKIN = [[0.93, 0.76, 0.62], [0.8, 0.58, 0.42], [0.6, 0.4, 0.27], [0.42, 0.27, 0.17], [0.25, 0.15, 0.1]]
HAIR = [[0.05, 0.04, 0.03], [0.25, 0.15, 0.08], [0.6, 0.45, 0.25], [0.5, 0.5, 0.5], [0.35, 0.1, 0.05]]


def _u(rng: np.random.Generator, bounds: Any) -> float:
    lo, hi = float(bounds[0]), float(bounds[1])
    return float(rng.uniform(lo, hi)) if hi > lo else lo


def _count(rng: np.random.Generator, bounds: Any, weight: float = 1.0) -> int:
    lo, hi = int(bounds[0]), int(bounds[1])
    n = int(rng.integers(lo, hi + 1)) if hi > lo else lo
    if weight == 1.0:
        return n
    scaled = n * weight  # expected count scales with the class weight; dither the fraction
    return int(math.floor(scaled) + (rng.uniform() < scaled - math.floor(scaled)))


def _choose(weights: dict[str, float], rng: np.random.Generator) -> str:
    names = list(weights)
    p = np.array([max(float(weights[n]), 0.0) for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _mat(color: list[float], roughness: float, metallic: float = 0.0, **extra: Any) -> MaterialSpec:
    return MaterialSpec(
        base_color=[float(c) for c in color], roughness=float(roughness), metallic=float(metallic), **extra
    )


def slot_material(slot: str, *, night: bool, rng: np.random.Generator) -> MaterialSpec:
    """A plausible material for a named material role of a street asset."""
    jitter = rng.uniform(0.85, 1.15, size=3)
    if slot == "body":
        color = np.clip(np.asarray(CAR_PAINT[int(rng.integers(len(CAR_PAINT)))]) * jitter, 0, 1).tolist()
        return _mat(color, rng.uniform(0.15, 0.4), rng.uniform(0.3, 0.9))
    if slot in ("glass", "window"):
        return _mat([0.02, 0.03, 0.04], 0.05, 0.0)
    if slot == "tyre":
        return _mat([0.02, 0.02, 0.02], 0.85)
    if slot in ("rim", "metal"):
        return _mat([0.6, 0.6, 0.62], rng.uniform(0.2, 0.5), 1.0)
    if slot == "headlight":
        return _mat(
            [0.9, 0.9, 0.85],
            0.1,
            0.0,
            emission_color=blackbody_rgb(5500),
            emission_strength=float(rng.uniform(30, 60)) if night else 0.0,
        )
    if slot == "taillight":
        return _mat(
            [0.6, 0.02, 0.02],
            0.2,
            0.0,
            emission_color=[1.0, 0.05, 0.02],
            emission_strength=float(rng.uniform(5, 15)) if night else 0.0,
        )
    if slot in ("lamp", "street_lamp"):
        return _mat(
            [0.9, 0.85, 0.7],
            0.3,
            0.0,
            emission_color=blackbody_rgb(3500),
            emission_strength=float(rng.uniform(20, 50)) if night else 0.0,
        )
    if slot.startswith("lamp_"):
        colors = {"lamp_red": [1.0, 0.05, 0.02], "lamp_amber": [1.0, 0.5, 0.0], "lamp_green": [0.1, 1.0, 0.3]}
        color = colors.get(slot, [1, 1, 1])
        return _mat([c * 0.3 for c in color], 0.2, 0.0, emission_color=color, emission_strength=0.0)
    if slot == "skin":
        return _mat(np.clip(np.asarray(SKIN[int(rng.integers(len(SKIN)))]) * jitter, 0, 1).tolist(), 0.5)
    if slot == "hair":
        return _mat(HAIR[int(rng.integers(len(HAIR)))], 0.6)
    if slot in ("cone",):
        return _mat([0.9, 0.25, 0.02], 0.5)
    if slot in ("stripe", "reflective"):
        return _mat([0.95, 0.95, 0.95], 0.2)
    if slot in ("shoes", "dark", "housing"):
        return _mat([0.04, 0.04, 0.04], 0.6)
    if slot == "concrete":
        return _mat(np.clip(np.array([0.55, 0.55, 0.52]) * jitter, 0, 1).tolist(), 0.9)
    if slot == "board":
        return _mat([0.9, 0.3, 0.03] if rng.uniform() < 0.6 else [0.85, 0.05, 0.03], 0.5)
    if slot in ("leg", "chassis", "base"):
        return _mat([0.05, 0.05, 0.05], 0.7)
    if slot in ("wood",):
        return _mat(np.clip(np.array([0.45, 0.3, 0.15]) * jitter, 0, 1).tolist(), 0.8)
    if slot in ("cardboard", "tape"):
        return _mat(np.clip(np.array([0.6, 0.45, 0.28]) * jitter, 0, 1).tolist(), 0.85)
    if slot == "rock":
        return _mat(np.clip(np.array([0.4, 0.38, 0.35]) * jitter, 0, 1).tolist(), 0.9)
    if slot == "sign":
        palette = [[0.8, 0.05, 0.05], [0.05, 0.2, 0.7], [0.9, 0.9, 0.9], [0.95, 0.75, 0.05], [0.05, 0.45, 0.15]]
        return _mat(palette[int(rng.integers(len(palette)))], 0.35)
    if slot in ("door", "roof"):
        return _mat(random_color(rng, (0.0, 0.3)), 0.7)
    if slot == "fur":
        return _mat(np.clip(np.array([0.45, 0.32, 0.2]) * jitter, 0, 1).tolist(), 0.8)
    if slot == "wall":
        return _mat(random_color(rng, (0.05, 0.35)), rng.uniform(0.6, 0.95))
    return _mat(random_color(rng), rng.uniform(0.3, 0.9))


@dataclass
class RoadPath:
    """The road's centre line as a function of arc length s (metres): straight or a circular arc."""

    curvature: float  # 1/radius, signed (left turn > 0); 0 = straight

    def point(self, s: np.ndarray | float, t: np.ndarray | float = 0.0) -> np.ndarray:
        """World (x, y) of the point at arc length s, lateral offset t (left of the centre line)."""
        s, t = np.asarray(s, dtype=np.float64), np.asarray(t, dtype=np.float64)
        if self.curvature == 0.0:
            return np.stack(np.broadcast_arrays(s, t), axis=-1)
        k = self.curvature
        theta = k * s
        r = 1.0 / k - t
        return np.stack([r * np.sin(theta), 1.0 / k - r * np.cos(theta)], axis=-1)

    def heading(self, s: np.ndarray | float) -> np.ndarray:
        return np.asarray(self.curvature * np.asarray(s, dtype=np.float64))


def strip(path: RoadPath, s0: float, s1: float, profile: list[tuple[float, float]], step: float = 2.0) -> tuple:
    """Extrude an open (t, z) cross-section along the path between s0 and s1: a surface strip."""
    length = max(s1 - s0, 1e-6)
    n = max(2, int(math.ceil(length / (step if path.curvature else length))) + 1)
    s = np.linspace(s0, s1, n)
    cols = len(profile)
    verts = []
    for t, z in profile:
        xy = path.point(s, t)
        verts.append(np.concatenate([xy, np.full((n, 1), z)], axis=1))
    v = np.stack(verts, axis=1).reshape(-1, 3)  # index = i * cols + j
    faces = []
    for i in range(n - 1):
        for j in range(cols - 1):
            a, b, c, d = i * cols + j, (i + 1) * cols + j, (i + 1) * cols + j + 1, i * cols + j + 1
            faces += [(a, b, c), (a, c, d)]
    f = np.asarray(faces, dtype=np.int64)
    return v, f


class StreetSampler:
    """Draws street scenes within the config ranges and the ``scenes/<layout>.yaml`` layout."""

    def __init__(
        self, scene_cfg: Any, conditions_cfg: Any, class_ids: dict[str, int], resolution: tuple[int, int]
    ) -> None:
        self.cfg = scene_cfg
        self.conditions_cfg = conditions_cfg
        self.class_ids = class_ids
        self.resolution = resolution
        self.layout = yaml.safe_load((SCENES_DIR / f"{scene_cfg.layout}.yaml").read_text())

    # -- helpers ---------------------------------------------------------------------------------
    def _weight(self, class_name: str) -> float:
        return float(self.cfg.class_weights.get(class_name, 1.0)) if self.cfg.class_weights else 1.0

    def _object(
        self,
        kind: str,
        shape: PartsMesh,
        xy: np.ndarray,
        z: float,
        yaw: float,
        night: bool,
        rng: np.random.Generator,
        labelled: bool = True,
    ) -> ObjectSpec:
        class_name = KIND_CLASS.get(kind) if labelled else None
        if class_name is not None and class_name not in self.class_ids:
            class_name = None
        slots = {slot: slot_material(slot, night=night, rng=rng) for slot in shape.slots}
        active = shape.params.get("active") if kind == "traffic_light" else None
        if active and f"lamp_{active}" in slots:  # the lit signal glows day and night
            lit = slots[f"lamp_{active}"]
            lit.emission_strength = 25.0 if night else 8.0
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

    @staticmethod
    def _to_world(obj: ObjectSpec, local: list[float]) -> np.ndarray:
        yaw = obj.rotation_euler[2]
        c, s = math.cos(yaw), math.sin(yaw)
        x, y, z = local
        return np.array([obj.location[0] + c * x - s * y, obj.location[1] + s * x + c * y, obj.location[2] + z])

    def _emitters(self, obj: ObjectSpec, shape: PartsMesh, night: bool, rng: np.random.Generator) -> list[LightSpec]:
        if not night:
            return []
        lights = []
        yaw = obj.rotation_euler[2]
        c, s = math.cos(yaw), math.sin(yaw)
        for emitter in shape.lights:
            pos = self._to_world(obj, list(emitter["position"]))
            d = np.asarray(emitter["direction"], dtype=np.float64)
            d_world = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1], d[2]])
            role = emitter["role"]
            if role == "headlight":
                lights.append(
                    LightSpec(
                        "SPOT",
                        pos.tolist(),
                        (pos + 10 * d_world).tolist(),
                        5500.0,
                        blackbody_rgb(5500),
                        float(rng.uniform(300, 800)),
                        math.radians(50),
                    )
                )
            elif role == "taillight":
                lights.append(
                    LightSpec(
                        "POINT",
                        pos.tolist(),
                        (pos + d_world).tolist(),
                        2000.0,
                        [1.0, 0.05, 0.02],
                        float(rng.uniform(2, 8)),
                        0.0,
                    )
                )
            else:  # street lamp
                kelvin = float(rng.uniform(2700, 4500))
                lights.append(
                    LightSpec(
                        "SPOT",
                        pos.tolist(),
                        (pos + 5 * d_world).tolist(),
                        kelvin,
                        blackbody_rgb(kelvin),
                        float(rng.uniform(800, 2500)),
                        math.radians(110),
                    )
                )
        return lights

    # -- sampling --------------------------------------------------------------------------------
    def sample(self, scene_index: int, seed: list[int], n_cameras: int, *, rng: np.random.Generator) -> SceneSpec:
        L = self.layout
        road_kind = str(rng.choice(list(self.cfg.road)))
        lanes = int(rng.integers(int(self.cfg.lanes[0]), int(self.cfg.lanes[1]) + 1))
        lane_w = _u(rng, L["road"]["lane_width"])
        park_w = float(L["road"]["parking_width"])
        half = lanes * lane_w / 2 + park_w
        walk = _u(rng, L["sidewalk"]["width"])
        kerb = float(L["sidewalk"]["kerb_height"])
        curvature = 0.0
        if road_kind == "curve":
            curvature = float(rng.choice([-1, 1])) / _u(rng, L["road"]["curve_radius"])
        path = RoadPath(curvature)
        s0, s1 = (float(v) for v in L["road"]["length"])
        cross_at = _u(rng, L["road"]["intersection_at"]) if road_kind == "intersection" else None

        # ego camera: forward lanes are right of the centre (t < 0); ride in the one next to the centre
        ego_t = -lane_w / 2 if lanes >= 2 else -lane_w / 2
        yaw_jitter = _u(rng, self.cfg.camera_yaw_jitter_deg)
        conditions = sample_conditions(self.conditions_cfg, yaw_jitter, rng=rng)
        night = conditions.night

        scenery: list[ObjectSpec] = []
        lights: list[LightSpec] = []
        road_mat = self._road_material(conditions, rng)
        walk_mat = _mat(random_color(rng, (0.0, 0.15)), 0.8)
        walk_mat.base_color = [0.45 * c + 0.3 for c in walk_mat.base_color]
        mark_mat = _mat([0.85, 0.85, 0.82], 0.4 if conditions.wetness == 0 else 0.1)

        def add_scenery(name: str, mesh: tuple, material: MaterialSpec) -> None:
            v, f = mesh
            scenery.append(
                ObjectSpec(
                    0, None, 0, {"kind": "scenery", "part": name}, material, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], v, f
                )
            )

        # road surface, kerbs and sidewalks (split around the crossing road)
        segments = [(s0, s1)]
        if cross_at is not None:
            cross_half = half
            segments = [(s0, cross_at - cross_half - walk), (cross_at + cross_half + walk, s1)]
        add_scenery("road", strip(path, s0, s1, [(-half, 0.0), (half, 0.0)]), road_mat)
        walks = []
        for a, b in segments:
            for side in (-1, 1):
                prof = [(side * half, 0.0), (side * half, kerb), (side * (half + walk), kerb)]
                walks.append(strip(path, a, b, prof[::-1] if side < 0 else prof))
        if cross_at is not None:
            cross = RoadPath(0.0)
            cv, cf = strip(cross, -120.0, 120.0, [(-half, -0.002), (half, -0.002)], step=240.0)
            cv = cv[:, [1, 0, 2]] * np.array([1, 1, 1]) + np.array([cross_at, 0.0, 0.0])
            add_scenery("cross_road", (cv, cf[:, ::-1]), road_mat)
            for a, b in ((-120.0, -half - walk), (half + walk, 120.0)):
                for side in (-1, 1):
                    prof = [(side * half, 0.0), (side * half, kerb), (side * (half + walk), kerb)]
                    if side < 0:
                        prof = prof[::-1]
                    v, f = strip(cross, a, b, prof, step=b - a)
                    walks.append((v[:, [1, 0, 2]] + np.array([cross_at, 0, 0]), f[:, ::-1]))
        add_scenery("sidewalks", merge(*walks), walk_mat)
        ground = float(L["ground_size"]) / 2
        add_scenery(
            "ground",
            (
                np.array(
                    [
                        [-ground, -ground, -0.05],
                        [ground, -ground, -0.05],
                        [ground, ground, -0.05],
                        [-ground, ground, -0.05],
                    ]
                ),
                np.array([[0, 1, 2], [0, 2, 3]]),
            ),
            _mat(random_color(rng, (0.2, 0.5)), 0.9),
        )
        add_scenery(
            "markings", merge(*self._markings(path, s0, s1, lanes, lane_w, park_w, half, cross_at, rng)), mark_mat
        )

        objects: list[ObjectSpec] = []
        occupied: list[tuple[float, float, float]] = []  # (x, y, radius) footprints

        def free(xy: np.ndarray, radius: float) -> bool:
            return all((xy[0] - x) ** 2 + (xy[1] - y) ** 2 > (radius + r) ** 2 for x, y, r in occupied)

        def place(
            kind: str,
            s: float,
            t: float,
            yaw_offset: float,
            z: float = 0.0,
            labelled: bool = True,
            shape: PartsMesh | None = None,
            tries: int = 1,
        ) -> ObjectSpec | None:
            shape = shape or STREET_SHAPES[kind](rng=rng)
            ext = shape.vertices.max(axis=0) - shape.vertices.min(axis=0)
            radius = 0.5 * float(max(ext[0], ext[1])) * 0.85
            xy = path.point(s, t)
            if not free(xy, radius):
                return None
            yaw = float(path.heading(s)) + yaw_offset
            obj = self._object(kind, shape, xy, z, yaw, night, rng, labelled)
            occupied.append((float(xy[0]), float(xy[1]), radius))
            (objects if obj.class_name else scenery).append(obj)
            lights.extend(self._emitters(obj, shape, night, rng))
            return obj

        occupied.append((0.0, float(ego_t), 3.0))  # the ego car itself
        forward_lanes = [
            -half + park_w + lane_w * (i + 0.5) for i in range(lanes) if -half + park_w + lane_w * (i + 0.5) < 0
        ] or [-lane_w / 2]
        oncoming_lanes = [
            -half + park_w + lane_w * (i + 0.5) for i in range(lanes) if -half + park_w + lane_w * (i + 0.5) > 0
        ]
        vehicle_types = {k: float(v) * self._weight(KIND_CLASS.get(k, k)) for k, v in self.cfg.vehicle_types.items()}
        for _ in range(_count(rng, self.cfg.moving_vehicles)):
            kind = _choose(vehicle_types, rng)
            oncoming = bool(oncoming_lanes) and rng.uniform() < 0.45
            if conditions.glare and night and oncoming_lanes:
                oncoming = True  # headlights in view
            t = float(rng.choice(oncoming_lanes if oncoming else forward_lanes))
            s = float(rng.uniform(8.0, 110.0))
            place(kind, s, t + rng.uniform(-0.3, 0.3), (math.pi if oncoming else 0.0) + rng.normal(0, 0.03))
        for _ in range(_count(rng, self.cfg.parked_vehicles)):
            kind = _choose({k: v for k, v in vehicle_types.items() if k != "bus"} or vehicle_types, rng)
            side = float(rng.choice([-1.0, 1.0]))
            place(
                kind,
                float(rng.uniform(4.0, 90.0)),
                side * (half - park_w / 2),
                (0.0 if side < 0 else math.pi) + rng.normal(0, 0.02),
            )
        for _ in range(_count(rng, self.cfg.pedestrians, self._weight("person"))):
            if cross_at is not None and rng.uniform() < 0.3:  # crossing at the zebra
                place(
                    "person",
                    cross_at - half - walk / 2 + rng.uniform(-1, 1),
                    rng.uniform(-half, half),
                    float(rng.choice([-1, 1])) * math.pi / 2 + rng.normal(0, 0.2),
                )
            else:
                side = float(rng.choice([-1.0, 1.0]))
                place(
                    "person",
                    float(rng.uniform(3.0, 70.0)),
                    side * (half + rng.uniform(0.4, walk - 0.4)),
                    float(rng.uniform(-math.pi, math.pi)),
                    z=kerb,
                )
        for _ in range(_count(rng, self.cfg.cyclists, self._weight("cyclist"))):
            place("cyclist", float(rng.uniform(6.0, 70.0)), -half + park_w + rng.uniform(0.3, 1.0), rng.normal(0, 0.05))
        construction = rng.uniform() < float(self.cfg.construction_zone_probability)
        if construction:
            self._construction_zone(place, forward_lanes, lane_w, rng)
        for _ in range(_count(rng, self.cfg.traffic_cones, self._weight("traffic_cone"))):
            side = float(rng.choice([-1.0, 1.0]))
            place(
                "traffic_cone",
                float(rng.uniform(5.0, 60.0)),
                side * (half - rng.uniform(0.2, park_w)),
                float(rng.uniform(0, 2 * math.pi)),
            )
        for _ in range(_count(rng, self.cfg.barriers, self._weight("barrier"))):
            side = float(rng.choice([-1.0, 1.0]))
            place("barrier", float(rng.uniform(8.0, 60.0)), side * (half - park_w / 2), rng.normal(0, 0.1))
        obstacle_types = dict(self.cfg.obstacle_types)
        for _ in range(_count(rng, self.cfg.obstacles, self._weight("obstacle"))):
            kind = _choose(obstacle_types, rng)
            place(
                kind, float(rng.uniform(12.0, 60.0)), ego_t + rng.uniform(-1.0, 1.0), float(rng.uniform(0, 2 * math.pi))
            )
        # furniture: street lamps, signs, traffic lights at the crossing, buildings
        spacing = _u(rng, self.cfg.street_lamp_spacing)
        for k, s in enumerate(np.arange(s0 + rng.uniform(0, spacing), s1, spacing)):
            side = 1.0 if k % 2 else -1.0
            if cross_at is not None and abs(s - cross_at) < half + walk + 1:
                continue
            # the lamp's arm (its +x) reaches over the road
            place("street_lamp", float(s), side * (half + 0.4), -side * math.pi / 2, z=kerb, labelled=False)
        for _ in range(_count(rng, self.cfg.traffic_signs)):
            side = float(rng.choice([-1.0, 1.0]))
            place("traffic_sign", float(rng.uniform(5.0, 80.0)), side * (half + 0.5), math.pi, z=kerb, labelled=False)
        if cross_at is not None:
            for side in (-1.0, 1.0):
                place("traffic_light", cross_at - half - walk + 0.5, side * (half + 0.5), math.pi, z=kerb)
        if self.cfg.buildings:
            self._buildings(path, s0, s1, half + walk, cross_at, scenery, night, rng)

        for i, obj in enumerate(objects, start=1):
            obj.instance_id = i
        lights.extend(self._sun(conditions))
        cameras = self._cameras(path, ego_t, yaw_jitter, n_cameras, rng)
        record = conditions.record()
        return SceneSpec(
            scene_index=scene_index,
            seed=seed,
            scene_name=self.cfg.name,
            container={
                "kind": "none",
                "road": road_kind,
                "lanes": lanes,
                "lane_width": lane_w,
                "curvature": curvature,
                "intersection_at": cross_at,
                "construction_zone": construction,
                "sidewalk_width": walk,
            },
            objects=objects,
            lights=lights,
            cameras=cameras,
            background=self._sky(conditions, rng),
            physics={"min_time": 0.0, "max_time": 0.0},
            conditions={"scene": self.cfg.name, **record},
            scenery=scenery,
            effects=record,
        )

    def _road_material(self, c: Conditions, rng: np.random.Generator) -> MaterialSpec:
        grey = float(rng.uniform(0.08, 0.2))
        wet = c.wetness
        return MaterialSpec(
            base_color=[grey * (1 - 0.5 * wet)] * 3,
            roughness=float(0.85 - 0.7 * wet),
            metallic=0.0,
            texture="noise",
            texture_scale=float(rng.uniform(0.5, 3.0)),
            second_color=[grey * 0.7 * (1 - 0.5 * wet)] * 3,
            puddles=c.puddle_coverage,
        )

    def _markings(
        self,
        path: RoadPath,
        s0: float,
        s1: float,
        lanes: int,
        lane_w: float,
        park_w: float,
        half: float,
        cross_at: float | None,
        rng: np.random.Generator,
    ) -> list[tuple]:
        L = self.layout["road"]
        w = float(L["marking_width"]) / 2
        dash, gap = (float(v) for v in L["dash"])
        meshes = []
        spans = [(s0, s1)] if cross_at is None else [(s0, cross_at - half - 4.0), (cross_at + half + 4.0, s1)]
        for a, b in spans:
            for edge in (-half + park_w, half - park_w):  # solid edge lines
                meshes.append(strip(path, a, b, [(edge - w, 0.003), (edge + w, 0.003)]))
            for i in range(1, lanes):  # dashed lane lines, solid centre line
                t = -half + park_w + i * lane_w
                if abs(t) < 1e-6:
                    meshes.append(strip(path, a, b, [(t - w, 0.003), (t + w, 0.003)]))
                    continue
                s = a + rng.uniform(0, dash + gap)
                while s + dash < b:
                    meshes.append(strip(path, s, s + dash, [(t - w, 0.003), (t + w, 0.003)], step=dash))
                    s += dash + gap
        if cross_at is not None:  # zebra crossing before the junction
            s_z = cross_at - half - 3.0
            for t in np.arange(-half + park_w + 0.3, half - park_w, 1.0):
                meshes.append(strip(path, s_z - 1.5, s_z + 1.5, [(t, 0.003), (t + 0.5, 0.003)], step=3.0))
        return meshes

    def _construction_zone(
        self, place: Any, forward_lanes: list[float], lane_w: float, rng: np.random.Generator
    ) -> None:
        """Close the outer forward lane: a taper of cones, barriers, and a worker."""
        t_lane = min(forward_lanes)
        start = float(rng.uniform(12.0, 30.0))
        for k in range(int(rng.integers(6, 12))):
            frac = min(1.0, k / 4)
            place("traffic_cone", start + 2.5 * k, t_lane - lane_w / 2 + frac * lane_w * 0.9, 0.0)
        for k in range(int(rng.integers(1, 3))):
            place("barrier", start + 12.0 + 4.0 * k, t_lane, math.pi / 2 + rng.normal(0, 0.05))
        if rng.uniform() < 0.7:
            place("person", start + 8.0, t_lane - 0.4, float(rng.uniform(-math.pi, math.pi)))

    def _buildings(
        self,
        path: RoadPath,
        s0: float,
        s1: float,
        edge: float,
        cross_at: float | None,
        scenery: list[ObjectSpec],
        night: bool,
        rng: np.random.Generator,
    ) -> None:
        B = self.layout["buildings"]
        for side in (-1.0, 1.0):
            s = s0
            while s < s1:
                width, depth, height = _u(rng, B["width"]), _u(rng, B["depth"]), _u(rng, B["height"])
                centre = s + width / 2
                if cross_at is not None and abs(centre - cross_at) < edge + width / 2 + 2:
                    s += width + _u(rng, B["gap"])
                    continue
                shape = make_building(rng=rng, width=width, depth=depth, height=height)
                t = side * (edge + _u(rng, B["setback"]) + depth / 2)
                xy = path.point(centre, t)
                yaw = float(path.heading(centre)) - side * math.pi / 2  # facade (+x) faces the road
                obj = self._object("building", shape, xy, 0.0, yaw, night, rng, labelled=False)
                scenery.append(obj)
                s += width + _u(rng, B["gap"])

    def _sun(self, c: Conditions) -> list[LightSpec]:
        if c.sun_elevation_deg <= 0 or c.glare:
            return []  # at night no sun; with glare the sky's own sun disc lights the scene
        d = sun_direction(c.sun_elevation_deg, c.sun_azimuth_deg)
        strength = 4.0 * math.sin(math.radians(c.sun_elevation_deg)) ** 0.5
        if c.weather in ("overcast", "rain", "fog"):
            strength *= 0.15
        kelvin = 3000.0 + 2800.0 * min(1.0, c.sun_elevation_deg / 30.0)
        return [LightSpec("SUN", (100 * d).tolist(), [0.0, 0.0, 0.0], kelvin, blackbody_rgb(kelvin), strength, 0.01)]

    def _sky(self, c: Conditions, rng: np.random.Generator) -> dict[str, Any]:
        overcast = c.weather in ("overcast", "rain", "fog")
        return {
            "sky": {
                "sun_elevation_deg": c.sun_elevation_deg,
                "sun_azimuth_deg": c.sun_azimuth_deg,
                "sun_disc": bool(c.glare and not c.night),
                "air_density": float(rng.uniform(0.8, 1.5)),
                "dust_density": float(rng.uniform(2.0, 6.0) if overcast else rng.uniform(0.2, 2.0)),
                "strength": 0.06 if overcast else 0.25,
                "overcast": overcast,
            },
            "world_color": [0.5, 0.52, 0.55],
            "world_strength": 0.008 if c.night else 0.3,
            "fog_density": c.fog_density,
            "exposure_ev": c.exposure_ev,
            "light_tree": True,
        }

    def _cameras(
        self, path: RoadPath, ego_t: float, yaw_jitter: float, n_cameras: int, rng: np.random.Generator
    ) -> list[CameraSpec]:
        width, height = self.resolution
        hfov = _u(rng, self.cfg.camera_hfov_deg)
        K = intrinsics_from_hfov(hfov, width, height)
        cam_h = _u(rng, self.cfg.camera_height)
        pitch = math.radians(_u(rng, self.cfg.camera_pitch_deg))
        roll = math.radians(_u(rng, self.cfg.camera_roll_deg))
        base = path.point(0.0, ego_t)
        heading = float(path.heading(0.0)) + math.radians(yaw_jitter)
        rig = [float(v) for v in self.cfg.rig_yaw_deg]
        cameras = []
        for i in range(n_cameras):
            yaw = heading + math.radians(rig[i % len(rig)])
            cam_to_world = vehicle_camera(np.array([base[0], base[1], cam_h]), yaw, pitch, roll)
            cameras.append(
                CameraSpec(
                    K.tolist(),
                    width,
                    height,
                    cam_to_world.tolist(),
                    {
                        "hfov_deg": hfov,
                        "height_m": cam_h,
                        "pitch_deg": math.degrees(pitch),
                        "roll_deg": math.degrees(roll),
                        "yaw_deg": math.degrees(yaw),
                        "rig_index": i % len(rig),
                    },
                )
            )
        return cameras


def vehicle_camera(position: np.ndarray, yaw: float, pitch: float, roll: float) -> np.ndarray:
    """cam_to_world (OpenCV axes) of a forward camera: yaw about world z, pitch up > 0, roll about the axis."""
    cy, sy = math.cos(yaw), math.sin(yaw)
    forward = np.array([cy * math.cos(pitch), sy * math.cos(pitch), math.sin(pitch)])
    left = np.array([-sy, cy, 0.0])
    up = np.cross(forward, left)
    right, down = -left, -up
    cr, sr = math.cos(roll), math.sin(roll)
    right, down = cr * right + sr * down, -sr * right + cr * down
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, down, forward, position
    return m
