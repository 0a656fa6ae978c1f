"""Range and reference checks on a composed render config, before anything renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simvision.config.paths import SCENES_DIR
from simvision.config.schema import SCENE_SCHEMAS
from simvision.render.runtime import DENOISING_QUALITIES, DEVICES, PREFILTERS
from simvision.scene.assets import MESH_SUFFIXES


class ConfigError(ValueError):
    """A bad config value; the message starts with the dotted name of the field."""


def _range(cfg: Any, key: str, name: str, *, minimum: float | None = None, integer: bool = False) -> None:
    value = cfg[key]
    if value is None or len(value) != 2:
        raise ConfigError(f"{name}: expected [low, high], got {value}")
    lo, hi = value
    if integer and (int(lo) != lo or int(hi) != hi):
        raise ConfigError(f"{name}: expected whole numbers, got {list(value)}")
    if lo > hi:
        raise ConfigError(f"{name}: low {lo} is above high {hi}")
    if minimum is not None and lo < minimum:
        raise ConfigError(f"{name}: values must be >= {minimum}, got {list(value)}")


def class_table(cfg: Any) -> dict[str, int]:
    """name -> id from ``classes``; checks ids and names are unique and ids positive."""
    table: dict[str, int] = {}
    ids: set[int] = set()
    if not cfg.classes:
        raise ConfigError("classes: the class table is empty")
    for i, entry in enumerate(cfg.classes):
        if int(entry.id) <= 0:
            raise ConfigError(f"classes[{i}].id: ids must be positive (0 is background), got {entry.id}")
        if entry.name in table or int(entry.id) in ids:
            raise ConfigError(f"classes[{i}]: duplicate class name or id ({entry.name}, {entry.id})")
        table[str(entry.name)] = int(entry.id)
        ids.add(int(entry.id))
    return table


def validate_render_config(cfg: Any) -> dict[str, int]:
    """Raise :class:`ConfigError` naming the first bad field; return the class table."""
    table = class_table(cfg)
    if int(cfg.num_frames) < 1:
        raise ConfigError(f"num_frames: must be >= 1, got {cfg.num_frames}")
    if int(cfg.shard.count) < 1 or not 0 <= int(cfg.shard.index) < int(cfg.shard.count):
        raise ConfigError(f"shard.index: must be in [0, shard.count={cfg.shard.count}), got {cfg.shard.index}")
    if int(cfg.seed) < 0:
        raise ConfigError(f"seed: must be >= 0, got {cfg.seed}")
    if not str(cfg.output_dir):
        raise ConfigError("output_dir: empty")
    r = cfg.render
    if len(r.resolution) != 2 or any(int(v) < 1 for v in r.resolution):
        raise ConfigError(f"render.resolution: expected [width, height] > 0, got {list(r.resolution)}")
    if any(int(v) > 16384 for v in r.resolution):
        raise ConfigError(f"render.resolution: at most 16384 pixels a side, got {list(r.resolution)}")
    if int(r.samples) < 1:
        raise ConfigError(f"render.samples: must be >= 1, got {r.samples}")
    if r.device not in DEVICES:
        raise ConfigError(f"render.device: unknown device {r.device!r}; choose one of {', '.join(DEVICES)}")
    if str(r.denoiser).upper() not in ("OPENIMAGEDENOISE", "OPTIX", "NONE"):
        raise ConfigError(f"render.denoiser: {r.denoiser!r} is not OPENIMAGEDENOISE, OPTIX or none")
    for key, allowed in (("denoising_prefilter", PREFILTERS), ("denoising_quality", DENOISING_QUALITIES)):
        if str(r[key]).upper() not in allowed:
            raise ConfigError(f"render.{key}: {r[key]!r} is not one of {', '.join(allowed)}")
    if str(r.physics_worker).lower() not in ("auto", "true", "false"):
        raise ConfigError(f"render.physics_worker: {r.physics_worker!r} is not auto, true or false")
    for key in ("threads", "max_bounces", "noise_threshold", "adaptive_min_samples"):
        if float(r[key]) < 0:
            raise ConfigError(f"render.{key}: must be >= 0, got {r[key]}")
    c = cfg.camera
    if int(c.cameras_per_scene) < 1:
        raise ConfigError(f"camera.cameras_per_scene: must be >= 1, got {c.cameras_per_scene}")
    _range(c, "hfov_deg", "camera.hfov_deg", minimum=1)
    if c.hfov_deg[1] >= 179:
        raise ConfigError(f"camera.hfov_deg: must be below 179, got {list(c.hfov_deg)}")
    _range(c, "distance", "camera.distance", minimum=0.01)
    _range(c, "elevation_deg", "camera.elevation_deg", minimum=-89)
    lighting = cfg.lighting
    _range(lighting, "count", "lighting.count", minimum=0, integer=True)
    _range(lighting, "energy_w", "lighting.energy_w", minimum=0)
    _range(lighting, "temperature_k", "lighting.temperature_k", minimum=1000)
    for i, kind in enumerate(lighting.types):
        if kind not in ("POINT", "AREA", "SPOT", "SUN"):
            raise ConfigError(f"lighting.types[{i}]: unknown light type {kind!r}")
    from simvision.formats import UnknownFormatError, get_format  # noqa: PLC0415

    for i, fmt in enumerate(cfg.output.formats):
        try:
            get_format(fmt)
        except UnknownFormatError as exc:
            raise ConfigError(f"output.formats[{i}]: {exc}") from None
    _validate_conditions(cfg.conditions)
    from simvision.polish.config import PolishConfigError, to_polish_config  # noqa: PLC0415

    try:
        to_polish_config(cfg.polish)
    except PolishConfigError as exc:
        raise ConfigError(str(exc)) from exc
    _validate_scene(cfg.scene, table)
    return table


def _weights(mapping: Any, name: str, allowed: Any) -> None:
    if not mapping:
        raise ConfigError(f"{name}: needs at least one entry")
    for key, value in mapping.items():
        if key not in allowed:
            raise ConfigError(f"{name}.{key}: unknown entry; choose from {', '.join(sorted(allowed))}")
        if float(value) < 0:
            raise ConfigError(f"{name}.{key}: weights must be >= 0, got {value}")
    if sum(float(v) for v in mapping.values()) <= 0:
        raise ConfigError(f"{name}: all weights are 0")


def _validate_conditions(cond: Any) -> None:
    from simvision.scene.conditions import SUN_ELEVATION, WEATHERS  # noqa: PLC0415

    _weights(cond.time_of_day, "conditions.time_of_day", SUN_ELEVATION)
    _weights(cond.weather, "conditions.weather", WEATHERS)
    for key in ("fog_density", "rain_wetness", "puddle_coverage", "rain_streaks", "motion_blur_px", "sensor_noise"):
        _range(cond, key, f"conditions.{key}", minimum=0)
    for key in ("glare_probability", "lens_dirt_probability"):
        if not 0 <= float(cond[key]) <= 1:
            raise ConfigError(f"conditions.{key}: must be within [0, 1], got {cond[key]}")


def _validate_street(scene: Any, table: dict[str, int]) -> None:
    from simvision.scene.street import KIND_CLASS  # noqa: PLC0415

    for key in (
        "lanes",
        "moving_vehicles",
        "parked_vehicles",
        "pedestrians",
        "cyclists",
        "traffic_cones",
        "barriers",
        "obstacles",
        "traffic_signs",
    ):
        _range(scene, key, f"scene.{key}", minimum=0, integer=True)
    if int(scene.lanes[0]) < 1:
        raise ConfigError(f"scene.lanes: at least one lane, got {list(scene.lanes)}")
    for i, road in enumerate(scene.road):
        if road not in ("straight", "curve", "intersection"):
            raise ConfigError(f"scene.road[{i}]: {road!r} is not straight, curve or intersection")
    _weights(scene.vehicle_types, "scene.vehicle_types", ("car", "van", "truck", "bus"))
    _weights(scene.obstacle_types, "scene.obstacle_types", ("debris", "fallen_cargo", "animal", "tyre"))
    for name, weight in (scene.class_weights or {}).items():
        if name not in table:
            raise ConfigError(f"scene.class_weights.{name}: unknown class (not in the class table)")
        if float(weight) < 0:
            raise ConfigError(f"scene.class_weights.{name}: must be >= 0, got {weight}")
    for kind in scene.vehicle_types:
        if KIND_CLASS[kind] not in table:
            raise ConfigError(f"scene.vehicle_types.{kind}: class {KIND_CLASS[kind]!r} is not in the class table")
    _range(scene, "camera_height", "scene.camera_height", minimum=0.1)
    _range(scene, "camera_hfov_deg", "scene.camera_hfov_deg", minimum=1)
    if float(scene.camera_hfov_deg[1]) >= 179:
        raise ConfigError(f"scene.camera_hfov_deg: must be below 179, got {list(scene.camera_hfov_deg)}")
    if not scene.rig_yaw_deg:
        raise ConfigError("scene.rig_yaw_deg: the camera rig needs at least one camera")
    if not 0 <= float(scene.construction_zone_probability) <= 1:
        raise ConfigError("scene.construction_zone_probability: must be within [0, 1]")


def _validate_scene(scene: Any, table: dict[str, int]) -> None:
    if scene.name not in SCENE_SCHEMAS:
        raise ConfigError(f"scene.name: unknown scene {scene.name!r}; choose one of {', '.join(SCENE_SCHEMAS)}")
    if not (SCENES_DIR / f"{scene.layout}.yaml").is_file():
        raise ConfigError(f"scene.layout: no layout file scenes/{scene.layout}.yaml")
    if scene.name == "street":
        _validate_street(scene, table)
        return
    if scene.container not in ("table", "bin", "random"):
        raise ConfigError(f"scene.container: {scene.container!r} is not table, bin or random")
    _range(scene, "num_objects", "scene.num_objects", minimum=0, integer=True)
    _range(scene, "distractors", "scene.distractors", minimum=0, integer=True)
    _range(scene, "drop_height", "scene.drop_height", minimum=0)
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
    for i, asset in enumerate(scene.extra_assets):
        path = Path(asset.path)
        if asset.class_name not in table:
            raise ConfigError(f"scene.extra_assets[{i}].class_name: unknown class {asset.class_name!r}")
        if not path.is_file():
            raise ConfigError(f"scene.extra_assets[{i}].path: file not found: {path}")
        if path.suffix.lower() not in MESH_SUFFIXES:
            raise ConfigError(f"scene.extra_assets[{i}].path: unsupported mesh format {path.suffix!r}")
        if float(asset.scale) <= 0:
            raise ConfigError(f"scene.extra_assets[{i}].scale: must be > 0, got {asset.scale}")
