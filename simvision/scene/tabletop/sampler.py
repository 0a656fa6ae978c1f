"""Tabletop / bin-picking sampler: config + rng -> SceneSpec (no Blender)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from simvision.labels.geometry import intrinsics_from_hfov, look_at
from simvision.scene.assets import Asset, load_manifest, load_mesh
from simvision.scene.base import load_layout
from simvision.scene.color import blackbody_rgb, random_color
from simvision.scene.draws import uniform_in
from simvision.scene.infinigen_library import (
    MaterialVariant,
    Variant,
    extras,
    load_variant_mesh,
    room_materials,
    variants,
)
from simvision.scene.shapes import CLASS_SHAPES, DISTRACTOR_SHAPES, make_shape
from simvision.scene.spec import CameraSpec, LightSpec, MaterialSpec, ObjectSpec, SceneSpec
from simvision.scene.tabletop.config import (
    WALLS,
    WINDOW_TOP_GAP_M,
    check_object_size,
    check_pool,
    keep_on_table,
)
from simvision.scene.tabletop.food import DISHES, DRINKS, Heightfield, dish, dish_material

log = logging.getLogger("simvision")


def _integer(rng: np.random.Generator, bounds: Any) -> int:
    return int(rng.integers(int(bounds[0]), int(bounds[1]) + 1))


def sample_material(cfg: Any, *, rng: np.random.Generator) -> MaterialSpec:
    """Principled-BSDF parameters, optionally with a procedural texture mixing two colours."""
    textured = rng.uniform() < cfg.texture_probability and len(cfg.textures) > 0
    return MaterialSpec(
        base_color=random_color(rng),
        roughness=uniform_in(rng, cfg.roughness),
        metallic=1.0 if rng.uniform() < cfg.metallic_probability else 0.0,
        texture=str(rng.choice(list(cfg.textures))) if textured else None,
        texture_scale=uniform_in(rng, cfg.texture_scale),
        second_color=random_color(rng) if textured else None,
    )


def sample_lights(cfg: Any, target: np.ndarray, *, rng: np.random.Generator) -> list[LightSpec]:
    lights = []
    for _ in range(_integer(rng, cfg.count)):
        kind = str(rng.choice(list(cfg.types)))
        distance = uniform_in(rng, cfg.distance)
        elevation = np.radians(rng.uniform(30, 85))
        azimuth = rng.uniform(0, 2 * np.pi)
        location = target + distance * np.array(
            [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)]
        )
        temperature = uniform_in(rng, cfg.temperature_k)
        energy = uniform_in(rng, cfg.sun_strength if kind == "SUN" else cfg.energy_w)
        size = float(rng.uniform(0.1, 0.6)) if kind == "AREA" else float(rng.uniform(0.6, 1.2))
        lights.append(
            LightSpec(kind, location.tolist(), target.tolist(), temperature, blackbody_rgb(temperature), energy, size)
        )
    return lights


def sample_cameras(
    cfg: Any,
    width: int,
    height: int,
    target: np.ndarray,
    count: int,
    *,
    rng: np.random.Generator,
    floor_z: float = 0.0,
    subjects: list[tuple[int, np.ndarray]] | None = None,
    top_half: tuple[float, float] | None = None,
) -> list[CameraSpec]:
    """``count`` cameras sharing one K, on a spherical cap around ``target`` or (with probability
    ``cfg.eye_level.probability`` each) at eye height above the floor at ``floor_z``, across the room, or (with
    probability ``cfg.close_up.probability``, drawn first) close to one of ``subjects`` ((instance id, start
    position) of the labelled objects), beyond the edge of the table top of half-sizes ``top_half``."""
    hfov = uniform_in(rng, cfg.hfov_deg)
    K = intrinsics_from_hfov(hfov, width, height)
    eye = cfg.get("eye_level") if hasattr(cfg, "get") else getattr(cfg, "eye_level", None)
    p_eye = float(eye.probability) if eye is not None else 0.0
    close = cfg.get("close_up") if hasattr(cfg, "get") else getattr(cfg, "close_up", None)
    p_close = float(close.probability) if close is not None and subjects else 0.0
    cameras = []
    for _ in range(count):
        if p_close > 0 and rng.random() < p_close:  # no draw at all when off: the other cameras stay as they were
            position, look, roll, sampled = _close_up_view(cfg, close, subjects, rng, top_half)
        elif p_eye > 0 and rng.random() < p_eye:  # no draw at all when off: the cap cameras stay as they were
            position, look, roll, sampled = _eye_level_view(cfg, eye, target, floor_z, rng)
        else:
            position, look, roll, sampled = _cap_view(cfg, target, rng)
            if p_eye > 0:
                sampled["view"] = "cap"
        sampled = {"hfov_deg": hfov, **sampled}
        cameras.append(CameraSpec(K.tolist(), width, height, look_at(position, look, roll).tolist(), sampled))
    return cameras


def _cap_view(cfg: Any, target: np.ndarray, rng: np.random.Generator) -> tuple[Any, ...]:
    """(position, look-at, roll, recorded draws) of a camera on the spherical cap around ``target``."""
    distance = uniform_in(rng, cfg.distance)
    elevation = np.radians(uniform_in(rng, cfg.elevation_deg))
    azimuth = np.radians(uniform_in(rng, cfg.azimuth_deg))
    roll = np.radians(uniform_in(rng, cfg.roll_deg))
    look = target + rng.uniform(-cfg.look_at_jitter, cfg.look_at_jitter, size=3) * np.array([1, 1, 0.5])
    position = look + distance * np.array(
        [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)]
    )
    sampled = {
        "distance": distance,
        "elevation_deg": float(np.degrees(elevation)),
        "azimuth_deg": float(np.degrees(azimuth)),
        "roll_deg": float(np.degrees(roll)),
        "look_at": look.tolist(),
    }
    return position, look, roll, sampled


def _close_up_view(
    cfg: Any,
    close: Any,
    subjects: list[tuple[int, np.ndarray]],
    rng: np.random.Generator,
    top_half: tuple[float, float] | None = None,
) -> tuple[Any, ...]:
    """(position, look-at, roll, recorded draws) of a camera ``close.distance`` (horizontal) from one of the
    ``subjects`` drawn uniformly, ``close.height_m`` above the table top, looking at the subject's start
    position (a set-down object stays there) jittered by a third of ``look_at_jitter``. With ``top_half`` a
    camera that would stand over the top moves back along its bearing until it is past the edge (where a
    person sits), so it never starts inside something standing on the table."""
    instance_id, at = subjects[int(rng.integers(len(subjects)))]
    horizontal = uniform_in(rng, close.distance)
    height = uniform_in(rng, close.height_m)
    azimuth = np.radians(uniform_in(rng, close.azimuth_deg))
    roll = np.radians(uniform_in(rng, cfg.roll_deg))
    look = np.asarray(at, dtype=np.float64) + rng.uniform(-1, 1, size=3) * cfg.look_at_jitter / 3
    bearing = np.array([np.cos(azimuth), np.sin(azimuth)])
    if top_half is not None:  # the distance along the bearing at which the camera leaves the top (plus 5 cm)
        edge = np.asarray(top_half, dtype=np.float64) + CLOSE_UP_EDGE_M
        with np.errstate(divide="ignore"):
            exits = np.where(np.abs(bearing) > 1e-9, (np.sign(bearing) * edge - look[:2]) / bearing, np.inf)
        horizontal = max(horizontal, float(exits.min()))
    position = np.array([*(look[:2] + horizontal * bearing), height])
    sampled = {
        "subject_instance_id": int(instance_id),
        **_view_record(position, look, height, horizontal, azimuth, roll),
    }
    return position, look, roll, {"view": "close_up", **sampled}


def _view_record(
    position: np.ndarray, look: np.ndarray, height: float, horizontal: float, azimuth: float, roll: float
) -> dict[str, Any]:
    """What an eye-level or close-up camera records of its draws (height, distances, angles in degrees)."""
    offset = position - look
    return {
        "height_m": height,
        "horizontal_distance": horizontal,
        "distance": float(np.linalg.norm(offset)),
        "elevation_deg": float(np.degrees(np.arctan2(offset[2], horizontal))),
        "azimuth_deg": float(np.degrees(azimuth)),
        "roll_deg": float(np.degrees(roll)),
        "look_at": look.tolist(),
    }


def _eye_level_view(
    cfg: Any, eye: Any, target: np.ndarray, floor_z: float, rng: np.random.Generator
) -> tuple[Any, ...]:
    """(position, look-at, roll, recorded draws) of a camera ``eye.height_m`` above the floor, ``eye.distance``
    (horizontal) from a look-at point on the container raised by ``eye.look_up_m``."""
    camera_height = uniform_in(rng, eye.height_m)
    horizontal = uniform_in(rng, eye.distance)
    azimuth = np.radians(uniform_in(rng, eye.azimuth_deg))
    roll = np.radians(uniform_in(rng, cfg.roll_deg))
    look = target + rng.uniform(-cfg.look_at_jitter, cfg.look_at_jitter, size=3) * np.array([1, 1, 0.5])
    look[2] += uniform_in(rng, eye.look_up_m)
    position = np.array(
        [look[0] + horizontal * np.cos(azimuth), look[1] + horizontal * np.sin(azimuth), floor_z + camera_height]
    )
    sampled = {"view": "eye_level", **_view_record(position, look, camera_height, horizontal, azimuth, roll)}
    return position, look, roll, sampled


def asset_pool(scene_cfg: Any) -> dict[str, list[Asset]]:
    """class -> the assets it is drawn from, every mesh read and checked now (before any rendering).

    A class's own procedural shape is always in its pool when it has one; manifest assets of other
    classes are a library and stay out quietly, while an extra asset of a class the scene never
    places is a user's mistake and is named in a warning.
    """
    classes = list(scene_cfg.classes)
    pool: dict[str, list[Asset]] = {name: [] for name in classes}
    for asset in load_manifest() if scene_cfg.use_asset_manifest else []:
        if asset.class_name in pool:
            pool[asset.class_name].append(asset)
    for name, assets in pool.items():
        if name in CLASS_SHAPES and not any(a.kind == "procedural" for a in assets):
            assets.append(Asset(f"proc-{name}", name, "procedural", generator=name, licence="GPL-3.0-or-later"))
    for i, entry in enumerate(scene_cfg.extra_assets):
        if entry.class_name not in pool:
            log.warning(
                "scene.extra_assets[%d] (%s): class %r is not in scene.classes, so this asset is never placed",
                i,
                entry.path,
                entry.class_name,
            )
            continue
        pool[entry.class_name].append(
            Asset(
                f"extra-{i}",
                entry.class_name,
                "mesh",
                path=str(entry.path),
                scale=float(entry.scale),
                weight=float(entry.weight),
                licence=str(entry.licence),
                source=str(entry.path),
            )
        )
    check_pool(pool, classes, infinigen=scene_cfg.assets == "infinigen")
    for assets in pool.values():
        for asset in assets:
            if asset.kind == "mesh":
                check_object_size(asset, load_mesh(str(asset.path), asset.scale)[0])
    return pool


@dataclass
class TabletopSampler:
    """Draws tabletop or bin-picking scenes within the ranges of the config and ``scenes/`` layout."""

    scene_cfg: Any  # the typed ``scene`` block (TabletopSceneConfig), with its camera, lighting and materials
    class_ids: dict[str, int]
    resolution: tuple[int, int]

    def __post_init__(self) -> None:
        self.camera_cfg = self.scene_cfg.camera
        self.lighting_cfg = self.scene_cfg.lighting
        self.materials_cfg = self.scene_cfg.materials
        self.layout = load_layout(self.scene_cfg.layout)
        self.pool = asset_pool(self.scene_cfg)
        # scene.assets=infinigen: Infinigen's variants replace the procedural generator of the classes it
        # provides (the manifest's and the user's meshes stay in the pool); the render job generates
        # the missing ones into the cache (asset_requests) before the first scene is sampled
        self.infinigen: dict[str, list[Variant]] = {}
        self.room_materials: dict[str, list[MaterialVariant]] = {}
        # unlabelled Infinigen extras (scene.infinigen.distractors on the table, .clutter along the walls,
        # .wall_decor on them, .table_chairs at the table): block -> kind -> variants; blocks that are off absent
        self.ig_extras: dict[str, dict[str, list[Variant]]] = {}
        self.keep_on_table = keep_on_table(self.scene_cfg)
        if self.scene_cfg.assets == "infinigen":
            self.infinigen = variants(list(self.scene_cfg.classes), self.scene_cfg.infinigen)
            self.room_materials = room_materials(self.scene_cfg.infinigen)
            self.ig_extras = extras(self.scene_cfg.infinigen)
            for name, found in self.infinigen.items():
                self.pool[name] = [a for a in self.pool[name] if a.kind != "procedural"]
                self.pool[name].append(
                    Asset(f"infinigen-{name}", name, "infinigen", generator=found[0].factory, licence="BSD-3-Clause")
                )

    def _container(self, rng: np.random.Generator) -> dict[str, Any]:
        kind = self.scene_cfg.container
        if kind == "random":
            kind = str(rng.choice(["table", "bin"]))
        spec = self.layout[kind]
        if kind == "table":
            size = [uniform_in(rng, spec["top_size"]["x"]), uniform_in(rng, spec["top_size"]["y"])]
            return {
                "kind": "table",
                "top_size": size,
                "thickness": spec["thickness"],
                "height": spec["height"],
                "leg_width": spec["leg_width"],
                "drop_area": [s / 2 - spec["drop_margin"] for s in size],
            }
        size = [uniform_in(rng, spec["inner_size"]["x"]), uniform_in(rng, spec["inner_size"]["y"])]
        return {
            "kind": "bin",
            "inner_size": size,
            "wall_height": uniform_in(rng, spec["wall_height"]),
            "wall_thickness": spec["wall_thickness"],
            "drop_area": [s / 2 - spec["drop_margin"] for s in size],
        }

    def _object(
        self,
        instance_id: int,
        class_name: str | None,
        container: dict[str, Any],
        level: int,
        rng: np.random.Generator,
        variant: Variant | None = None,
        stack: list[tuple[np.ndarray, np.ndarray, float]] | None = None,
    ) -> ObjectSpec:
        if variant is not None:  # an unlabelled Infinigen distractor
            asset = {**variant.asset_record(), "role": "distractor", "kind_name": variant.class_name}
            vertices, faces = load_variant_mesh(variant.npz)
        elif class_name is None:
            shape = make_shape(str(rng.choice(sorted(DISTRACTOR_SHAPES))), rng=rng)
            asset: dict[str, Any] = {"kind": "procedural", "shape": shape.kind, "params": shape.params}
            vertices, faces = shape.vertices, shape.faces
        else:
            choices = self.pool[class_name]
            weights = np.array([a.weight for a in choices], dtype=np.float64)
            chosen = choices[int(rng.choice(len(choices), p=weights / weights.sum()))]
            if chosen.kind == "infinigen":
                found = self.infinigen[class_name]
                variant = found[int(rng.integers(len(found)))]
                asset = variant.asset_record()
                vertices, faces = load_variant_mesh(variant.npz)
            elif chosen.kind == "procedural":
                shape = make_shape(chosen.generator or class_name, rng=rng)
                asset = {**chosen.record(), "shape": shape.kind, "params": shape.params}
                vertices, faces = shape.vertices, shape.faces
            else:
                asset = chosen.record()
                vertices, faces = load_mesh(chosen.path, chosen.scale)
        half_x, half_y = container["drop_area"]
        if self.keep_on_table:  # the whole footprint inside the top, in any orientation (bounding sphere)
            half_x, half_y = _footprint_area(container, vertices)
        height = float(vertices[:, 2].max())
        drop = [
            float(rng.uniform(-half_x, half_x)),
            float(rng.uniform(-half_y, half_y)),
            uniform_in(rng, self.scene_cfg.drop_height) + 0.1 * level + height / 2,
        ]
        rotation = rng.uniform(0, 2 * np.pi, size=3).tolist()
        clearance = drop[2] - 0.1 * level - height / 2  # the drawn drop height
        p_upright = float(self.scene_cfg.upright_probability)
        if p_upright > 0 and rng.random() < p_upright:  # no draw at all when off: the tumbling drops stay as they were
            # set down standing on its base (the mesh's z=0 side) with a free yaw: the x and y angles' draws are
            # scaled from [0, 2 pi) into [-max tilt, +max tilt]; it starts just above what lies under it (dropped
            # from the drawn height, a bowl's narrow foot bounces and 6 in 10 ended on their rims' side)
            tilt = np.radians(float(self.scene_cfg.upright_tilt_deg))
            rotation[0], rotation[1] = (tilt * (r / np.pi - 1.0) for r in rotation[:2])
            clearance = UPRIGHT_CLEARANCE_M
            drop[2] = float(clearance + 0.1 * level - _footprint_box(drop, rotation, vertices)[2])
        if self.keep_on_table and stack is not None:
            # spread out: a few more xy draws while the footprint overlaps one dropped before, keeping the
            # draw that starts lowest; then start above the top and whatever lies under it
            best = (_stack_base(drop, rotation, vertices, stack), drop[0], drop[1])
            for _ in range(SPREAD_TRIES):
                if best[0] == 0.0:
                    break
                drop[0], drop[1] = float(rng.uniform(-half_x, half_x)), float(rng.uniform(-half_y, half_y))
                best = min(best, (_stack_base(drop, rotation, vertices, stack), drop[0], drop[1]))
            drop[0], drop[1] = best[1], best[2]
            drop[2] = _stacked_height(drop, rotation, vertices, clearance, stack)
        return ObjectSpec(
            instance_id=instance_id,
            class_name=class_name,
            category_id=self.class_ids[class_name] if class_name else 0,
            asset=asset,
            material=sample_material(self.materials_cfg, rng=rng),
            location=drop,
            rotation_euler=[float(r) for r in rotation],
            vertices=vertices,
            faces=faces,
        )

    def _bowl_fill(self, objects: list[ObjectSpec], rng: np.random.Generator) -> list[ObjectSpec]:
        """Unlabelled food in the labelled bowls that start standing: each is filled with the block's
        probability, with a dish (``dish_probability``: rice, soup, salad... filling it to a level) or else with
        ``count`` pieces, each resting on the bowl's inside or on the pieces before it
        (:meth:`Heightfield.rest`); all in the bowl's own frame, riding on it through the drop
        (ObjectSpec.parent)."""
        cfg = self.scene_cfg.infinigen.bowl_fill
        out: list[ObjectSpec] = []
        for bowl in [o for o in objects if o.class_name == "bowl" and _tilt(o.rotation_euler) <= FILL_MAX_TILT]:
            if rng.random() >= float(cfg.probability):
                continue
            surface = Heightfield.of(bowl.vertices, bowl.faces)
            lo, hi = bowl.vertices.min(axis=0), bowl.vertices.max(axis=0)
            reach = 0.25 * float(min(hi[0] - lo[0], hi[1] - lo[1]))  # pieces centred within half the radius
            p_dish = float(cfg.dish_probability)
            if p_dish > 0 and rng.random() < p_dish:
                served = self._dish(bowl, surface, 2 * reach, float(hi[2]), rng)
                if served is not None:
                    out.append(served)
                    continue
            for _ in range(_integer(rng, cfg.count)):
                variant = _draw_variant(self.ig_extras["bowl_fill"], rng)
                vertices, faces = load_variant_mesh(variant.npz)
                rotation = rng.uniform(0, 2 * np.pi, size=3).tolist()
                radius = rng.uniform(0, reach, size=FILL_SPOTS)
                angle = rng.uniform(0, 2 * np.pi, size=FILL_SPOTS)
                if np.ptp(vertices[:, :2], axis=0).max() > FILL_MAX_FRACTION * 4 * reach:
                    continue  # too big for this bowl (an apple in a soup bowl): left out, its draws made
                rotated = vertices @ euler_xyz(rotation).T
                # the lowest of a few spots: pieces settle beside each other before on top of each other
                spots = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
                lifts = [surface.rest(rotated[:, :2] + xy, rotated[:, 2]) for xy in spots]
                xy, z = spots[int(np.argmin(lifts))], min(lifts) + FILL_GAP_M
                surface.add(rotated[:, :2] + xy, rotated[:, 2] + z)
                asset = {**variant.asset_record(), "role": "bowl_fill", "kind_name": variant.class_name}
                out.append(
                    ObjectSpec(
                        instance_id=0,
                        class_name=None,
                        category_id=0,
                        asset=asset,
                        material=sample_material(self.materials_cfg, rng=rng),
                        location=[float(xy[0]), float(xy[1]), float(z)],
                        rotation_euler=[float(r) for r in rotation],
                        vertices=vertices,
                        faces=faces,
                        parent=bowl.instance_id,
                    )
                )
        return out

    def _dish(
        self, bowl: ObjectSpec, surface: Heightfield, reach: float, rim: float, rng: np.random.Generator
    ) -> ObjectSpec | None:
        """A dish filling ``bowl`` to a level drawn within ``dish_level`` of its inside's depth (None when its
        inside does not hold that level all round)."""
        cfg = self.scene_cfg.infinigen.bowl_fill
        name = str(cfg.dishes[int(rng.integers(len(cfg.dishes)))])
        heaped = DISHES[name][5] > 0  # a soup lies flat
        return _served(bowl, surface, reach, rim, name, cfg.dish_level, heaped, "bowl_fill", rng)

    def _cup_fill(self, objects: list[ObjectSpec], rng: np.random.Generator) -> list[ObjectSpec]:
        """A drink in each labelled cup that starts standing, with ``cup_fill.probability``, to a level drawn
        within ``cup_fill.level`` of its inside's depth, riding on the cup."""
        cfg = self.scene_cfg.infinigen.cup_fill
        out = []
        for cup in [o for o in objects if o.class_name == "cup" and _tilt(o.rotation_euler) <= FILL_MAX_TILT]:
            if rng.random() >= float(cfg.probability):
                continue
            name = str(cfg.drinks[int(rng.integers(len(cfg.drinks)))])
            lo, hi = cup.vertices.min(axis=0), cup.vertices.max(axis=0)
            reach = 0.5 * float(np.hypot(*(hi[:2] - lo[:2])))  # the search reaches past a handle
            served = _served(
                cup,
                Heightfield.of(cup.vertices, cup.faces),
                reach,
                float(hi[2]),
                name,
                cfg.level,
                False,
                "cup_fill",
                rng,
            )
            if served is not None:
                out.append(served)
        return out

    def _clutter(
        self, container: dict[str, Any], cameras: list[CameraSpec], rng: np.random.Generator
    ) -> list[ObjectSpec]:
        """Unlabelled Infinigen furniture on the floor along the three walls, static (no physics): each piece
        with its back to a wall, clear of the table / bin, of the other pieces and of the lines of sight from
        the cameras to the table (a piece that finds no such place in a few tries is left out)."""
        cfg = self.scene_cfg.infinigen.clutter
        room_x, room_y, _ = self.layout["room"]["size"]
        floor_z = _floor_z(container)
        size = container["top_size"] if container["kind"] == "table" else container["inner_size"]
        table = Footprint.around(np.zeros(2), np.array(size, dtype=np.float64) / 2 + CLUTTER_KEEP_OUT_M)
        sights = _sight_lines(cameras)
        placed: list[Footprint] = []
        out: list[ObjectSpec] = []
        for _ in range(_integer(rng, cfg.count)):
            variant = _draw_variant(self.ig_extras["clutter"], rng)
            vertices, _faces = load_variant_mesh(variant.npz)
            extent = vertices.max(axis=0) - vertices.min(axis=0)
            depth, width = float(extent[0]), float(extent[1])  # Infinigen's furniture: depth along x, front +x
            for _try in range(CLUTTER_TRIES):
                wall = int(rng.integers(3))  # 0: x = -room_x / 2, 1: x = +room_x / 2, 2: y = +room_y / 2
                gap = float(rng.uniform(*CLUTTER_WALL_GAP_M))
                along_half = (room_y if wall < 2 else room_x) / 2 - width / 2 - 0.05
                along = float(rng.uniform(-along_half, along_half))
                if wall == 0:
                    centre, yaw = np.array([-room_x / 2 + depth / 2 + gap, along]), 0.0
                elif wall == 1:
                    centre, yaw = np.array([room_x / 2 - depth / 2 - gap, along]), np.pi
                else:
                    centre, yaw = np.array([along, room_y / 2 - depth / 2 - gap]), -np.pi / 2
                here = Footprint.of(vertices, centre, yaw)
                clear = (
                    not here.overlaps(table)
                    and not any(here.overlaps(f, SCENERY_GAP_M) for f in placed)
                    and not any(here.crosses(a, b, SCENERY_GAP_M) for a, b in sights)
                )
                if clear:
                    break
            else:
                continue
            placed.append(here)
            out.append(_scenery_object(variant, "clutter", [float(centre[0]), float(centre[1]), floor_z], yaw))
        return out

    def _wall_decor(
        self, container: dict[str, Any], furniture: list[ObjectSpec], rng: np.random.Generator
    ) -> list[ObjectSpec]:
        """Unlabelled Infinigen pictures, mirrors and shelves hung flat on the three walls, static: the centre of
        each ``wall_decor.height_m`` above the floor, clear of the furniture standing there and of each other (a
        piece that finds no such place in a few tries is left out)."""
        cfg = self.scene_cfg.infinigen.wall_decor
        room_x, room_y, room_z = (float(v) for v in self.layout["room"]["size"])
        floor_z = _floor_z(container)
        taken = [_occupied(o) for o in furniture]  # what is already along the walls
        out: list[ObjectSpec] = []
        for _ in range(_integer(rng, cfg.count)):
            variant = _draw_variant(self.ig_extras["wall_decor"], rng)
            vertices, _faces = load_variant_mesh(variant.npz)
            extent = vertices.max(axis=0) - vertices.min(axis=0)
            depth, width, tall = (float(v) for v in extent)
            for _try in range(CLUTTER_TRIES):
                wall = int(rng.integers(3))  # as for the furniture: x = -room_x / 2, x = +room_x / 2, y = +room_y / 2
                along_half = (room_y if wall < 2 else room_x) / 2 - width / 2 - 0.05
                along = float(rng.uniform(-along_half, along_half))
                bottom = floor_z + uniform_in(rng, cfg.height_m) - tall / 2
                bottom = min(max(bottom, floor_z + 0.05), floor_z + room_z - tall - 0.05)
                off = WALL_HALF_THICKNESS_M + depth / 2 + 0.002  # back flat against the wall's inner face
                if wall == 0:
                    centre, yaw = np.array([-room_x / 2 + off, along]), 0.0
                elif wall == 1:
                    centre, yaw = np.array([room_x / 2 - off, along]), np.pi
                else:
                    centre, yaw = np.array([along, room_y / 2 - off]), -np.pi / 2
                here = Footprint.of(vertices, centre, yaw)
                clear = all(
                    not here.overlaps(f, SCENERY_GAP_M) or bottom > top or bottom + tall < low for f, low, top in taken
                )
                if clear:
                    break
            else:
                continue
            taken.append((here, bottom, bottom + tall))
            out.append(_scenery_object(variant, "wall_decor", [float(centre[0]), float(centre[1]), bottom], yaw))
        return out

    def _windows(
        self, container: dict[str, Any], furniture: list[ObjectSpec], rng: np.random.Generator
    ) -> tuple[list[ObjectSpec], list[dict[str, Any]]]:
        """Unlabelled Infinigen windows set into the walls, at most one a wall: each scaled (never up) to fit its
        wall below the ceiling with its bottom ``windows.sill_m`` above the floor, clear of the furniture in
        front of that stretch of wall unless the furniture stays below the sill (a window finding no such place
        is left out). Returns the windows and their records, which tell the builder where to cut each opening
        (wall, centre along the wall, bottom, width and height, metres) and the daylight outside it."""
        cfg = self.scene_cfg.infinigen.windows
        room_x, room_y, room_z = (float(v) for v in self.layout["room"]["size"])
        floor_z = _floor_z(container)
        taken = [_occupied(o) for o in furniture]
        free_walls = list(range(WALLS))  # 0: x = -room_x / 2, 1: x = +room_x / 2, 2: y = +room_y / 2
        out: list[ObjectSpec] = []
        records: list[dict[str, Any]] = []
        for _ in range(_integer(rng, cfg.count)):
            variant = _draw_variant(self.ig_extras["windows"], rng)
            vertices, _faces = load_variant_mesh(variant.npz)
            width, _depth, tall = (float(v) for v in np.ptp(vertices, axis=0))  # width along x, depth along y
            sill = uniform_in(rng, cfg.sill_m)
            daylight = uniform_in(rng, cfg.daylight)
            kelvin = uniform_in(rng, cfg.daylight_kelvin)
            for _try in range(CLUTTER_TRIES):
                wall = free_walls[int(rng.integers(len(free_walls)))]
                length = room_y if wall < 2 else room_x
                scale = min(1.0, (room_z - WINDOW_TOP_GAP_M - sill) / tall, (length - 2 * WINDOW_SIDE_GAP_M) / width)
                along_half = length / 2 - width * scale / 2 - WINDOW_SIDE_GAP_M
                along = float(rng.uniform(-along_half, along_half))
                centre, yaw = {
                    0: (np.array([-room_x / 2, along]), np.pi / 2),  # in the wall's plane, its width along the wall
                    1: (np.array([room_x / 2, along]), np.pi / 2),
                    2: (np.array([along, room_y / 2]), 0.0),
                }[wall]
                here = Footprint.of(vertices * scale, centre, yaw)
                inward = {0: (0, 1.0), 1: (0, -1.0), 2: (1, -1.0)}[wall]  # (axis, sign) into the room
                front = here.grown(*inward, WINDOW_FRONT_M)  # nothing taller than the sill stands in front
                bottom, top = floor_z + sill, floor_z + sill + tall * scale
                clear = all(not front.overlaps(f, SCENERY_GAP_M) or bottom > hi or top < lo for f, lo, hi in taken)
                if clear:
                    break
            else:
                continue
            free_walls.remove(wall)
            window = _scenery_object(variant, "window", [float(centre[0]), float(centre[1]), bottom], yaw)
            window.vertices = window.vertices * scale
            window.asset["scale"] = scale  # the builder scales the cached object
            taken.append((here, bottom, top))
            out.append(window)
            records.append(
                {
                    **_scenery_record(window),
                    "wall": wall,
                    "scale": scale,
                    "opening": {"along_m": along, "bottom_m": sill, "width_m": width * scale, "height_m": tall * scale},
                    "daylight": daylight,
                    "daylight_kelvin": kelvin,
                    "daylight_color": blackbody_rgb(kelvin),
                }
            )
        return out, records

    def _table_chairs(
        self, container: dict[str, Any], cameras: list[CameraSpec], scenery: list[ObjectSpec], rng: np.random.Generator
    ) -> list[ObjectSpec]:
        """Unlabelled Infinigen chairs standing at the table's four sides, each facing the table with its whole
        footprint outside the top (``CHAIR_TABLE_GAP_M`` out), clear of each other, of the furniture and of
        the lines of sight from the cameras to the table (a chair finding no such place is left out)."""
        sx, sy = (float(v) for v in container["top_size"])
        floor_z = _floor_z(container)
        sights = _sight_lines(cameras)
        taken = [_footprint(o) for o in scenery]
        out: list[ObjectSpec] = []
        for _ in range(_integer(rng, self.scene_cfg.infinigen.table_chairs.count)):
            variant = _draw_variant(self.ig_extras["table_chairs"], rng)
            vertices, _faces = load_variant_mesh(variant.npz)
            extent = vertices.max(axis=0) - vertices.min(axis=0)
            depth, width = float(extent[0]), float(extent[1])  # front at +x, as the furniture's
            for _try in range(CLUTTER_TRIES):
                side = int(rng.integers(4))  # 0: -x, 1: +x, 2: -y, 3: +y
                out_m = depth / 2 + float(rng.uniform(*CHAIR_TABLE_GAP_M))
                along = float(rng.uniform(-1, 1)) * max((sy if side < 2 else sx) / 2 - width / 2, 0.0)
                centre, yaw = {
                    0: (np.array([-sx / 2 - out_m, along]), 0.0),  # facing +x: towards the table
                    1: (np.array([sx / 2 + out_m, along]), np.pi),
                    2: (np.array([along, -sy / 2 - out_m]), np.pi / 2),
                    3: (np.array([along, sy / 2 + out_m]), -np.pi / 2),
                }[side]
                here = Footprint.of(vertices, centre, yaw)
                clear = not any(here.overlaps(f, SCENERY_GAP_M) for f in taken) and not any(
                    here.crosses(a, b, SCENERY_GAP_M) for a, b in sights
                )
                if clear:
                    break
            else:
                continue
            taken.append(here)
            out.append(_scenery_object(variant, "table_chair", [float(centre[0]), float(centre[1]), floor_z], yaw))
        return out

    def sample(self, scene_index: int, seed: list[int], n_cameras: int, *, rng: np.random.Generator) -> SceneSpec:
        container = self._container(rng)
        container["material"] = sample_material(self.materials_cfg, rng=rng).__dict__
        n_objects = _integer(rng, self.scene_cfg.num_objects)
        n_distractors = _integer(rng, self.scene_cfg.distractors)
        classes = list(self.scene_cfg.classes)
        weights = self.scene_cfg.get("class_weights") or {}
        p = np.array([float(weights.get(c, 1.0)) for c in classes]) if weights else None
        objects = []
        stack: list[tuple[np.ndarray, np.ndarray, float]] = []  # keep_on_table: footprints dropped so far
        per_level = 6  # objects dropped side by side before the next one starts higher up
        for i in range(n_objects + n_distractors):
            labelled = i < n_objects
            if not labelled:
                class_name = None
            elif p is None:  # no weights: the draw of every earlier release, frames unchanged
                class_name = str(rng.choice(classes))
            else:
                class_name = classes[int(rng.choice(len(classes), p=p / p.sum()))]
            objects.append(
                self._object(i + 1 if labelled else 0, class_name, container, i // per_level, rng, stack=stack)
            )
        target = np.array([0.0, 0.0, 0.05])
        width, height = self.resolution
        background = {
            "world_color": random_color(rng, (0.0, 0.4)),
            "world_strength": uniform_in(rng, self.lighting_cfg.ambient_strength),
            "floor": sample_material(self.materials_cfg, rng=rng).__dict__,
            "walls": sample_material(self.materials_cfg, rng=rng).__dict__,
            "room_size": self.layout["room"]["size"],
        }
        lights = sample_lights(self.lighting_cfg, target, rng=rng)
        # a close-up looks at a labelled object's start: its middle height above its start position's base
        # (each object's mesh is turned for it, so only when close-ups are on)
        subjects = []
        if float(self.camera_cfg.close_up.probability) > 0:
            subjects = [
                (o.instance_id, np.array([o.location[0], o.location[1], _start_middle_z(o)]))
                for o in objects
                if o.class_name
            ]
        top = container.get("top_size") or container.get("inner_size")
        cameras = sample_cameras(
            self.camera_cfg,
            width,
            height,
            target,
            n_cameras,
            rng=rng,
            floor_z=_floor_z(container),
            subjects=subjects,
            top_half=(top[0] / 2, top[1] / 2),
        )
        # Infinigen distractors and clutter: drawn after the cameras (and only when configured), so they change
        # no labelled object's draw, light or camera
        if "distractors" in self.ig_extras:
            for _ in range(_integer(rng, self.scene_cfg.infinigen.distractors.count)):
                variant = _draw_variant(self.ig_extras["distractors"], rng)
                objects.append(self._object(0, None, container, len(objects) // per_level, rng, variant, stack))
        if "bowl_fill" in self.ig_extras:  # after the distractors, so switching it off changes nothing else
            objects += self._bowl_fill(objects, rng)
        if float(self.scene_cfg.infinigen.cup_fill.probability) > 0:  # drawn last, as the food
            objects += self._cup_fill(objects, rng)
        scenery: list[ObjectSpec] = []
        if "clutter" in self.ig_extras:
            scenery = self._clutter(container, cameras, rng)
            background["infinigen_clutter"] = [_scenery_record(o) for o in scenery]
        if "windows" in self.ig_extras:  # after the furniture (whose draws it leaves as they were), clear of it
            windows, background["infinigen_windows"] = self._windows(container, scenery, rng)
            scenery = scenery + windows
        if "wall_decor" in self.ig_extras:  # after the furniture (whose draws it leaves as they were), clear of it
            decor = self._wall_decor(container, scenery, rng)
            background["infinigen_wall_decor"] = [_scenery_record(o) for o in decor]
            scenery = scenery + decor
        if "table_chairs" in self.ig_extras and container["kind"] == "table":
            chairs = self._table_chairs(container, cameras, scenery, rng)
            background["infinigen_table_chairs"] = [_scenery_record(o) for o in chairs]
            scenery = scenery + chairs
        if self.room_materials:
            # drawn last, after everything else, so switching them off changes no object, pose or camera;
            # the procedural entries stay recorded beside them (the builder uses these instead)
            background["infinigen_materials"] = {
                surface: found[int(rng.integers(len(found)))].record() for surface, found in self.room_materials.items()
            }
        physics: dict[str, Any] = {
            "min_time": float(self.scene_cfg.physics_min_time),
            "max_time": float(self.scene_cfg.physics_max_time),
        }
        if self.keep_on_table:  # the builder removes (and records) what ends off the table or out of the bin
            physics["keep_on_table"] = True
        if float(self.scene_cfg.table_rim_m) > 0 and container["kind"] == "table":
            physics["rim_m"] = float(self.scene_cfg.table_rim_m)  # the builder's invisible lip during the drop
        return SceneSpec(
            scene_index=scene_index,
            seed=seed,
            scene_name=self.scene_cfg.name,
            container=container,
            objects=objects,
            lights=lights,
            cameras=cameras,
            background=background,
            physics=physics,
            conditions={"scene": self.scene_cfg.name, "container": container["kind"]},
            scenery=scenery,
        )


FILL_MAX_TILT = np.radians(15)  # bowl_fill and cup_fill fill the bowls and cups that start this near upright
FILL_GAP_M = 0.001  # a piece of food lies this far above what it rests on (so it never cuts into it)
FILL_SPOTS = 6  # spots tried per piece of food (the lowest wins)
FILL_MAX_FRACTION = 0.5  # a piece of food at most this share of its bowl's width
CLOSE_UP_EDGE_M = 0.05  # a close-up camera stands at least this far beyond the table top's (the bin's) edge
UPRIGHT_CLEARANCE_M = 0.003  # an object set down standing (scene.upright_probability) starts this far above
SPREAD_TRIES = 8  # extra xy draws per object to find a free spot on the top (keep_on_table)
FOOTPRINT_MARGIN_M = 0.03  # the footprint keeps this far from the edge when scene.keep_on_table is on
CLUTTER_WALL_GAP_M = (0.03, 0.25)  # clutter stands this far out from its wall
CLUTTER_KEEP_OUT_M = 0.4  # ... and at least this far from the table / bin edges
CLUTTER_TRIES = 30
WINDOW_SIDE_GAP_M = 0.3  # a window keeps this far from the ends of its wall (the corners)
WINDOW_FRONT_M = 0.5  # ... and from furniture taller than its sill standing less than this far out in front of it
SCENERY_GAP_M = 0.05  # furniture, chairs and wall decor keep this far from each other and from sight lines
CHAIR_TABLE_GAP_M = (0.0, 0.35)  # a chair stands this far out from the table's edge (its footprint, not centre)
WALL_HALF_THICKNESS_M = 0.01  # the room's walls are 2 cm thick boxes centred on the room's edge (render/builder.py)


def _draw_variant(kinds: dict[str, list[Variant]], rng: np.random.Generator) -> Variant:
    """A kind uniformly (in sorted order), then one of its variants."""
    names = sorted(kinds)
    found = kinds[names[int(rng.integers(len(names)))]]
    return found[int(rng.integers(len(found)))]


def _sight_lines(cameras: list[CameraSpec]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(camera xy, look-at xy) of each camera: furniture keeps off these segments."""
    return [(np.asarray(c.cam_to_world)[:2, 3], np.asarray(c.sampled["look_at"])[:2]) for c in cameras if c.sampled]


@dataclass(frozen=True)
class Footprint:
    """The xy rectangle a static piece of the room covers on the floor (furniture, chairs and wall decor turn
    by multiples of 90 degrees, so their footprints are axis-aligned: a 4 m kitchen run along a wall is a
    4 m x 0.9 m strip, not the 4 m circle round it, and fits where the circle could not)."""

    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def around(cls, centre: np.ndarray, half: np.ndarray) -> Footprint:
        return cls(centre - half, centre + half)

    @classmethod
    def of(cls, vertices: np.ndarray, centre: np.ndarray, yaw: float) -> Footprint:
        """The footprint of ``vertices`` (object frame) turned by ``yaw`` about z and moved to ``centre``."""
        c, s = np.cos(yaw), np.sin(yaw)
        xy = vertices[:, :2] @ np.array([[c, s], [-s, c]]) + centre
        return cls(xy.min(axis=0), xy.max(axis=0))

    def overlaps(self, other: Footprint, gap: float = 0.0) -> bool:
        """Whether the two rectangles come closer than ``gap`` along both axes (touching counts as clear)."""
        return bool(np.all(self.lo - gap < other.hi) and np.all(other.lo - gap < self.hi))

    def grown(self, axis: int, sign: float, metres: float) -> Footprint:
        """This footprint stretched ``metres`` further along ``axis`` in the direction ``sign``."""
        lo, hi = self.lo.copy(), self.hi.copy()
        if sign > 0:
            hi[axis] += metres
        else:
            lo[axis] -= metres
        return Footprint(lo, hi)

    def crosses(self, a: np.ndarray, b: np.ndarray, gap: float = 0.0) -> bool:
        """Whether the segment ``a``-``b`` passes through the rectangle grown by ``gap`` (slab clipping)."""
        lo, hi = self.lo - gap, self.hi + gap
        d = b - a
        t0, t1 = 0.0, 1.0
        for k in range(2):
            if abs(d[k]) < 1e-12:
                if not lo[k] <= a[k] <= hi[k]:
                    return False
                continue
            ta, tb = (lo[k] - a[k]) / d[k], (hi[k] - a[k]) / d[k]
            t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
            if t0 > t1:
                return False
        return True


def _footprint(o: ObjectSpec) -> Footprint:
    """The footprint of a piece of scenery standing on the floor."""
    return Footprint.of(o.vertices, np.asarray(o.location[:2], dtype=np.float64), float(o.rotation_euler[2]))


def _occupied(o: ObjectSpec) -> tuple[Footprint, float, float]:
    """(footprint, bottom z, top z) of a piece of scenery."""
    z = float(o.location[2])
    return _footprint(o), z + float(o.vertices[:, 2].min()), z + float(o.vertices[:, 2].max())


def _scenery_object(variant: Variant, role: str, location: list[float], yaw: float) -> ObjectSpec:
    """A static, unlabelled Infinigen piece of the room (furniture, wall decor) at ``location`` turned by ``yaw``."""
    vertices, faces = load_variant_mesh(variant.npz)
    return ObjectSpec(
        instance_id=0,
        class_name=None,
        category_id=0,
        asset={
            **variant.asset_record(),
            "role": role,
            "kind_name": variant.class_name,
            "part": f"infinigen:{variant.class_name}",  # the scenery count in frames.jsonl
        },
        material=MaterialSpec([0.5, 0.5, 0.5], 0.5, 0.0),  # unused: the asset brings its own
        location=location,
        rotation_euler=[0.0, 0.0, float(yaw)],
        vertices=vertices,
        faces=faces,
    )


def _scenery_record(o: ObjectSpec) -> dict[str, Any]:
    """What a frame records of one piece of scenery (background.infinigen_clutter / .infinigen_wall_decor)."""
    return {
        "kind": o.asset["kind_name"],
        "asset": o.asset["id"],
        "path": o.asset["path"],
        "location": o.location,
        "rotation_euler": o.rotation_euler,
        "size": (o.vertices.max(axis=0) - o.vertices.min(axis=0)).tolist(),
    }


def _floor_z(container: dict[str, Any]) -> float:
    """Height of the room's floor (the table top, or the bin's floor top, is z = 0)."""
    return -float(container["height"]) if container["kind"] == "table" else -float(container["wall_thickness"])


def _footprint_area(container: dict[str, Any], vertices: np.ndarray) -> list[float]:
    """Half extents of the drop area in which an object's whole footprint stays inside the top (or the bin),
    whatever its orientation: the bounding sphere about its box centre, plus a margin (at least the layout's
    drop margin); 0 when the object is as wide as the top."""
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    radius = float(np.linalg.norm(vertices - (lo + hi) / 2, axis=1).max())
    size = container["top_size"] if container["kind"] == "table" else container["inner_size"]
    margins = [s / 2 - h for s, h in zip(size, container["drop_area"], strict=True)]
    return [max(s / 2 - max(m, radius + FOOTPRINT_MARGIN_M), 0.0) for s, m in zip(size, margins, strict=True)]


def _served(
    vessel: ObjectSpec,
    surface: Heightfield,
    reach: float,
    rim: float,
    name: str,
    levels: Any,
    heaped: bool,
    role: str,
    rng: np.random.Generator,
) -> ObjectSpec | None:
    """A dish or drink ``name`` filling ``vessel`` (its inside ``surface``) to a level drawn within ``levels``
    (shares of the inside's depth below ``rim``), ``heaped`` up to 30 % of the depth more at the middle; an
    unlabelled body in the vessel's frame riding on it. None when the inside does not hold the level."""
    bottom = float(surface.near(np.zeros((1, 2)))[0])
    depth = rim - bottom if np.isfinite(bottom) else 0.0
    level = bottom + uniform_in(rng, levels) * depth
    mound = float(rng.uniform(0.0, 0.3)) * depth if heaped else 0.0
    bump = {**DISHES, **DRINKS}[name][5]
    made = dish(surface, reach, level, mound, bump, rng) if depth > 0 else None
    if made is None:
        return None
    vertices, faces = made
    params = {"fill": name, "level_m": round(level, 4), "mound_m": round(mound, 4)}
    shape = "dish" if role == "bowl_fill" else "drink"
    return ObjectSpec(
        instance_id=0,
        class_name=None,
        category_id=0,
        asset={"kind": "procedural", "shape": shape, "params": params, "role": role, "kind_name": name},
        material=dish_material(name, rng),
        location=[0.0, 0.0, 0.0],
        rotation_euler=[0.0, 0.0, 0.0],
        vertices=vertices,
        faces=faces,
        parent=vessel.instance_id,
    )


def _start_middle_z(o: ObjectSpec) -> float:
    """The height of the object's middle where it will rest: set down on the top (its lowest point starting
    within 1 cm of it), half its height above its start; else half its height above the table top (z = 0)."""
    rotated = o.vertices @ euler_xyz(o.rotation_euler).T
    lowest = o.location[2] + float(rotated[:, 2].min())
    base = lowest if lowest <= UPRIGHT_CLEARANCE_M + 0.01 else 0.0
    return max(base, 0.0) + float(np.ptp(rotated[:, 2])) / 2


def _tilt(rotation: list[float]) -> float:
    """Radians between the object's own up axis (Blender XYZ Euler ``rotation``) and the world's."""
    return float(np.arccos(np.clip(euler_xyz(rotation)[2, 2], -1.0, 1.0)))


def euler_xyz(rotation: list[float]) -> np.ndarray:
    """Blender's XYZ Euler angles as a 3x3 rotation matrix (Rz @ Ry @ Rx)."""
    (cx, cy, cz), (sx, sy, sz) = np.cos(rotation), np.sin(rotation)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _footprint_box(drop: list[float], rotation: list[float], vertices: np.ndarray) -> tuple[np.ndarray, ...]:
    """The rotated object's xy box at ``drop`` and its z range about the origin."""
    rotated = vertices @ euler_xyz(rotation).T
    lo, hi = rotated.min(axis=0), rotated.max(axis=0)
    xy = np.asarray(drop[:2])
    return xy + lo[:2], xy + hi[:2], lo[2], hi[2]


def _stack_base(
    drop: list[float], rotation: list[float], vertices: np.ndarray, stack: list[tuple[np.ndarray, np.ndarray, float]]
) -> float:
    """Highest top (plus 1 cm) among the objects dropped before whose xy box overlaps this one's; 0 if none."""
    box = Footprint(*_footprint_box(drop, rotation, vertices)[:2])
    base = 0.0
    for other_lo, other_hi, top in stack:
        if box.overlaps(Footprint(other_lo, other_hi)):
            base = max(base, top + 0.01)
    return base


def _stacked_height(
    drop: list[float],
    rotation: list[float],
    vertices: np.ndarray,
    clearance: float,
    stack: list[tuple[np.ndarray, np.ndarray, float]],
) -> float:
    """The drop height (object origin z) at which the rotated object's lowest point is ``clearance`` above
    the top and above every object dropped before it whose footprint (xy box) overlaps its own, so no two
    objects start inside each other or inside the top (the physics would throw them apart, often off the
    table). Appends its own footprint and highest point to ``stack``."""
    box_lo, box_hi, z_lo, z_hi = _footprint_box(drop, rotation, vertices)
    z = _stack_base(drop, rotation, vertices, stack) + clearance - float(z_lo)
    stack.append((box_lo, box_hi, z + float(z_hi)))
    return float(z)
