"""``scene.upright_probability``: objects that start standing on their base, the way a table is set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simvision.config.checks import ConfigError

OVERRIDES = [
    "scene=tabletop",
    "scene.container=table",
    "scene.use_asset_manifest=false",
    "scene.classes=[cup,bowl,bottle,can]",
    "scene.num_objects=[4,6]",
    "scene.distractors=[0,0]",
    "scene.keep_on_table=true",
    "render.resolution=[64,48]",
]


def _scene(compose_cfg, tmp_path: Path, *extra: str):
    from simvision.dataset.job_config import validate_job_config
    from simvision.scene.base import load_scene

    cfg = compose_cfg(f"output_dir={tmp_path}", *OVERRIDES, *extra)
    return load_scene(cfg.scene, validate_job_config(cfg), (64, 48))


def _specs(scene, count: int) -> list:
    return [scene.sample(i, [0, i], 1, rng=np.random.default_rng(np.random.SeedSequence([0, i]))) for i in range(count)]


def _tilt_deg(pose: np.ndarray) -> float:
    """Degrees between an object's own up axis and the world's."""
    return float(np.degrees(np.arccos(np.clip(pose[2, 2], -1.0, 1.0))))


def test_upright_drops_stand_on_their_base_with_a_free_yaw(compose_cfg, tmp_path: Path) -> None:
    from simvision.scene.tabletop.sampler import UPRIGHT_CLEARANCE_M, euler_xyz

    tumbling = _specs(_scene(compose_cfg, tmp_path), 6)
    upright = _specs(_scene(compose_cfg, tmp_path, "scene.upright_probability=1", "scene.upright_tilt_deg=4"), 6)
    start = [o.rotation_euler for spec in upright for o in spec.objects]
    assert all(abs(x) <= np.radians(4) + 1e-9 and abs(y) <= np.radians(4) + 1e-9 for x, y, _ in start)
    assert all(_tilt_deg(euler_xyz(r)) <= 4 * np.sqrt(2) + 1e-6 for r in start)
    yaws = np.array([z for _, _, z in start])
    # set down, not dropped: the lowest point starts just above the top (or 1 cm above an object already there)
    lowest = [
        o.location[2] + (o.vertices @ euler_xyz(o.rotation_euler).T)[:, 2].min()
        for spec in upright
        for o in spec.objects
    ]
    assert min(lowest) == pytest.approx(UPRIGHT_CLEARANCE_M)
    assert np.mean(np.isclose(lowest, UPRIGHT_CLEARANCE_M)) > 0.5
    assert yaws.min() < 1.0 and yaws.max() > 2 * np.pi - 1.0  # the yaw still turns all the way round
    # off (the default) they tumble: most start far from upright
    tilts = [_tilt_deg(euler_xyz(o.rotation_euler)) for spec in tumbling for o in spec.objects]
    assert np.mean(np.array(tilts) > 30) > 0.5
    # the coin comes after the orientation's own draw: each scene's first object keeps its yaw and classes
    for off, on in zip(tumbling, upright, strict=True):
        assert on.objects[0].rotation_euler[2] == off.objects[0].rotation_euler[2]
        assert on.objects[0].class_name == off.objects[0].class_name


def test_a_share_of_the_drops_stands_up(compose_cfg, tmp_path: Path) -> None:
    from simvision.scene.tabletop.sampler import euler_xyz

    specs = _specs(_scene(compose_cfg, tmp_path, "scene.upright_probability=0.5", "scene.upright_tilt_deg=2"), 20)
    standing = [_tilt_deg(euler_xyz(o.rotation_euler)) <= 3 for spec in specs for o in spec.objects]
    assert 0.3 < np.mean(standing) < 0.7, np.mean(standing)


@pytest.mark.blender
def test_upright_drops_still_stand_after_the_physics(renderer, compose_cfg, tmp_path: Path) -> None:
    """Real Blender rigid bodies: dropped standing, cups, bowls, bottles and cans settle standing."""
    share = {}
    for p in (0.0, 1.0):
        scene = _scene(compose_cfg, tmp_path, f"scene.upright_probability={p}")
        tilts = []
        for spec in _specs(scene, 4):
            built = renderer.build(spec)
            tilts += [_tilt_deg(pose) for pose in built.poses_world.values()]
        share[p] = float(np.mean(np.array(tilts) <= 30))
    assert share[1.0] >= 0.8 and share[0.0] <= 0.6, share


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("scene.upright_probability=1.5", r"^scene\.upright_probability: must be within \[0, 1\], got 1\.5"),
        ("scene.upright_probability=-0.1", r"^scene\.upright_probability: must be within \[0, 1\]"),
        ("scene.upright_tilt_deg=120", r"^scene\.upright_tilt_deg: must be 0 to 90 degrees, got 120"),
    ],
)
def test_bad_upright_fields_are_named(compose_cfg, tmp_path: Path, override: str, message: str) -> None:
    from simvision.dataset.job_config import validate_job_config

    with pytest.raises(ConfigError, match=message):
        validate_job_config(compose_cfg(f"output_dir={tmp_path}", *OVERRIDES, override))
