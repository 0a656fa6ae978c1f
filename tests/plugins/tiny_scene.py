"""A scene type defined outside simvision: a few labelled cubes on the ground, seen from one camera.

Its config is a YAML file in a config folder added to Hydra's search path (``scene/tiny.yaml``
naming this class with ``_target_``); nothing in simvision knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from omegaconf import DictConfig

from simvision.config import ConfigError
from simvision.config.checks import check_range
from simvision.labels.geometry import intrinsics_from_hfov, look_at
from simvision.scene.base import SceneType
from simvision.scene.shapes import cuboid
from simvision.scene.spec import CameraSpec, LightSpec, MaterialSpec, ObjectSpec, SceneSpec


@dataclass
class TinySceneConfig:
    _target_: str = "tests.plugins.tiny_scene.TinyScene"
    name: str = "tiny"
    class_name: str = "box"
    cubes: list[int] = field(default_factory=lambda: [1, 3])
    size: list[float] = field(default_factory=lambda: [0.2, 0.4])
    colours: dict[str, float] = field(default_factory=lambda: {"red": 1.0, "blue": 1.0})


COLOURS = {"red": [0.8, 0.1, 0.1], "blue": [0.1, 0.2, 0.8]}


class TinyScene(SceneType):
    name = "tiny"
    schema = TinySceneConfig

    @classmethod
    def validate(cls, cfg: DictConfig, class_ids: dict[str, int]) -> None:
        super().validate(cfg, class_ids)
        if cfg.class_name not in class_ids:
            raise ConfigError(f"scene.class_name: unknown class {cfg.class_name!r} (not in the class table)")
        check_range(cfg.cubes, "scene.cubes", minimum=1, integer=True)
        check_range(cfg.size, "scene.size", minimum=0.01)

    def condition_targets(self) -> dict[str, dict[str, float]]:
        total = sum(self.cfg.colours.values())
        return {"colour": {k: float(v) / total for k, v in self.cfg.colours.items()}}

    def sample(self, scene_index: int, seed: list[int], n_views: int, *, rng: np.random.Generator) -> SceneSpec:
        names = list(self.cfg.colours)
        weights = np.array([float(self.cfg.colours[k]) for k in names])
        colour = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        objects = []
        n = int(rng.integers(int(self.cfg.cubes[0]), int(self.cfg.cubes[1]) + 1))
        for i in range(n):
            side = float(rng.uniform(*self.cfg.size))
            vertices, faces = cuboid((side, side, side))
            objects.append(
                ObjectSpec(
                    instance_id=i + 1,
                    class_name=str(self.cfg.class_name),
                    category_id=self.class_ids[str(self.cfg.class_name)],
                    asset={"kind": "procedural", "shape": "box", "params": {"side": side}},
                    material=MaterialSpec(COLOURS[colour], 0.5, 0.0),
                    location=[0.5 * (i - (n - 1) / 2), float(rng.uniform(-0.2, 0.2)), 0.0],
                    rotation_euler=[0.0, 0.0, float(rng.uniform(0, np.pi))],
                    vertices=vertices,
                    faces=faces,
                )
            )
        width, height = self.resolution
        camera = CameraSpec(
            intrinsics_from_hfov(60.0, width, height).tolist(),
            width,
            height,
            look_at(np.array([0.0, -2.5, 1.2]), np.array([0.0, 0.0, 0.1])).tolist(),
        )
        return SceneSpec(
            scene_index=scene_index,
            seed=seed,
            scene_name=str(self.cfg.name),
            container={"kind": "none"},
            objects=objects,
            lights=[LightSpec("SUN", [0.0, -1.0, 3.0], [0.0, 0.0, 0.0], 5500.0, [1.0, 1.0, 1.0], 3.0)],
            cameras=[camera] * n_views,
            background={"world_color": [0.3, 0.3, 0.35], "world_strength": 0.5},
            physics={"max_time": 0.0},
            conditions={"scene": str(self.cfg.name), "colour": colour},
        )
