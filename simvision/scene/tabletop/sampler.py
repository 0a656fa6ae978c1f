"""Tabletop / bin-picking sampler: config + rng -> SceneSpec (no Blender)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from simvision.config.paths import SCENES_DIR
from simvision.labels.geometry import intrinsics_from_hfov, look_at
from simvision.scene.assets import Asset, load_manifest, load_mesh
from simvision.scene.color import blackbody_rgb, random_color
from simvision.scene.draws import uniform_in
from simvision.scene.infinigen_library import MaterialVariant, Variant, load_variant_mesh, room_materials, variants
from simvision.scene.shapes import CLASS_SHAPES, DISTRACTOR_SHAPES, make_shape
from simvision.scene.spec import CameraSpec, LightSpec, MaterialSpec, ObjectSpec, SceneSpec
from simvision.scene.tabletop.config import check_object_size, check_pool

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
    cfg: Any, width: int, height: int, target: np.ndarray, count: int, *, rng: np.random.Generator
) -> list[CameraSpec]:
    """``count`` cameras sharing one K, on a spherical cap around ``target``."""
    hfov = uniform_in(rng, cfg.hfov_deg)
    K = intrinsics_from_hfov(hfov, width, height)
    cameras = []
    for _ in range(count):
        distance = uniform_in(rng, cfg.distance)
        elevation = np.radians(uniform_in(rng, cfg.elevation_deg))
        azimuth = np.radians(uniform_in(rng, cfg.azimuth_deg))
        roll = np.radians(uniform_in(rng, cfg.roll_deg))
        look = target + rng.uniform(-cfg.look_at_jitter, cfg.look_at_jitter, size=3) * np.array([1, 1, 0.5])
        position = look + distance * np.array(
            [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)]
        )
        sampled = {
            "hfov_deg": hfov,
            "distance": distance,
            "elevation_deg": float(np.degrees(elevation)),
            "azimuth_deg": float(np.degrees(azimuth)),
            "roll_deg": float(np.degrees(roll)),
            "look_at": look.tolist(),
        }
        cameras.append(CameraSpec(K.tolist(), width, height, look_at(position, look, roll).tolist(), sampled))
    return cameras


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
    check_pool(pool, classes)
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
        self.layout = yaml.safe_load((SCENES_DIR / f"{self.scene_cfg.layout}.yaml").read_text())
        self.pool = asset_pool(self.scene_cfg)
        # scene.assets=infinigen: Infinigen's variants replace the procedural generator of the classes it
        # provides (the manifest's and the user's meshes stay in the pool); the render job generates
        # the missing ones into the cache (asset_requests) before the first scene is sampled
        self.infinigen: dict[str, list[Variant]] = {}
        self.room_materials: dict[str, list[MaterialVariant]] = {}
        if self.scene_cfg.assets == "infinigen":
            self.infinigen = variants(list(self.scene_cfg.classes), self.scene_cfg.infinigen)
            self.room_materials = room_materials(self.scene_cfg.infinigen)
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
        self, instance_id: int, class_name: str | None, container: dict[str, Any], level: int, rng: np.random.Generator
    ) -> ObjectSpec:
        if class_name is None:
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
        height = float(vertices[:, 2].max())
        drop = [
            float(rng.uniform(-half_x, half_x)),
            float(rng.uniform(-half_y, half_y)),
            uniform_in(rng, self.scene_cfg.drop_height) + 0.1 * level + height / 2,
        ]
        rotation = rng.uniform(0, 2 * np.pi, size=3).tolist()
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

    def sample(self, scene_index: int, seed: list[int], n_cameras: int, *, rng: np.random.Generator) -> SceneSpec:
        container = self._container(rng)
        container["material"] = sample_material(self.materials_cfg, rng=rng).__dict__
        n_objects = _integer(rng, self.scene_cfg.num_objects)
        n_distractors = _integer(rng, self.scene_cfg.distractors)
        classes = list(self.scene_cfg.classes)
        objects = []
        per_level = 6  # objects dropped side by side before the next one starts higher up
        for i in range(n_objects + n_distractors):
            labelled = i < n_objects
            class_name = str(rng.choice(classes)) if labelled else None
            objects.append(self._object(i + 1 if labelled else 0, class_name, container, i // per_level, rng))
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
        cameras = sample_cameras(self.camera_cfg, width, height, target, n_cameras, rng=rng)
        if self.room_materials:
            # drawn last, after everything else, so switching them off changes no object, pose or camera;
            # the procedural entries stay recorded beside them (the builder uses these instead)
            background["infinigen_materials"] = {
                surface: found[int(rng.integers(len(found)))].record() for surface, found in self.room_materials.items()
            }
        return SceneSpec(
            scene_index=scene_index,
            seed=seed,
            scene_name=self.scene_cfg.name,
            container=container,
            objects=objects,
            lights=lights,
            cameras=cameras,
            background=background,
            physics={
                "min_time": float(self.scene_cfg.physics_min_time),
                "max_time": float(self.scene_cfg.physics_max_time),
            },
            conditions={"scene": self.scene_cfg.name, "container": container["kind"]},
        )
