"""``scene.table_rim_m``: an invisible lip around the table top during the drop (real Blender physics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simvision.config.checks import ConfigError

pytestmark = pytest.mark.blender

OVERRIDES = [
    "scene=tabletop",
    "scene.container=table",
    "scene.use_asset_manifest=false",
    "scene.num_objects=[15,20]",
    "scene.keep_on_table=true",
]


def _scene(compose_cfg, tmp_path: Path, rim: float):
    from simvision.dataset.job_config import validate_job_config
    from simvision.scene.base import load_scene

    cfg = compose_cfg(f"output_dir={tmp_path}", *OVERRIDES, f"scene.table_rim_m={rim}", "render.resolution=[64,48]")
    return load_scene(cfg.scene, validate_job_config(cfg), (64, 48))


def test_the_rim_keeps_crowded_tables_full_and_is_gone_before_rendering(renderer, compose_cfg, tmp_path: Path) -> None:
    import bpy

    removed = {}
    for rim in (0.0, 0.03):
        scene = _scene(compose_cfg, tmp_path, rim)
        removed[rim] = 0
        for index in range(10):
            seed = [0, index]
            spec = scene.sample(index, seed, 1, rng=np.random.default_rng(np.random.SeedSequence(seed)))
            assert spec.physics.get("rim_m", 0.0) == rim  # recorded with the frame (absent when off)
            renderer.build(spec)
            removed[rim] += len(spec.physics.get("removed", []))
            assert not [o.name for o in bpy.data.objects if o.name.startswith("drop_rim")]
    # without the rim some of the ~175 objects slide or roll off these crowded tables; with it (almost) none do
    assert removed[0.0] >= 3 and removed[0.03] <= removed[0.0] // 3, removed
    # the last built scene renders without the rim: every labelled pixel belongs to a kept object
    view = renderer.render(spec)[0]
    kept = {o.instance_id for o in spec.objects}
    assert set(np.unique(view.instance).tolist()) - {0} <= kept


@pytest.mark.parametrize("value", [-0.01, 0.5])
def test_bad_rim_is_named(compose_cfg, tmp_path: Path, value: float) -> None:
    from simvision.dataset.job_config import validate_job_config

    with pytest.raises(ConfigError, match=r"^scene\.table_rim_m: must be 0 \(none\) to 0\.2 m"):
        validate_job_config(compose_cfg(f"output_dir={tmp_path}", *OVERRIDES, f"scene.table_rim_m={value}"))
