"""Schema, defaults and checks of the tabletop / bin-picking scene (``scene=tabletop``, ``scene=bin_picking``).

The defaults are written here once; ``conf/scene/*.yaml`` holds only what differs from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from simvision.config.checks import (
    ConfigError,
    check_choice,
    check_minimum,
    check_probability,
    check_range,
    positive_number,
)
from simvision.scene.assets import MESH_SUFFIXES, Asset, AssetError
from simvision.scene.base import load_layout
from simvision.scene.infinigen_library import (
    EXTRA_BLOCKS,
    FACTORIES,
    INDIRECT_SHADING,
    ROOM_SHADING,
    SURFACE_FACTORIES,
    SURFACE_MATERIALS,
    InfinigenConfig,
)
from simvision.scene.tabletop.food import DISHES, DRINKS

LIGHT_TYPES = ("POINT", "AREA", "SPOT", "SUN")
# Largest extent (metres, after scale) of an object on the table or in the bin. Below 5 mm an object
# covers at most a pixel or two (the default camera, 0.7-1.4 m away with a 45-65 degree view at
# 320 px, sees about 5 mm a pixel), so it is labelled but never visible; above 2 m it is wider than
# any table (at most 1.4 m) or bin and reaches the cameras (0.7 m away): a wrong ``scale`` (a mesh
# in millimetres read as metres, or 1e-9) rather than a tabletop object.
OBJECT_EXTENT_M = (0.005, 2.0)
WALLS = 3  # the room's walls (its fourth side is open, behind the cameras)
WINDOW_MIN_HEIGHT_M = 0.5  # a window is never scaled below this height to fit under the ceiling
WINDOW_TOP_GAP_M = 0.15  # ... and keeps this far below the top of the walls
EYE_WALL_CLEARANCE_M = 0.3  # eye-level cameras keep this far inside the walls (and below their top)


@dataclass
class AssetEntry:
    """A user mesh (OBJ/PLY/GLB/GLTF/STL) added to the object pool."""

    path: str = MISSING
    class_name: str = MISSING
    scale: float = 1.0
    weight: float = 1.0
    licence: str = "user-provided"


@dataclass
class EyeLevelConfig:
    """``scene.camera.eye_level``: views from where a person sits or stands in the room, a few steps from the
    table, looking at it across the room, so the walls, furniture and wall decor behind it fill the upper part
    of the frame (the way most photos of tables are taken) instead of a top-down product shot. Shares
    ``hfov_deg``, ``roll_deg`` and ``look_at_jitter`` with the spherical-cap cameras."""

    probability: float = 0.0  # chance per camera; 0 = every camera on the spherical cap (and no extra draws)
    height_m: list[float] = field(default_factory=lambda: [1.1, 1.7])  # above the floor: seated 1.1-1.3, standing
    distance: list[float] = field(default_factory=lambda: [1.0, 2.2])  # horizontal metres to the look-at point
    # bearing of the camera around the container, degrees (270: on the -y side, looking towards +y). The room
    # has walls at x = +-room_x / 2 and y = +room_y / 2 and is open at -y: the default keeps the open side
    # behind the camera, so a wall is always in view
    azimuth_deg: list[float] = field(default_factory=lambda: [200.0, 340.0])
    look_up_m: list[float] = field(default_factory=lambda: [0.0, 0.25])  # look-at raised above the table top


@dataclass
class CloseUpConfig:
    """``scene.camera.close_up``: a person's photo of what is on the table, from a seat or leaning over it: the
    camera a short way from one labelled object (drawn among them), a little above it, looking at it, so the
    tableware fills much of the frame as in photos of meals."""

    probability: float = 0.0  # chance per camera, drawn before eye_level's; 0 = none (and no extra draws)
    distance: list[float] = field(default_factory=lambda: [0.35, 0.8])  # horizontal metres to the object
    height_m: list[float] = field(default_factory=lambda: [0.15, 0.5])  # above the table top
    azimuth_deg: list[float] = field(default_factory=lambda: [200.0, 340.0])  # as eye_level's: the open side behind


@dataclass
class CameraConfig:
    """Cameras on a spherical cap around the container, looking at it (or, with ``eye_level``, at eye height)."""

    cameras_per_scene: int = 2  # views rendered per sampled scene, in one Cycles call
    hfov_deg: list[float] = field(default_factory=lambda: [45.0, 65.0])
    distance: list[float] = field(default_factory=lambda: [0.7, 1.4])
    elevation_deg: list[float] = field(default_factory=lambda: [30.0, 75.0])
    azimuth_deg: list[float] = field(default_factory=lambda: [0.0, 360.0])
    roll_deg: list[float] = field(default_factory=lambda: [-5.0, 5.0])
    look_at_jitter: float = 0.06
    eye_level: EyeLevelConfig = field(default_factory=EyeLevelConfig)
    close_up: CloseUpConfig = field(default_factory=CloseUpConfig)


@dataclass
class LightingConfig:
    count: list[int] = field(default_factory=lambda: [1, 3])
    types: list[str] = field(default_factory=lambda: list(LIGHT_TYPES))
    temperature_k: list[float] = field(default_factory=lambda: [2700.0, 7500.0])
    energy_w: list[float] = field(default_factory=lambda: [80.0, 400.0])
    sun_strength: list[float] = field(default_factory=lambda: [1.0, 4.0])
    distance: list[float] = field(default_factory=lambda: [1.2, 2.5])
    ambient_strength: list[float] = field(default_factory=lambda: [0.05, 0.5])


@dataclass
class MaterialsConfig:
    roughness: list[float] = field(default_factory=lambda: [0.05, 0.9])
    metallic_probability: float = 0.15
    texture_probability: float = 0.5
    textures: list[str] = field(default_factory=lambda: ["noise", "voronoi", "checker", "wave"])
    texture_scale: list[float] = field(default_factory=lambda: [5.0, 40.0])


@dataclass
class TabletopSceneConfig:
    """Robotics tabletop / bin picking: objects dropped with rigid-body physics on a table or into a bin."""

    _target_: str = "simvision.scene.tabletop.TabletopScene"
    name: str = "tabletop"
    layout: str = "tabletop"  # file in scenes/ (scenes/<layout>.yaml): room, table and bin dimensions
    container: str = "random"  # table | bin | random
    num_objects: list[int] = field(default_factory=lambda: [5, 20])  # labelled objects per scene, inclusive
    classes: list[str] = field(default_factory=lambda: ["cup", "bottle", "bowl", "can", "box"])
    # class -> weight of drawing it for a labelled object (a class not named: 1); empty = every class of
    # ``classes`` equally likely, drawn as before (the closed loop, simvision/loop/, sets it)
    class_weights: dict[str, float] = field(default_factory=dict)
    distractors: list[int] = field(default_factory=lambda: [0, 3])  # unlabelled clutter (torus, sphere, cone)
    # asset library of cup, bowl, bottle, can: procedural (scene/shapes.py, fast, CI) | infinigen (Infinigen's
    # tableware factories with their own materials, generated once into a cache; scene/infinigen_library.py)
    # The users' default is infinigen (with room materials baked to images: 1.45x procedural per frame at
    # 640x480/16 spp, docs/realism.md); $SIMVISION_ASSETS sets another default (tests/conftest.py sets
    # "procedural", so CI and every test stay on the fast shapes unless a test asks for infinigen). The env is
    # read when the config is resolved: config.yaml and config.json record the resolved choice.
    assets: str = "${oc.env:SIMVISION_ASSETS,infinigen}"
    infinigen: InfinigenConfig = field(default_factory=InfinigenConfig)
    use_asset_manifest: bool = True  # also draw meshes listed in assets/manifest.yaml
    # e.g. [{path: /data/mug.glb, class_name: cup, scale: 0.01}]
    extra_assets: list[AssetEntry] = field(default_factory=list)
    drop_height: list[float] = field(default_factory=lambda: [0.05, 0.2])
    # the share of dropped objects (labelled and distractors) that start standing on their base, tilted at most
    # upright_tilt_deg with a free yaw, the way a table is set; the others tumble in any orientation. 0 = all
    # tumble (the default: bin picking, and frames as before); the lived_in experiment sets 0.9
    upright_probability: float = 0.0
    upright_tilt_deg: float = 5.0
    # keep objects on the table / in the bin: drop positions keep each object's whole footprint inside the
    # top, and an object that still ends off it after the drop is removed (from the scene and the labels)
    # and recorded in the frame's physics.removed. auto = on with scene.assets=infinigen only (procedural
    # frames stay as they were)
    keep_on_table: str = "auto"  # auto | true | false
    # during the drop only: an invisible lip this high (metres) just outside the table top's edges, so objects
    # that slide or roll to an edge stop there instead of falling off; removed before rendering (never seen or
    # labelled). Tables only; 0 = none (the default). e.g. scene.table_rim_m=0.03
    table_rim_m: float = 0.0
    physics_min_time: float = 1.0
    physics_max_time: float = 4.0  # 0 = no physics
    camera: CameraConfig = field(default_factory=CameraConfig)
    lighting: LightingConfig = field(default_factory=LightingConfig)
    materials: MaterialsConfig = field(default_factory=MaterialsConfig)


def validate_tabletop(scene: Any, table: dict[str, int]) -> None:
    """Raise :class:`ConfigError` naming the first bad ``scene.*`` field."""
    check_choice(scene.container, "scene.container", ("table", "bin", "random"))
    check_range(scene.num_objects, "scene.num_objects", minimum=0, integer=True)
    check_choice(scene.assets, "scene.assets", ("procedural", "infinigen"))
    check_choice(str(scene.keep_on_table).lower(), "scene.keep_on_table", ("auto", "true", "false"))
    room = load_layout(scene.layout)["room"]["size"]
    _validate_extras(scene.infinigen, room)
    if int(scene.infinigen.variants) < 1:
        raise ConfigError(f"scene.infinigen.variants: must be >= 1, got {scene.infinigen.variants}")
    if int(scene.infinigen.material_variants) < 1:
        raise ConfigError(f"scene.infinigen.material_variants: must be >= 1, got {scene.infinigen.material_variants}")
    check_choice(scene.infinigen.indirect_shading, "scene.infinigen.indirect_shading", INDIRECT_SHADING)
    check_choice(scene.infinigen.room_shading, "scene.infinigen.room_shading", ROOM_SHADING)
    check_minimum(scene.infinigen.bake_px, "scene.infinigen.bake_px", 8)
    check_minimum(scene.infinigen.bake_m, "scene.infinigen.bake_m", 0.1)
    check_minimum(scene.infinigen.bake_normal_strength, "scene.infinigen.bake_normal_strength", 0)
    check_minimum(scene.infinigen.bake_normal_blur, "scene.infinigen.bake_normal_blur", 0)
    check_minimum(scene.infinigen.max_triangles, "scene.infinigen.max_triangles", 0)  # 0 = no limit
    check_range(scene.distractors, "scene.distractors", minimum=0, integer=True)
    check_range(scene.drop_height, "scene.drop_height", minimum=0)
    check_probability(scene.upright_probability, "scene.upright_probability")
    if not 0.0 <= float(scene.upright_tilt_deg) <= 90.0:
        raise ConfigError(f"scene.upright_tilt_deg: must be 0 to 90 degrees, got {scene.upright_tilt_deg}")
    if not 0.0 <= float(scene.table_rim_m) <= 0.2:
        raise ConfigError(f"scene.table_rim_m: must be 0 (none) to 0.2 m, got {scene.table_rim_m}")
    if float(scene.physics_max_time) != 0 and float(scene.physics_max_time) <= float(scene.physics_min_time):
        raise ConfigError(
            f"scene.physics_max_time: must be 0 (no physics) or above physics_min_time={scene.physics_min_time}, "
            f"got {scene.physics_max_time}"
        )
    if not scene.classes:
        raise ConfigError("scene.classes: no classes to place")
    for i, name in enumerate(scene.classes):
        if name not in table:
            raise ConfigError(f"scene.classes[{i}]: unknown class {name!r} (not in the class table)")
    weights = scene.get("class_weights") or {}
    for name, weight in weights.items():
        if name not in scene.classes:
            raise ConfigError(f"scene.class_weights.{name}: not one of scene.classes {list(scene.classes)}")
        if not float(weight) >= 0:
            raise ConfigError(f"scene.class_weights.{name}: must be >= 0, got {weight}")
    if weights and sum(float(weights.get(c, 1.0)) for c in scene.classes) <= 0:
        raise ConfigError("scene.class_weights: every class of scene.classes has weight 0")
    for i, asset in enumerate(scene.extra_assets):
        path = Path(asset.path)
        if asset.class_name not in table:
            raise ConfigError(f"scene.extra_assets[{i}].class_name: unknown class {asset.class_name!r}")
        if not path.is_file():
            raise ConfigError(f"scene.extra_assets[{i}].path: file not found: {path}")
        if path.suffix.lower() not in MESH_SUFFIXES:
            raise ConfigError(f"scene.extra_assets[{i}].path: unsupported mesh format {path.suffix!r}")
        positive_number(asset.scale, f"scene.extra_assets[{i}].scale")
        positive_number(asset.weight, f"scene.extra_assets[{i}].weight")
    _validate_camera(scene.camera, room)
    _validate_lighting(scene.lighting)


def _validate_fill_levels(levels: Any, name: str) -> None:
    """A fill level range: shares of the vessel's inside depth, within [0.05, 1]."""
    check_range(levels, name, minimum=0.05)
    if float(levels[1]) > 1.0:
        raise ConfigError(f"{name}: a share of the vessel's depth, at most 1, got {list(levels)}")


