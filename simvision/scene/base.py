"""The scene-type plug-in: one class per scene type owns its schema, its checks and its sampler.

A scene config names its type with ``_target_`` (a dotted path to a :class:`SceneType` subclass),
so a new scene type is one module plus one YAML file; nothing else dispatches on scene names.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import yaml
from hydra.utils import get_class
from omegaconf import DictConfig

from simvision.config.checks import ConfigError
from simvision.config.paths import SCENES_DIR
from simvision.config.typed import typed_block
from simvision.scene.spec import SceneSpec


def load_layout(name: str) -> dict[str, Any]:
    """The declarative layout ``scenes/<name>.yaml`` (room, table, road dimensions the samplers draw within)."""
    return yaml.safe_load((SCENES_DIR / f"{name}.yaml").read_text())


class SceneType:
    """Base of every scene type. Subclasses set :attr:`name` and :attr:`schema` and implement
    :meth:`sample`; they may extend :meth:`validate`, :meth:`views_per_scene` and
    :meth:`condition_targets`.

    An instance is built from the scene's own typed config block, the class table and the
    image size (never the whole job config) and must not touch Blender: it returns plain-data
    :class:`~simvision.scene.spec.SceneSpec` objects.
    """

    name: ClassVar[str]
    schema: ClassVar[type]
    # fields added to ``schema`` after datasets were rendered with it (dotted, inside the scene block) -> the
    # value that leaves them off, or a predicate ``(value, scene block as a dict) -> bool`` for a field whose
    # default depends on another: while they are off they stay out of a folder's identity
    # (``dataset/resume.config_fingerprint``), so folders rendered before them resume and match byte for byte
    later_fields: ClassVar[dict[str, Any]] = {}

    def __init__(self, cfg: DictConfig, class_ids: dict[str, int], resolution: tuple[int, int]) -> None:
        self.cfg = cfg
        self.class_ids = class_ids
        self.resolution = resolution

    @classmethod
    def validate(cls, cfg: DictConfig, class_ids: dict[str, int]) -> None:
        """Raise :class:`ConfigError` naming the first bad ``scene.*`` field. The base checks the layout file."""
        layout = cfg.get("layout")
        if layout is not None and not (SCENES_DIR / f"{layout}.yaml").is_file():
            raise ConfigError(f"scene.layout: no layout file scenes/{layout}.yaml")

    def asset_requests(self) -> list[Any]:
        """Generated assets the render job must prepare before the first :meth:`sample` (plain data,
        e.g. :class:`~simvision.scene.infinigen_library.Variant`); none by default."""
        return []

    def views_per_scene(self) -> int:
        """Frames rendered from each sampled scene (one Cycles call renders them all)."""
        return 1

    def condition_targets(self) -> dict[str, dict[str, float]]:
        """Recorded condition key -> {value: target share}, for the realised-counts table."""
        return {}

    def sample(self, scene_index: int, seed: list[int], n_views: int, *, rng: np.random.Generator) -> SceneSpec:
        raise NotImplementedError


def scene_type_of(scene_cfg: Any) -> type[SceneType]:
    """The :class:`SceneType` class a scene config names with ``_target_``."""
    target = scene_cfg.get("_target_") if scene_cfg is not None else None
    if not target:
        raise ConfigError("scene._target_: the scene config names no scene type (a dotted path to a SceneType)")
    try:
        cls = get_class(str(target))
    except Exception as exc:  # noqa: BLE001 - Hydra raises several kinds; the message says which
        raise ConfigError(f"scene._target_: cannot import {target!r} ({str(exc).splitlines()[0]})") from None
    if not (isinstance(cls, type) and issubclass(cls, SceneType)):
        raise ConfigError(f"scene._target_: {target!r} is not a simvision.scene.base.SceneType")
    return cls


def typed_scene_config(scene_cfg: Any) -> tuple[type[SceneType], DictConfig]:
    """The scene type and its config block merged onto the type's schema (defaults filled, types checked)."""
    cls = scene_type_of(scene_cfg)
    return cls, typed_block(cls.schema, scene_cfg, "scene")


def load_scene(scene_cfg: Any, class_ids: dict[str, int], resolution: tuple[int, int]) -> SceneType:
    """Validate the scene block and build its scene type (which may read assets: bad files fail here)."""
    cls, cfg = typed_scene_config(scene_cfg)
    cls.validate(cfg, class_ids)
    return cls(cfg, class_ids, resolution)
