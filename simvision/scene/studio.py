"""Product shots (``scene=studio``): one to a few objects on a seamless photographic sweep, lit by softboxes.

A catalogue photo of a traffic cone, a car or a barrier is a picture a detector meets too: 12 of the 83 cone photos
we measure against (docs/realism.md) are cones on a white sweep, which no street scene gives. A studio scene is a
sweep (a floor curving up into a back wall, one continuous surface, so no horizon and no corner), the objects in a
row on it, each turned freely (a share of the cones lying on their side), two or three area lights (key, fill and
an overhead softbox) and a camera framing the group. Every size is in units of the group's size, so the same
config frames a 30 cm cone and a bus. The objects are the street's procedural assets and materials
(:mod:`simvision.scene.street.assets`): labels, records and classes are the street's.

Every value a scene draws is recorded: the objects' poses and parameters in their records, the sweep, the lights
and the camera in the frame's ``container.studio``, ``lights`` and camera record, and the drawn values a
per-condition breakdown can split by (sweep colour, light count and strengths, exposure) in ``conditions``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from omegaconf import DictConfig

from simvision.config.checks import ConfigError, check_probability, check_range, check_weights
from simvision.labels.geometry import intrinsics_from_hfov, look_at
from simvision.scene.base import SceneType
from simvision.scene.color import blackbody_rgb
from simvision.scene.draws import uniform_in
from simvision.scene.spec import CameraSpec, LightSpec, MaterialSpec, ObjectSpec, SceneSpec
from simvision.scene.street.assets import KIND_CLASS, STREET_SHAPES
from simvision.scene.street.draws import weighted_choice
from simvision.scene.street.dressing import wear_cone
from simvision.scene.street.furniture import CONE_COLORS, color_cones, stack_cones
from simvision.scene.street.knocked import lying
from simvision.scene.street.materials import slot_material
from simvision.scene.street.meshes import PartsMesh
from simvision.scene.street.placement import ground_reach, local_to_world

COVE_SEGMENTS = 48  # facets of the sweep's quarter-circle cove (smooth enough for a flat-shaded mesh)
# the camera's bearing may turn this far from the sweep's axis at most (degrees, the bearing plus half the
# horizontal field of view): past it the view would run along the wall towards its edge
MAX_VIEW_TURN_DEG = 70.0


@dataclass
class StudioBackdropConfig:
    # the sweep's reflectance (grey level): photographers' white paper is 0.8-0.9
    albedo: list[float] = field(default_factory=lambda: [0.75, 0.9])
    # share of sweeps in a colour (a pale tint of a random hue) instead of white / grey
    tinted_probability: float = 0.15
    tint_saturation: list[float] = field(default_factory=lambda: [0.1, 0.35])
    # the cove's radius and the wall's distance behind the group's centre, in units of the group's size
    cove_radius: list[float] = field(default_factory=lambda: [0.6, 1.5])
    wall_distance: list[float] = field(default_factory=lambda: [1.2, 3.0])
    roughness: list[float] = field(default_factory=lambda: [0.6, 0.95])


@dataclass
class StudioLightsConfig:
    # area lights: a key light, a fill light on the other side, and with 3 an overhead softbox
    count: list[int] = field(default_factory=lambda: [2, 3])
    # the key light's irradiance on the group (W/m^2: its power is this times pi d^2 at its distance d)
    key_irradiance: list[float] = field(default_factory=lambda: [3.0, 6.0])
    fill_ratio: list[float] = field(default_factory=lambda: [0.2, 0.6])  # the fill's (and overhead's) share of the key
    size: list[float] = field(default_factory=lambda: [1.0, 3.0])  # softbox side, in units of the group's size
    distance: list[float] = field(default_factory=lambda: [2.0, 4.0])  # from the group's centre, same units
    elevation_deg: list[float] = field(default_factory=lambda: [15.0, 60.0])
    # the key light's bearing from the camera's, either side (degrees); the fill stands on the other side
    turn_deg: list[float] = field(default_factory=lambda: [25.0, 70.0])
    temperature_k: list[float] = field(default_factory=lambda: [4800.0, 6500.0])
    # a light above the group aimed at the sweep behind it (how a product shot's background goes white while the
    # object keeps its colour): its irradiance on the sweep as a share of the key's; [0, 0] = none
    backdrop_ratio: list[float] = field(default_factory=lambda: [2.0, 6.0])
    # a uniform white world (the studio's bounce light through the open front), its strength
    ambient: list[float] = field(default_factory=lambda: [0.2, 0.8])


@dataclass
class StudioCameraConfig:
    cameras_per_scene: int = 1
    hfov_deg: list[float] = field(default_factory=lambda: [25.0, 50.0])  # product lenses are long
    # the camera's pitch down to the group (degrees) and its bearing from the sweep's axis (0: facing the wall)
    elevation_deg: list[float] = field(default_factory=lambda: [0.0, 30.0])
    azimuth_deg: list[float] = field(default_factory=lambda: [-30.0, 30.0])
    roll_deg: list[float] = field(default_factory=lambda: [-3.0, 3.0])
    # how far the group reaches from the frame's centre towards its nearest edge (1: touching it); a catalogue
    # shot fills most of the frame
    fill: list[float] = field(default_factory=lambda: [0.65, 0.95])
    look_at_jitter: float = 0.05  # in units of the group's size


@dataclass
class StudioSceneConfig:
    """Product shots: street assets on a photographic sweep. Counts are [low, high] per scene."""

    _target_: str = "simvision.scene.studio.StudioScene"
    name: str = "studio"
    # street asset kinds (simvision/scene/street/assets.py) and their weights; each must be a labelled class
    objects: dict[str, float] = field(default_factory=lambda: {"traffic_cone": 1.0})
    count: list[int] = field(default_factory=lambda: [1, 2])
    # the gap between neighbours in the row, in units of the mean object width (their footprints never touch)
    gap: list[float] = field(default_factory=lambda: [0.1, 0.8])
    cones_lying: float = 0.15  # share of traffic cones lying on their side (knocked.lying: their resting pose)
    # share of the standing traffic cones that are a stack of stack_size nested cones (one labelled cone)
    cone_stacks: float = 0.15
    stack_size: list[int] = field(default_factory=lambda: [2, 5])
    # traffic cones' body colours (the street's scene.cone_colors: weights over furniture.CONE_COLORS); empty = orange
    cone_colors: dict[str, float] = field(
        default_factory=lambda: {"orange": 0.6, "red_orange": 0.15, "red": 0.1, "salmon": 0.1, "pink": 0.05}
    )
    # traffic cones' wear (the street's scene.cone_wear: 0 new, 1 years on site); null = the plain material
    cone_wear: list[float] | None = field(default_factory=lambda: [0.0, 0.25])
    exposure_ev: list[float] = field(default_factory=lambda: [-1.0, 0.0])
    # share of frames cut out as a catalogue shows them: every pixel no object covers turned white, keeping
    # cutout_keep of its distance from white (0: pure white; more keeps the shadow and the sweep's shading)
    cutout_probability: float = 0.5
    cutout_keep: list[float] = field(default_factory=lambda: [0.0, 0.4])
    backdrop: StudioBackdropConfig = field(default_factory=StudioBackdropConfig)
    lights: StudioLightsConfig = field(default_factory=StudioLightsConfig)
    camera: StudioCameraConfig = field(default_factory=StudioCameraConfig)


def validate_studio(cfg: Any, class_ids: dict[str, int]) -> None:
    """Raise :class:`ConfigError` naming the first bad ``scene.*`` field of a studio scene."""
    check_weights(cfg.objects, "scene.objects", STREET_SHAPES)
    for kind, weight in cfg.objects.items():
        name = KIND_CLASS.get(kind)
        if float(weight) > 0 and (name is None or name not in class_ids):
            raise ConfigError(
                f"scene.objects.{kind}: {'its class ' + repr(name) if name else 'it has no class and'} "
                "is not in the class table, so it would not be labelled"
            )
    check_range(cfg.count, "scene.count", minimum=1, integer=True)
    check_range(cfg.gap, "scene.gap", minimum=0.0)
    check_probability(cfg.cones_lying, "scene.cones_lying")
    if cfg.cone_colors:
        check_weights(cfg.cone_colors, "scene.cone_colors", CONE_COLORS)
    check_probability(cfg.cone_stacks, "scene.cone_stacks")
    check_range(cfg.stack_size, "scene.stack_size", minimum=2, integer=True)
    if cfg.cone_wear is not None:
        check_range(cfg.cone_wear, "scene.cone_wear", minimum=0.0)
        if float(cfg.cone_wear[1]) > 1.0:
            raise ConfigError(f"scene.cone_wear: at most 1 (years on site), got {list(cfg.cone_wear)}")
    check_range(cfg.exposure_ev, "scene.exposure_ev", minimum=-10.0)
    check_probability(cfg.cutout_probability, "scene.cutout_probability")
    check_range(cfg.cutout_keep, "scene.cutout_keep", minimum=0.0)
    if float(cfg.cutout_keep[1]) > 1.0:
        raise ConfigError(f"scene.cutout_keep: at most 1 (the rendered sweep kept), got {list(cfg.cutout_keep)}")
    b = cfg.backdrop
    check_range(b.albedo, "scene.backdrop.albedo", minimum=0.0)
    if float(b.albedo[1]) > 1.0:
        raise ConfigError(f"scene.backdrop.albedo: a reflectance is at most 1, got {list(b.albedo)}")
    check_probability(b.tinted_probability, "scene.backdrop.tinted_probability")
    check_range(b.tint_saturation, "scene.backdrop.tint_saturation", minimum=0.0)
    check_range(b.cove_radius, "scene.backdrop.cove_radius", minimum=0.05)
    check_range(b.wall_distance, "scene.backdrop.wall_distance", minimum=0.6)
    check_range(b.roughness, "scene.backdrop.roughness", minimum=0.0)
    lights = cfg.lights
    check_range(lights.count, "scene.lights.count", minimum=1, integer=True)
    if int(lights.count[1]) > 3:
        raise ConfigError(f"scene.lights.count: at most 3 (key, fill, overhead), got {list(lights.count)}")
    for key in ("key_irradiance", "fill_ratio", "backdrop_ratio", "ambient"):
        check_range(lights[key], f"scene.lights.{key}", minimum=0.0)
    check_range(lights.size, "scene.lights.size", minimum=0.01)
    check_range(lights.distance, "scene.lights.distance", minimum=0.6)
    check_range(lights.elevation_deg, "scene.lights.elevation_deg", minimum=0.0)
    check_range(lights.turn_deg, "scene.lights.turn_deg", minimum=0.0)
    check_range(lights.temperature_k, "scene.lights.temperature_k", minimum=1000.0)
    cam = cfg.camera
    if int(cam.cameras_per_scene) < 1:
        raise ConfigError(f"scene.camera.cameras_per_scene: at least 1, got {cam.cameras_per_scene}")
    check_range(cam.hfov_deg, "scene.camera.hfov_deg", minimum=1.0)
    check_range(cam.elevation_deg, "scene.camera.elevation_deg", minimum=-10.0)
    if float(cam.elevation_deg[1]) > 80.0:
        raise ConfigError(f"scene.camera.elevation_deg: at most 80, got {list(cam.elevation_deg)}")
    check_range(cam.azimuth_deg, "scene.camera.azimuth_deg", minimum=-90.0)
    turn = max(abs(float(a)) for a in cam.azimuth_deg) + float(cam.hfov_deg[1]) / 2
    if turn > MAX_VIEW_TURN_DEG:
        raise ConfigError(
            f"scene.camera.azimuth_deg: the bearing plus half the widest field of view reaches {turn:g} degrees "
            f"from the sweep's axis (at most {MAX_VIEW_TURN_DEG:g}: the view would run off the wall)"
        )
    check_range(cam.roll_deg, "scene.camera.roll_deg", minimum=-45.0)
    check_range(cam.fill, "scene.camera.fill", minimum=0.05)
    if float(cam.fill[1]) > 1.5:
        raise ConfigError(f"scene.camera.fill: at most 1.5 (the group cut by the frame), got {list(cam.fill)}")
    if float(cam.look_at_jitter) < 0:
        raise ConfigError(f"scene.camera.look_at_jitter: must be >= 0, got {cam.look_at_jitter}")


def sweep_mesh(width: float, wall_y: float, front_y: float, radius: float, height: float) -> tuple[np.ndarray, Any]:
    """A seamless sweep facing -y: a floor at z = 0 from ``front_y`` to where the cove starts, a quarter circle of
    ``radius`` rising to a vertical wall at ``wall_y`` up to ``height``, extruded along x over ``width`` (an open
    sheet, wound so its face points at the camera side)."""
    theta = np.linspace(0.0, math.pi / 2, COVE_SEGMENTS + 1)
    cove = np.column_stack([wall_y - radius + radius * np.sin(theta), radius - radius * np.cos(theta)])
    profile = np.vstack([[front_y, 0.0], cove, [wall_y, height]])
    n = len(profile)
    vertices = np.zeros((2 * n, 3))
    for k, x in enumerate((-width / 2, width / 2)):
        vertices[k * n : (k + 1) * n] = np.column_stack([np.full(n, x), profile])
    faces = []
    for i in range(n - 1):
        a, b, c, d = i, i + 1, n + i + 1, n + i
        faces += [[a, c, b], [a, d, c]]  # normals towards -y / +z: the side the camera is on
    return vertices, np.asarray(faces, dtype=np.int64)


def _backdrop_color(cfg: Any, rng: np.random.Generator) -> tuple[list[float], str]:
    albedo = uniform_in(rng, cfg.albedo)
    if rng.uniform() >= float(cfg.tinted_probability):
        return [albedo] * 3, "white"
    hue, saturation = rng.uniform(), uniform_in(rng, cfg.tint_saturation)
    # a pale tint of the hue at the drawn reflectance (HSV with value = albedo)
    rgb = np.array([abs(((hue * 6 + k) % 6) - 3) - 1 for k in (0, 4, 2)]).clip(0, 1)
    return [float(albedo * (1 - saturation + saturation * c)) for c in rgb], "tinted"


class StudioSampler:
    """Draws studio scenes; plain numpy, no Blender."""

    def __init__(self, cfg: Any, class_ids: dict[str, int], resolution: tuple[int, int]) -> None:
        self.cfg = cfg
        self.class_ids = class_ids
        self.width, self.height = int(resolution[0]), int(resolution[1])

    def _objects(self, seed: list[int], rng: np.random.Generator) -> tuple[list[ObjectSpec], dict[str, int]]:
        cfg = self.cfg
        n = int(rng.integers(int(cfg.count[0]), int(cfg.count[1]) + 1))
        drawn: list[tuple[str, PartsMesh]] = []
        for _ in range(n):
            kind = weighted_choice(dict(cfg.objects), rng)
            drawn.append((kind, STREET_SHAPES[kind](rng=rng)))
        objects, lying_count, stacks = [], 0, 0
        for kind, shape in drawn:
            vertices = shape.vertices
            asset: dict[str, Any] = {"kind": "procedural", "shape": kind, "params": shape.params}
            asset["licence"] = "GPL-3.0-or-later"
            yaw = float(rng.uniform(0.0, 2 * math.pi))
            if kind == "traffic_cone" and rng.uniform() < float(cfg.cones_lying):
                vertices, deg = lying(shape.vertices, shape.faces)
                asset["knocked_over"] = {"tilt_deg": deg}
                lying_count += 1
                # shown from the side, as a photographer lays it: its axis (x once lying) within 50 degrees of
                # across the view, tip left or right
                yaw = float(rng.uniform(-0.87, 0.87) + math.pi * (yaw > math.pi))
            elif kind == "traffic_cone" and rng.uniform() < float(cfg.cone_stacks):
                count = int(rng.integers(int(cfg.stack_size[0]), int(cfg.stack_size[1]) + 1))
                shape = stack_cones(shape, count, float(rng.uniform(0.005, 0.03)))
                vertices = shape.vertices
                asset["params"] = shape.params
                stacks += 1
            slots = {slot: slot_material(slot, night=False, rng=rng) for slot in shape.slots}
            class_name = KIND_CLASS[kind]
            objects.append(
                ObjectSpec(
                    instance_id=len(objects) + 1,
                    class_name=class_name,
                    category_id=self.class_ids[class_name],
                    asset=asset,
                    material=next(iter(slots.values())),
                    location=[0.0, 0.0, 0.0],
                    rotation_euler=[0.0, 0.0, yaw],
                    vertices=vertices,
                    faces=shape.faces,
                    slot_materials=slots,
                    face_slots=shape.face_slots,
                )
            )
        if cfg.cone_colors:  # before the wear, which keeps the body's colour
            color_cones(objects, cfg.cone_colors, seed)
        if cfg.cone_wear is not None:
            for obj in objects:
                if obj.asset["shape"] == "traffic_cone":
                    wear_cone(obj, cfg.cone_wear, rng)
        return objects, {"lying": lying_count, "stacks": stacks}

    def _arrange(self, objects: list[ObjectSpec], rng: np.random.Generator) -> None:
        """A row along x, centred on the origin, neighbours ``gap`` (in mean object widths) apart, each a little
        in front of or behind the row's line."""
        reach = [ground_reach(o.vertices) for o in objects]
        gap = uniform_in(rng, self.cfg.gap) * 2 * float(np.mean(reach))
        x = np.cumsum([0.0] + [reach[i - 1] + gap + reach[i] for i in range(1, len(reach))])
        x -= (x[0] + x[-1]) / 2
        for obj, xi, r in zip(objects, x, reach, strict=True):
            obj.location = [float(xi), float(rng.uniform(-0.2, 0.2) * r), 0.0]

    def sample(self, scene_index: int, seed: list[int], n_views: int, *, rng: np.random.Generator) -> SceneSpec:
        cfg = self.cfg
        objects, counts = self._objects(seed, rng)
        self._arrange(objects, rng)
        points = _group_points(objects)
        lo, hi = points.min(axis=0), points.max(axis=0)
        centre = (lo + hi) / 2
        size = float(max(hi - lo))  # the group's size: every distance below is in these units

        b = cfg.backdrop
        color, tone = _backdrop_color(b, rng)
        cove = uniform_in(rng, b.cove_radius) * size
        wall_y = float(hi[1]) + uniform_in(rng, b.wall_distance) * size
        cameras, far = self._cameras(points, size, n_views, rng)
        reach = far + wall_y + size  # the farthest any camera ray needs the sweep to go
        turn = math.radians(MAX_VIEW_TURN_DEG)
        vertices, faces = sweep_mesh(2 * reach * math.tan(turn) + 2 * size, wall_y, -reach, cove, 2 * reach + size)
        sweep_material = MaterialSpec(base_color=color, roughness=uniform_in(rng, b.roughness), metallic=0.0)
        sweep = ObjectSpec(
            0, None, 0, {"kind": "scenery", "part": "backdrop"}, sweep_material, [0.0] * 3, [0.0] * 3, vertices, faces
        )
        lights, light_record = self._lights(centre, size, cameras[0], rng)
        backdrop_ratio = uniform_in(rng, cfg.lights.backdrop_ratio)
        if backdrop_ratio > 0:  # above the group, aimed at the cove behind it
            source = np.array([centre[0], (centre[1] + wall_y) / 2, hi[2] + size])
            aim = np.array([centre[0], wall_y, 0.5 * cove])
            reach_m = float(np.linalg.norm(aim - source))
            energy = backdrop_ratio * light_record["key_irradiance"] * math.pi * reach_m**2
            temperature = light_record["temperature_k"]
            lights.append(
                LightSpec(
                    "AREA", source.tolist(), aim.tolist(), temperature, blackbody_rgb(temperature), energy, 2 * size
                )
            )
        light_record["backdrop_ratio"] = backdrop_ratio
        ambient = uniform_in(rng, cfg.lights.ambient)
        exposure = uniform_in(rng, cfg.exposure_ev)
        keep = uniform_in(rng, cfg.cutout_keep) if rng.uniform() < float(cfg.cutout_probability) else None
        studio = {
            "backdrop": {"color": color, "tone": tone, "cove_radius_m": cove, "wall_y_m": wall_y},
            "group_size_m": size,
            "group_centre": centre.tolist(),
            **light_record,
        }
        conditions = {
            "scene": cfg.name,
            "backdrop": tone,
            "backdrop_albedo": float(max(color)),
            "lights": light_record["count"],
            "backdrop_ratio": backdrop_ratio,
            "key_irradiance": light_record["key_irradiance"],
            "fill_ratio": light_record["fill_ratio"],
            "ambient": ambient,
            "exposure_ev": exposure,
            "cutout": keep is not None,
            "cutout_keep": keep,
            "objects": len(objects),
            **counts,
        }
        return SceneSpec(
            scene_index=scene_index,
            seed=seed,
            scene_name=cfg.name,
            container={"kind": "none", "studio": studio},
            objects=objects,
            lights=lights,
            cameras=cameras,
            background={"world_color": [1.0, 1.0, 1.0], "world_strength": ambient, "exposure_ev": exposure},
            physics={"min_time": 0.0, "max_time": 0.0},
            conditions=conditions,
            scenery=[sweep],
            effects=None if keep is None else {"cutout_keep": keep},
        )

    def _cameras(
        self, points: np.ndarray, size: float, n_views: int, rng: np.random.Generator
    ) -> tuple[list[CameraSpec], float]:
        """The views of the group (its world vertices ``points``), and how far the farthest camera stands behind
        the group's centre (-y). Each camera stands where the group reaches ``fill`` of the way from the frame's
        centre to its nearest edge (found by moving along the drawn bearing: the projection shrinks as 1/distance)."""
        cam = self.cfg.camera
        lo, hi = points.min(axis=0), points.max(axis=0)
        centre, radius = (lo + hi) / 2, float(np.linalg.norm(hi - lo)) / 2
        cameras, far = [], 0.0
        for _ in range(n_views):
            hfov = uniform_in(rng, cam.hfov_deg)
            K = intrinsics_from_hfov(hfov, self.width, self.height)
            fill = uniform_in(rng, cam.fill)
            elevation = math.radians(uniform_in(rng, cam.elevation_deg))
            azimuth = math.radians(uniform_in(rng, cam.azimuth_deg))
            roll = uniform_in(rng, cam.roll_deg)
            target = centre + rng.uniform(-1.0, 1.0, 3) * float(cam.look_at_jitter) * size * np.array([1, 1, 0.5])
            offset = np.array(
                [
                    math.cos(elevation) * math.sin(azimuth),
                    -math.cos(elevation) * math.cos(azimuth),
                    math.sin(elevation),
                ]
            )
            distance = radius * math.sqrt(1.0 + (K[0, 0] / (fill * min(self.width, self.height) / 2.0)) ** 2)
            for _ in range(6):
                position = target + distance * offset
                position[2] = max(float(position[2]), 0.02 * size)  # never below the floor
                pose = look_at(position, target, math.radians(roll))
                reach = _reach_in_frame(points, pose, K, self.width, self.height)
                distance = max(distance * reach / fill, 1.05 * radius)
            far = max(far, -float(position[1]))
            sampled = {
                "hfov_deg": hfov,
                "fill": fill,
                "framed": reach,
                "distance": float(np.linalg.norm(position - target)),
                "elevation_deg": math.degrees(elevation),
                "azimuth_deg": math.degrees(azimuth),
                "roll_deg": roll,
                "look_at": target.tolist(),
            }
            cameras.append(CameraSpec(K.tolist(), self.width, self.height, pose.tolist(), sampled))
        return cameras, far

    def _lights(
        self, centre: np.ndarray, size: float, camera: CameraSpec, rng: np.random.Generator
    ) -> tuple[list[LightSpec], dict[str, Any]]:
        """Key and fill either side of the first camera's bearing, and with 3 lights an overhead softbox."""
        cfg = self.cfg.lights
        count = int(rng.integers(int(cfg.count[0]), int(cfg.count[1]) + 1))
        cam_xy = np.asarray(camera.cam_to_world)[:2, 3] - centre[:2]
        bearing = math.atan2(float(cam_xy[1]), float(cam_xy[0]))
        key = uniform_in(rng, cfg.key_irradiance)
        fill_ratio = uniform_in(rng, cfg.fill_ratio)
        temperature = uniform_in(rng, cfg.temperature_k)
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        lights = []
        for i in range(count):
            distance = uniform_in(rng, cfg.distance) * size
            softbox = uniform_in(rng, cfg.size) * size
            if i < 2:  # key, then fill on the other side
                turn = math.radians(uniform_in(rng, cfg.turn_deg)) * (side if i == 0 else -side)
                elevation = math.radians(uniform_in(rng, cfg.elevation_deg))
            else:  # overhead, a little towards the camera
                turn, elevation = 0.0, math.radians(80.0)
            heading = bearing + turn
            direction = np.array(
                [
                    math.cos(elevation) * math.cos(heading),
                    math.cos(elevation) * math.sin(heading),
                    math.sin(elevation),
                ]
            )
            irradiance = key if i == 0 else key * fill_ratio
            lights.append(
                LightSpec(
                    "AREA",
                    (centre + distance * direction).tolist(),
                    centre.tolist(),
                    temperature,
                    blackbody_rgb(temperature),
                    float(irradiance * math.pi * distance**2),
                    softbox,
                )
            )
        record = {
            "count": count,
            "key_irradiance": key,
            "fill_ratio": fill_ratio,
            "key_side": side,
            "temperature_k": temperature,
        }
        return lights, record


