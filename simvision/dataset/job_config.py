"""The render job's config: the top-level schema, the ``output`` and ``shard`` blocks, and the
one function that validates a composed job config by handing each subsystem its own block.

Defaults are written once, in these dataclasses and in the schemas of the blocks they hold (scene
types in ``simvision/scene/``, ``simvision/render/settings.py``, ``simvision/polish/config.py``);
``conf/`` holds only what differs from them, plus the class table and the presets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from simvision.config.checks import ConfigError, incomplete_weights
from simvision.config.classes import ClassEntry, class_table
from simvision.config.paths import CONF_DIR
from simvision.formats import UnknownFormatError, get_format
from simvision.polish.config import PolishConfig, PolishConfigError, to_polish_config
from simvision.render.settings import RenderSettings, validate_render_settings
from simvision.scene.base import typed_scene_config
from simvision.scene.registry import builtin_scene_types


@dataclass
class OutputConfig:
    depth_png: bool = True  # 16-bit millimetre PNG beside the float32 .npy
    write_semantic: bool = True
    write_instance: bool = True
    # per-pixel unit surface normals, camera frame (OpenCV axes), float16 normals/{frame:06d}.npy
    normals: bool = False
    # amodal masks (whole silhouette, occluders ignored): COCO amodal_segmentation / amodal_area and
    # each object's amodal_segmentation in metadata/frames.jsonl
    amodal: bool = True
    # COCO is always written; add kitti, yolo, bop, or a format's dotted path (package.module.Format)
    formats: list[str] = field(default_factory=lambda: ["coco"])
    card: bool = True  # validate the shard and write dataset_card.md/.json, plots and a contact sheet
    # labels and files of a scene are written by a writer process while the next scene renders
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
    scene: Any = MISSING  # a scene type's block; its ``_target_`` names the type
    render: RenderSettings = field(default_factory=RenderSettings)
    output: OutputConfig = field(default_factory=OutputConfig)
    classes: list[ClassEntry] = field(default_factory=list)
    shard: ShardConfig = field(default_factory=ShardConfig)
    polish: PolishConfig = field(default_factory=PolishConfig)


def register_configs() -> None:
    """Register the job schema and every built-in scene type's schema; idempotent."""
    cs = ConfigStore.instance()
    cs.store(name="render_schema", node=RenderAppConfig)
    for scene_type in builtin_scene_types():
        cs.store(group="scene", name=f"{scene_type.name}_schema", node=scene_type.schema)


def validate_output(output: Any) -> None:
    for i, fmt in enumerate(output.formats):
        try:
            get_format(fmt)
        except UnknownFormatError as exc:
            raise ConfigError(f"output.formats[{i}]: {exc}") from None


def validate_job_config(cfg: Any) -> dict[str, int]:
    """Raise :class:`ConfigError` naming the first bad field; return the class table (name -> id).

    Each block is checked by the subsystem it configures; the scene block by its scene type.
    """
    table = class_table(cfg.classes)
    if int(cfg.num_frames) < 1:
        raise ConfigError(f"num_frames: must be >= 1, got {cfg.num_frames}")
    if int(cfg.shard.count) < 1 or not 0 <= int(cfg.shard.index) < int(cfg.shard.count):
        raise ConfigError(f"shard.index: must be in [0, shard.count={cfg.shard.count}), got {cfg.shard.index}")
    if int(cfg.seed) < 0:
        raise ConfigError(f"seed: must be >= 0, got {cfg.seed}")
    if not str(cfg.output_dir):
        raise ConfigError("output_dir: empty")
    validate_render_settings(cfg.render)
    validate_output(cfg.output)
    try:
        to_polish_config(cfg.polish)
    except PolishConfigError as exc:
        raise ConfigError(str(exc)) from exc
    scene_type, scene = typed_scene_config(cfg.scene)
    scene_type.validate(scene, table)
    return table


def check_preset(name: str, search_dirs: Sequence[Path] = (CONF_DIR,)) -> None:
    """Refuse an experiment preset that sets a weight table only in part (see ``incomplete_weights``).

    ``search_dirs`` are the config folders Hydra searched (the first holding ``experiment/<name>.yaml`` wins).
    """
    path = next(
        (d / "experiment" / f"{name}.yaml" for d in search_dirs if (d / "experiment" / f"{name}.yaml").is_file()), None
    )
    if path is None:
        return
    preset: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    scene_name = _preset_scene(preset.pop("defaults", None) or [])
    defaults: dict[str, Any] = _as_dict(RenderAppConfig)
    schemas = {t.name: t.schema for t in builtin_scene_types()}
    if scene_name in schemas:
        defaults["scene"] = _as_dict(schemas[scene_name])
    problems = incomplete_weights(preset, defaults)
    if problems:
        raise ConfigError(f"+experiment={name}: {problems[0]}")


def _as_dict(schema: type) -> dict[str, Any]:
    return dict(OmegaConf.to_container(OmegaConf.structured(schema)))  # type: ignore[arg-type]


def _preset_scene(defaults: list[Any]) -> str | None:
    """The scene a preset selects with ``override /scene: X`` in its defaults list."""
    for entry in defaults:
        if isinstance(entry, dict):
            for key, value in entry.items():
                if str(key).split(" ")[-1].lstrip("/") == "scene":
                    return str(value)
    return None
