"""How many objects end off the table (or out of the bin) after the physics drop, with
``scene.keep_on_table`` off and on, over the same sampled scenes (physics only, no rendering).

    python scripts/off_table_stats.py --scenes 20 [OVERRIDE ...]

e.g. ``scene.assets=infinigen scene.infinigen.cache_dir=/tmp/cache``. For each setting it samples scenes
0..N-1 of seed 0 (the job's own seeds), builds and drops them in Blender (SceneBuilder, as the render
job does) and counts, with the rule the render job uses (simvision/scene/tabletop/settle.py), the
labelled and unlabelled objects whose final pose is off the top. With keep_on_table on, the render job
then removes those (the count is what would be removed and recorded in physics.removed).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from hydra import compose, initialize_config_dir

from simvision.config import CONF_DIR
from simvision.dataset.job import prepare_assets
from simvision.dataset.job_config import register_configs, validate_job_config
from simvision.dataset.shards import scene_seed
from simvision.scene.base import load_scene
from simvision.scene.tabletop.settle import fallen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    register_configs()
    from simvision.render import runtime
    from simvision.render.builder import SceneBuilder

    with runtime.quiet():
        runtime.start("cpu", 2)
    import bpy

    builder = SceneBuilder(bpy, runtime.blenderproc())
    for keep in ("false", "true"):
        overrides = ["output_dir=/tmp/unused", "scene.container=table", *args.overrides, f"scene.keep_on_table={keep}"]
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="render", overrides=overrides)
        class_ids = validate_job_config(cfg)
        scene = load_scene(cfg.scene, class_ids, tuple(int(v) for v in cfg.render.resolution))
        prepare_assets(scene.asset_requests())
        counts = {"scenes": 0, "labelled": 0, "labelled_off": 0, "unlabelled": 0, "unlabelled_off": 0}
        by_class: dict[str, int] = {}
        t0 = time.perf_counter()
        for index in range(args.scenes):
            seed = scene_seed(args.seed, index)
            spec = scene.sample(index, seed, 1, rng=np.random.default_rng(np.random.SeedSequence(seed)))
            with runtime.quiet():
                built = builder.build(spec)
            off = set(fallen(spec, built.poses_world))
            counts["scenes"] += 1
            for i, obj in enumerate(spec.objects):
                key = "labelled" if obj.instance_id > 0 else "unlabelled"
                counts[key] += 1
                if i in off:
                    counts[f"{key}_off"] += 1
                    name = obj.class_name or str(obj.asset.get("kind_name") or obj.asset.get("shape"))
                    by_class[name] = by_class.get(name, 0) + 1
        counts["seconds"] = round(time.perf_counter() - t0, 1)
        print(json.dumps({"keep_on_table": keep, "overrides": args.overrides, **counts, "off_by_kind": by_class}))


if __name__ == "__main__":
    main()