def _validate_extras(ig: Any, room: list[float]) -> None:
    """``scene.infinigen``'s blocks of extras: known kinds, a count range; the windows' sills below the ceiling."""
    for block, known in EXTRA_BLOCKS.items():
        entry = ig[block]
        check_range(entry.count, f"scene.infinigen.{block}.count", minimum=0, integer=True)
        for i, kind in enumerate(entry.kinds):
            if kind not in known:
                raise ConfigError(
                    f"scene.infinigen.{block}.kinds[{i}]: unknown kind {kind!r}; choose from {', '.join(known)}"
                )
        if int(entry.count[1]) > 0 and not entry.kinds:
            raise ConfigError(f"scene.infinigen.{block}.kinds: empty, but count is {list(entry.count)}")
    for name, choices in (ig.get("surfaces") or {}).items():
        factory = FACTORIES.get(name, ("", ""))[1]
        if factory not in SURFACE_FACTORIES:
            takes = sorted(k for k, (_, f) in FACTORIES.items() if f in SURFACE_FACTORIES)
            raise ConfigError(
                f"scene.infinigen.surfaces.{name}: not a class whose surface can be chosen; one of {takes}"
            )
        for i, surface in enumerate(choices):
            if surface not in SURFACE_MATERIALS:
                raise ConfigError(
                    f"scene.infinigen.surfaces.{name}[{i}]: unknown material {surface!r}; "
                    f"choose from {', '.join(SURFACE_MATERIALS)}"
                )
    check_probability(ig.bowl_fill.probability, "scene.infinigen.bowl_fill.probability")
    check_probability(ig.bowl_fill.dish_probability, "scene.infinigen.bowl_fill.dish_probability")
    for i, name in enumerate(ig.bowl_fill.dishes):
        if name not in DISHES:
            raise ConfigError(
                f"scene.infinigen.bowl_fill.dishes[{i}]: unknown dish {name!r}; choose from {', '.join(DISHES)}"
            )
    if float(ig.bowl_fill.dish_probability) > 0 and not ig.bowl_fill.dishes:
        raise ConfigError("scene.infinigen.bowl_fill.dishes: empty, but dish_probability is above 0")
    _validate_fill_levels(ig.bowl_fill.dish_level, "scene.infinigen.bowl_fill.dish_level")
    cup = ig.cup_fill
    check_probability(cup.probability, "scene.infinigen.cup_fill.probability")
    _validate_fill_levels(cup.level, "scene.infinigen.cup_fill.level")
    for i, name in enumerate(cup.drinks):
        if name not in DRINKS:
            raise ConfigError(
                f"scene.infinigen.cup_fill.drinks[{i}]: unknown drink {name!r}; choose from {', '.join(DRINKS)}"
            )
    if float(cup.probability) > 0 and not cup.drinks:
        raise ConfigError("scene.infinigen.cup_fill.drinks: empty, but probability is above 0")
    check_range(ig.wall_decor.height_m, "scene.infinigen.wall_decor.height_m", minimum=0.1)
    if int(ig.windows.count[1]) > WALLS:
        raise ConfigError(
            f"scene.infinigen.windows.count: at most one window a wall ({WALLS}), got {list(ig.windows.count)}"
        )
    check_range(ig.windows.sill_m, "scene.infinigen.windows.sill_m", minimum=0.0)
    if float(ig.windows.sill_m[1]) > float(room[2]) - WINDOW_MIN_HEIGHT_M - WINDOW_TOP_GAP_M:
        raise ConfigError(
            f"scene.infinigen.windows.sill_m: {list(ig.windows.sill_m)} leaves no room for a window under the "
            f"{room[2]} m walls (at most {float(room[2]) - WINDOW_MIN_HEIGHT_M - WINDOW_TOP_GAP_M:g} m)"
        )
    check_range(ig.windows.daylight, "scene.infinigen.windows.daylight", minimum=0.0)
    check_range(ig.windows.daylight_kelvin, "scene.infinigen.windows.daylight_kelvin", minimum=1000.0)


