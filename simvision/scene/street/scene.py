"""The street scene type: its schema, checks, views per scene and condition targets, around the sampler."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
from omegaconf import DictConfig

from simvision.scene.base import SceneType
from simvision.scene.conditions import condition_targets
from simvision.scene.spec import SceneSpec
from simvision.scene.street.config import StreetSceneConfig, validate_street
from simvision.scene.street.props import PropsConfig
from simvision.scene.street.sampler import StreetSampler

_PROPS_DEFAULT = dataclasses.asdict(PropsConfig())
_PROPS_OFF = {**_PROPS_DEFAULT, "enabled": False}


class StreetScene(SceneType):
    name = "street"
    schema = StreetSceneConfig
    # the closed loop's distance bins, near lane cones, and the props (off: at their defaults with procedural
    # assets, where the default is off, or switched off; an infinigen street's default props are on)
    later_fields: ClassVar[dict[str, Any]] = {
        "placement.distance_bins": [],
        "placement.distance_bin_weights": [],
        "placement.box_height_px": {},
        "lane_cones": [0, 0],
        "cones_knocked_over": 0.0,
        "cone_colors": {},
        "verge_view": lambda verge, scene: float(verge.get("probability", 0.0)) == 0.0,
        "props": lambda props, scene: (
            props == _PROPS_OFF or (props == _PROPS_DEFAULT and scene.get("assets") != "infinigen")
        ),
    }

    def __init__(self, cfg: DictConfig, class_ids: dict[str, int], resolution: tuple[int, int]) -> None:
        super().__init__(cfg, class_ids, resolution)
        self.sampler = StreetSampler(cfg, cfg.conditions, class_ids, resolution)

    @classmethod
    def validate(cls, cfg: DictConfig, class_ids: dict[str, int]) -> None:
        super().validate(cfg, class_ids)
        validate_street(cfg, class_ids)

    def asset_requests(self) -> list[Any]:
        """The Infinigen materials (sidewalk, kerb, facades) and vegetation variants the job caches before
        sampling; none for procedural."""
        found = {m for variants in self.sampler.materials.values() for m in variants}
        return [
            *sorted(found, key=lambda m: m.blend),
            *(v for found in self.sampler.vegetation.values() for v in found),
        ]

    def views_per_scene(self) -> int:
        return len(self.cfg.rig_yaw_deg)

    def condition_targets(self) -> dict[str, dict[str, float]]:
        return condition_targets(self.cfg.conditions)

    def sample(self, scene_index: int, seed: list[int], n_views: int, *, rng: np.random.Generator) -> SceneSpec:
        return self.sampler.sample(scene_index, seed, n_views, rng=rng)
