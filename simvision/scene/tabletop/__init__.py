"""Tabletop / bin-picking scenes: the scene type, its schema and its sampler."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from omegaconf import DictConfig

from simvision.scene.base import SceneType
from simvision.scene.spec import SceneSpec
from simvision.scene.tabletop.config import TabletopSceneConfig, validate_tabletop
from simvision.scene.tabletop.sampler import TabletopSampler


def _none_drawn(block: Any, scene: Any) -> bool:
    """An extras block that places nothing (its ``count`` is [0, 0])."""
    return int(block["count"][1]) == 0


class TabletopScene(SceneType):
    name = "tabletop"
    schema = TabletopSceneConfig
    # the closed loop's knob; the baked normal map's smoothing (matters only with room_shading=baked)
    # and the eye-level cameras, wall decor and chairs at the table (off: probability 0, count [0, 0])
    later_fields: ClassVar[dict[str, Any]] = {
        "class_weights": {},
        "infinigen.bake_normal_blur": 1.0,
        "camera.eye_level": lambda eye, scene: float(eye["probability"]) == 0,
        "infinigen.wall_decor": _none_drawn,
        "infinigen.table_chairs": _none_drawn,
        "table_rim_m": 0.0,
    }

    def __init__(self, cfg: DictConfig, class_ids: dict[str, int], resolution: tuple[int, int]) -> None:
        super().__init__(cfg, class_ids, resolution)
        self.sampler = TabletopSampler(cfg, class_ids, resolution)  # reads every asset now

    @classmethod
    def validate(cls, cfg: DictConfig, class_ids: dict[str, int]) -> None:
        super().validate(cfg, class_ids)
        validate_tabletop(cfg, class_ids)

    def asset_requests(self) -> list[Any]:
        """Infinigen variants and room materials the render job must have in the cache before sampling
        (none for procedural)."""
        objects: dict[str, Any] = {}  # one request per cached file (a kind may be a class and a distractor)
        for table in (self.sampler.infinigen, *self.sampler.ig_extras.values()):
            for found in table.values():
                for v in found:
                    objects.setdefault(v.blend, v)
        materials = {m for found in self.sampler.room_materials.values() for m in found}
        return [*objects.values(), *sorted(materials, key=lambda m: m.blend)]

    def views_per_scene(self) -> int:
        return int(self.cfg.camera.cameras_per_scene)

    def sample(self, scene_index: int, seed: list[int], n_views: int, *, rng: np.random.Generator) -> SceneSpec:
        return self.sampler.sample(scene_index, seed, n_views, rng=rng)


SCENE_TYPE: Any = TabletopScene

__all__ = ["SCENE_TYPE", "TabletopSampler", "TabletopScene", "TabletopSceneConfig"]