def keep_on_table(scene: Any) -> bool:
    """``scene.keep_on_table`` resolved: auto is on with Infinigen assets only."""
    value = str(scene.keep_on_table).lower()
    return scene.assets == "infinigen" if value == "auto" else value == "true"


def _validate_camera(c: Any, room_size: list[float]) -> None:
    if int(c.cameras_per_scene) < 1:
        raise ConfigError(f"scene.camera.cameras_per_scene: must be >= 1, got {c.cameras_per_scene}")
    check_range(c.hfov_deg, "scene.camera.hfov_deg", minimum=1)
    if c.hfov_deg[1] >= 179:
        raise ConfigError(f"scene.camera.hfov_deg: must be below 179, got {list(c.hfov_deg)}")
    check_range(c.distance, "scene.camera.distance", minimum=0.01)
    check_range(c.elevation_deg, "scene.camera.elevation_deg", minimum=-89)
    close = c.close_up
    check_probability(close.probability, "scene.camera.close_up.probability")
    check_range(close.distance, "scene.camera.close_up.distance", minimum=0.1)
    check_range(close.height_m, "scene.camera.close_up.height_m", minimum=0.0)
    check_range(close.azimuth_deg, "scene.camera.close_up.azimuth_deg", minimum=-720)
    eye = c.eye_level
    if not 0.0 <= float(eye.probability) <= 1.0:
        raise ConfigError(f"scene.camera.eye_level.probability: must be in [0, 1], got {eye.probability}")
    check_range(eye.height_m, "scene.camera.eye_level.height_m", minimum=0.05)
    check_range(eye.distance, "scene.camera.eye_level.distance", minimum=0.1)
    check_range(eye.azimuth_deg, "scene.camera.eye_level.azimuth_deg", minimum=-720)
    check_range(eye.look_up_m, "scene.camera.eye_level.look_up_m", minimum=0)
    room_x, room_y, room_z = room_size
    inside = min(room_x, room_y) / 2 - EYE_WALL_CLEARANCE_M
    if float(eye.distance[1]) > inside:
        raise ConfigError(
            f"scene.camera.eye_level.distance: must stay inside the {room_x:g} x {room_y:g} m room (at most "
            f"{inside:g} m from its centre), got {list(eye.distance)}"
        )
    if float(eye.height_m[1]) > room_z - EYE_WALL_CLEARANCE_M:
        raise ConfigError(
            f"scene.camera.eye_level.height_m: must stay below the {room_z:g} m walls, got {list(eye.height_m)}"
        )


