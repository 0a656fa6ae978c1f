"""Per-frame time of a tabletop job with scene.assets=procedural or infinigen (same seed and scene).

    python scripts/benchmark_assets.py procedural|infinigen OUT_DIR [CACHE_DIR [OVERRIDE ...]]

e.g. ``... infinigen OUT /tmp/cache scene.infinigen.room_materials=false`` (Infinigen objects, procedural room),
``... render.resolution=[640,480] num_frames=4`` (issue 13's budget size; an override replaces the default
of the same key).

320x240, 16 spp, CPU, 6 frames of 4-6 cups/bowls/bottles/cans on a table; prints one JSON line with
the steady-state seconds per frame (RenderResult.loop_seconds; cache generation excluded) by stage
(physics = waiting for the physics worker's drop, build, render; labels = the writer's share) and the
share of build + physics in a frame.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from hydra import compose, initialize_config_dir

from simvision.config import CONF_DIR
from simvision.dataset.job import run
from simvision.dataset.job_config import register_configs


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    assets, out = sys.argv[1], sys.argv[2]
    cache = sys.argv[3] if len(sys.argv) > 3 else "/tmp/simvision-bench-infinigen"
    defaults = [
        f"output_dir={out}",
        "num_frames=6",
        "seed=1",
        "render.resolution=[320,240]",
        "render.samples=16",
        "render.device=cpu",
        "scene.container=table",
        "scene.classes=[cup,bowl,bottle,can]",
        "scene.num_objects=[4,6]",
        "scene.distractors=[0,0]",
        "scene.use_asset_manifest=false",
        f"scene.assets={assets}",
        "scene.infinigen.variants=2",
        f"scene.infinigen.cache_dir={cache}",
        "scene.camera.distance=[0.6,0.9]",
    ]
    given = {o.split("=", 1)[0] for o in sys.argv[4:]}
    overrides = [o for o in defaults if o.split("=", 1)[0] not in given] + sys.argv[4:]
    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="render", overrides=overrides)
    started = time.time()
    cpu0 = _cpu_seconds()
    result = run(cfg)
    cpu = _cpu_seconds() - cpu0
    per_frame = {k: round(v / result.frames, 3) for k, v in result.timings.items()}
    build_physics = result.timings.get("build", 0.0) + result.timings.get("physics", 0.0)
    print(
        json.dumps(
            {
                "assets": assets,
                "overrides": sys.argv[4:],
                "frames": result.frames,
                "total_s": round(time.time() - started, 1),
                "loop_s_per_frame": round(result.loop_seconds / result.frames, 2),
                # CPU seconds (this process and its finished helpers: physics worker, writer) per frame,
                # start-up and cache generation included: steadier than wall clock on shared cores
                "cpu_s_per_frame": round(cpu / result.frames, 2),
                "stages_s_per_frame": per_frame,
                "build_physics_share": round(build_physics / max(result.loop_seconds, 1e-9), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
