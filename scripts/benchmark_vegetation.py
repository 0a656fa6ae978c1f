"""Build and render time per frame, and peak memory, of a street with and without Infinigen vegetation.

    python scripts/benchmark_vegetation.py OUT_DIR CACHE_DIR [OVERRIDE ...]

``num_frames`` (default 4) may be among the overrides.

Runs the same street job twice, each in its own process (so each peak RSS is its own): ``scene.assets=
procedural`` (no vegetation) and ``scene.assets=infinigen`` (trees, bushes, grass, rocks from the cache;
variants missing from CACHE_DIR are generated first, outside the timed loop). 320x96, 8 spp, CPU,
4 frames, day, clear. Prints one JSON line per run: build and render seconds per frame
(RenderResult.timings), the steady-state loop seconds per frame, the number of vegetation items and
distinct meshes per scene, and the process's peak RSS.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def _one(assets: str, out: str, cache: str, extra: list[str]) -> None:
    from hydra import compose, initialize_config_dir

    from simvision.config import CONF_DIR
    from simvision.dataset.job import run
    from simvision.dataset.job_config import register_configs

    overrides = [
        f"output_dir={out}",
        "scene=street",
        *([] if any(e.startswith("num_frames=") for e in extra) else ["num_frames=4"]),
        "seed=3",
        "render.resolution=[320,96]",
        "render.samples=8",
        "render.device=cpu",
        "render.denoiser=none",
        "output.card=false",
        "scene.conditions.weather={clear:1.0,overcast:0.0,fog:0.0,rain:0.0}",
        "scene.conditions.time_of_day={day:1.0,low_sun:0.0,dusk:0.0,night:0.0}",
        f"scene.assets={assets}",
        f"scene.infinigen.cache_dir={cache}",
        *extra,
    ]
    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="render", overrides=overrides)
    started = time.time()
    result = run(cfg)
    frames = [json.loads(line) for line in (Path(out) / "metadata" / "frames.jsonl").read_text().splitlines()]
    items = [f["container"].get("vegetation", []) for f in frames]
    print(
        json.dumps(
            {
                "assets": assets,
                "overrides": extra,
                "frames": result.frames,
                "total_s": round(time.time() - started, 1),
                "loop_s_per_frame": round(result.loop_seconds / result.frames, 2),
                "stages_s_per_frame": {k: round(v / result.frames, 3) for k, v in result.timings.items()},
                "vegetation_items_per_frame": [len(i) for i in items],
                "variants_per_frame": [len({(x["factory"], x["seed"]) for x in i}) for i in items],
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        ),
        flush=True,
    )


def main() -> None:
    if sys.argv[1] == "--one":
        _one(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
        return
    out, cache, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    # the cache first (not timed): a throw-away job of one frame generates what is missing
    subprocess.run(
        [sys.executable, __file__, "--one", "infinigen", f"{out}/warm", cache, *extra],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    for assets in ("procedural", "infinigen"):
        subprocess.run([sys.executable, __file__, "--one", assets, f"{out}/{assets}", cache, *extra], check=True)


if __name__ == "__main__":
    main()