def _validate_lighting(lighting: Any) -> None:
    check_range(lighting.count, "scene.lighting.count", minimum=0, integer=True)
    check_range(lighting.energy_w, "scene.lighting.energy_w", minimum=0)
    check_range(lighting.temperature_k, "scene.lighting.temperature_k", minimum=1000)
    for i, kind in enumerate(lighting.types):
        if kind not in LIGHT_TYPES:
            raise ConfigError(f"scene.lighting.types[{i}]: unknown light type {kind!r}")


def check_object_size(asset: Asset, vertices: Any) -> None:
    """Raise :class:`AssetError` naming the asset if its mesh is outside :data:`OBJECT_EXTENT_M`."""
    largest = float((vertices.max(axis=0) - vertices.min(axis=0)).max())
    lo, hi = OBJECT_EXTENT_M
    if not lo <= largest <= hi:
        raise AssetError(
            f"{asset.path}: asset {asset.id!r} is {largest:.3g} m across after scale {asset.scale:g}; a tabletop "
            f"object must be {lo:g}-{hi:g} m (fix its scale)"
        )


def check_pool(pool: dict[str, list[Asset]], classes: Any, infinigen: bool = False) -> None:
    """Every class the scene places needs a procedural shape or a mesh asset to draw from (or, with
    ``infinigen``, an Infinigen factory)."""
    for i, name in enumerate(classes):
        if not pool.get(name) and not (infinigen and name in FACTORIES):
            hint = " or scene.assets=infinigen, which has it" if name in FACTORIES else ""
            raise ConfigError(
                f"scene.classes[{i}]: class {name!r} has no procedural shape and no mesh asset "
                f"(add one to scene.extra_assets or assets/manifest.yaml{hint})"
            )