def _group_points(objects: list[ObjectSpec]) -> np.ndarray:
    """The objects' vertices in the world (turned about z and moved to their locations)."""
    return np.vstack([local_to_world(o.vertices, o.location, float(o.rotation_euler[2])) for o in objects])


def _reach_in_frame(points: np.ndarray, cam_to_world: np.ndarray, K: np.ndarray, width: int, height: int) -> float:
    """How far the points reach from the image centre towards its edges: the largest of |u - cx| / (w / 2) and
    |v - cy| / (h / 2) over the points (1 = touching an edge; points behind the camera count as far out)."""
    world_to_cam = np.linalg.inv(cam_to_world)
    p = points @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    if (p[:, 2] <= 1e-6).any():
        return 10.0
    uv = p[:, :2] / p[:, 2:] * [K[0, 0], K[1, 1]]
    return float(max(np.abs(uv[:, 0]).max() / (width / 2.0), np.abs(uv[:, 1]).max() / (height / 2.0)))


class StudioScene(SceneType):
    name = "studio"
    schema = StudioSceneConfig

    def __init__(self, cfg: DictConfig, class_ids: dict[str, int], resolution: tuple[int, int]) -> None:
        super().__init__(cfg, class_ids, resolution)
        self.sampler = StudioSampler(cfg, class_ids, resolution)

    @classmethod
    def validate(cls, cfg: DictConfig, class_ids: dict[str, int]) -> None:
        super().validate(cfg, class_ids)
        validate_studio(cfg, class_ids)

    def views_per_scene(self) -> int:
        return int(self.cfg.camera.cameras_per_scene)

    def sample(self, scene_index: int, seed: list[int], n_views: int, *, rng: np.random.Generator) -> SceneSpec:
        return self.sampler.sample(scene_index, seed, n_views, rng=rng)


SCENE_TYPE: Any = StudioScene

__all__ = ["SCENE_TYPE", "StudioScene", "StudioSceneConfig", "sweep_mesh", "validate_studio"]
