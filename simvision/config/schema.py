"""Dataclass schemas for every config group, registered in Hydra's ConfigStore.

YAML files in ``conf/`` inherit these schemas, so a typo'd key or a wrongly typed value fails at
composition time, and :func:`simvision.config.validate.validate_render_config` checks the ranges
before anything renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from simvision.polish.config import PolishConfig


@dataclass
class ClassEntry:
    """One row of the class table: the only source of category ids."""

    id: int = MISSING
    name: str = MISSING
    supercategory: str = "object"
    # names of this class in other label sets, e.g. {"kitti": "Car", "coco": "car"}
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class AssetEntry:
    """A user mesh (OBJ/PLY/GLB/GLTF) added to the object pool."""

    path: str = MISSING
    class_name: str = MISSING
    scale: float = 1.0
    weight: float = 1.0
    licence: str = "user-provided"


@dataclass
class TabletopSceneConfig:
    name: str = "tabletop"
    container: str = "random"  # table | bin | random
    num_objects: list[int] = field(default_factory=lambda: [5, 20])
    classes: list[str] = field(default_factory=lambda: ["cup", "bottle", "bowl", "can", "box"])
    distractors: list[int] = field(default_factory=lambda: [0, 3])
    use_asset_manifest: bool = True
    extra_assets: list[AssetEntry] = field(default_factory=list)
    drop_height: list[float] = field(default_factory=lambda: [0.05, 0.2])
    physics_min_time: float = 1.0
    physics_max_time: float = 4.0
    layout: str = "tabletop"  # file in scenes/ (scenes/<layout>.yaml)


@dataclass
class StreetSceneConfig:
    """Procedural street: road, kerbs, sidewalks, buildings, furniture, traffic and obstacles."""

    name: str = "street"
    layout: str = "street"  # file in scenes/ (scenes/<layout>.yaml)
    road: list[str] = field(default_factory=lambda: ["straight", "curve", "intersection"])
    lanes: list[int] = field(default_factory=lambda: [2, 4])
    moving_vehicles: list[int] = field(default_factory=lambda: [2, 8])
    parked_vehicles: list[int] = field(default_factory=lambda: [2, 8])
    vehicle_types: dict[str, float] = field(
        default_factory=lambda: {"car": 0.65, "van": 0.15, "truck": 0.1, "bus": 0.1}
    )
    pedestrians: list[int] = field(default_factory=lambda: [2, 10])
    cyclists: list[int] = field(default_factory=lambda: [0, 3])
    traffic_cones: list[int] = field(default_factory=lambda: [0, 4])
    barriers: list[int] = field(default_factory=lambda: [0, 2])
    obstacles: list[int] = field(default_factory=lambda: [0, 1])
    obstacle_types: dict[str, float] = field(
        default_factory=lambda: {"debris": 1.0, "fallen_cargo": 1.0, "animal": 1.0, "tyre": 1.0}
    )
    construction_zone_probability: float = 0.1
    buildings: bool = True
    street_lamp_spacing: list[float] = field(default_factory=lambda: [22.0, 35.0])
    traffic_signs: list[int] = field(default_factory=lambda: [1, 4])
    # class -> weight multiplier for spawning, to over-sample rare classes (1 = natural)
    class_weights: dict[str, float] = field(default_factory=dict)
    # camera on the ego car
    camera_height: list[float] = field(default_factory=lambda: [1.3, 1.8])
    camera_pitch_deg: list[float] = field(default_factory=lambda: [-6.0, 1.0])
    camera_roll_deg: list[float] = field(default_factory=lambda: [-1.5, 1.5])
    camera_yaw_jitter_deg: list[float] = field(default_factory=lambda: [-3.0, 3.0])
    camera_hfov_deg: list[float] = field(default_factory=lambda: [55.0, 90.0])
    rig_yaw_deg: list[float] = field(default_factory=lambda: [0.0])  # one camera per entry (multi-camera rig)


@dataclass
class ConditionsConfig:
    """Time of day, weather and camera effects, drawn per scene and recorded with every frame."""

    time_of_day: dict[str, float] = field(
        default_factory=lambda: {"day": 0.55, "low_sun": 0.15, "dusk": 0.1, "night": 0.2}
    )
    glare_probability: float = 0.15  # low sun placed in the camera's view
    weather: dict[str, float] = field(
        default_factory=lambda: {"clear": 0.5, "overcast": 0.2, "fog": 0.15, "rain": 0.15}
    )
    fog_density: list[float] = field(default_factory=lambda: [0.01, 0.06])  # 1/m extinction
    rain_wetness: list[float] = field(default_factory=lambda: [0.5, 1.0])
    puddle_coverage: list[float] = field(default_factory=lambda: [0.1, 0.45])
    rain_streaks: list[int] = field(default_factory=lambda: [0, 400])
    exposure_ev: list[float] = field(default_factory=lambda: [-0.5, 0.5])
    night_exposure_ev: list[float] = field(default_factory=lambda: [0.5, 2.0])
    motion_blur_px: list[float] = field(default_factory=lambda: [0.0, 3.0])
    sensor_noise: list[float] = field(default_factory=lambda: [0.0, 0.02])
    lens_dirt_probability: float = 0.1
    preset: str = "none"


@dataclass
class CameraConfig:
    cameras_per_scene: int = 2
    hfov_deg: list[float] = field(default_factory=lambda: [45.0, 65.0])
    distance: list[float] = field(default_factory=lambda: [0.7, 1.4])
    elevation_deg: list[float] = field(default_factory=lambda: [30.0, 75.0])
    azimuth_deg: list[float] = field(default_factory=lambda: [0.0, 360.0])
    roll_deg: list[float] = field(default_factory=lambda: [-5.0, 5.0])
    look_at_jitter: float = 0.06


@dataclass
class LightingConfig:
    count: list[int] = field(default_factory=lambda: [1, 3])
    types: list[str] = field(default_factory=lambda: ["POINT", "AREA", "SPOT", "SUN"])
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
class RenderSettings:
    resolution: list[int] = field(default_factory=lambda: [320, 240])
    samples: int = 16
    device: str = "auto"  # auto | cpu | cuda | optix
    threads: int = 0  # 0 = all cores
    denoiser: str = "OPENIMAGEDENOISE"  # OPENIMAGEDENOISE | OPTIX | none (one pass, inside Cycles)
    denoising_prefilter: str = "ACCURATE"  # ACCURATE | FAST | NONE: how OIDN cleans its albedo/normal guides
    denoising_quality: str = "HIGH"  # HIGH | BALANCED | FAST (OIDN 2 network size)
    denoise_on_gpu: bool = True  # run OIDN on the render GPU when Cycles renders on one
    noise_threshold: float = 0.0  # adaptive sampling threshold, 0 = off
    adaptive_min_samples: int = 0  # adaptive sampling: samples before a pixel may stop, 0 = Cycles' auto
    max_bounces: int = 4
    persistent_data: bool = True  # keep Cycles' scene (BVH, shaders) between the views of a scene
    # drop the next scene's objects in a helper Blender process during this render: auto = when
    # Cycles renders on a GPU (on the CPU, Cycles already keeps every core busy)
    physics_worker: str = "auto"  # auto | true | false


@dataclass
class OutputConfig:
    depth_png: bool = True  # 16-bit millimetre PNG beside the float32 .npy
    write_semantic: bool = True
    write_instance: bool = True
    formats: list[str] = field(default_factory=lambda: ["coco"])  # + kitti, yolo, bop
    card: bool = True  # validate the shard and write dataset_card.md/.json, plots and a contact sheet
    # derive labels and write files in a background thread while the next scene renders
    background_writes: bool = True


@dataclass
class ShardConfig:
    """This job's block of scenes: shard ``index`` of ``count`` (Hydra multirun: shard.index=range(0,N))."""

    index: int = 0
    count: int = 1


@dataclass
class RenderAppConfig:
    output_dir: str = "${hydra:runtime.output_dir}"
    num_frames: int = 8
    seed: int = 0
    scene: Any = MISSING
    camera: CameraConfig = field(default_factory=CameraConfig)
    lighting: LightingConfig = field(default_factory=LightingConfig)
    materials: MaterialsConfig = field(default_factory=MaterialsConfig)
    render: RenderSettings = field(default_factory=RenderSettings)
    output: OutputConfig = field(default_factory=OutputConfig)
    classes: list[ClassEntry] = field(default_factory=list)
    conditions: ConditionsConfig = field(default_factory=ConditionsConfig)
    shard: ShardConfig = field(default_factory=ShardConfig)
    polish: PolishConfig = field(default_factory=PolishConfig)


SCENE_SCHEMAS: dict[str, type] = {"tabletop": TabletopSceneConfig, "street": StreetSceneConfig}


def register_configs() -> None:
    """Register the schemas; idempotent."""
    cs = ConfigStore.instance()
    cs.store(name="render_schema", node=RenderAppConfig)
    for name, schema in SCENE_SCHEMAS.items():
        cs.store(group="scene", name=f"{name}_schema", node=schema)
