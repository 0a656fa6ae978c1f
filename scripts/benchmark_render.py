"""Render throughput of the default scene: frames/s and where the time goes.

    uv run python scripts/benchmark_render.py [--frames 8] [--resolutions 320x240 640x480] [--samples 16]

Prints one row per resolution: frames/s and the share of each stage (scene sampling, scene build
+ physics, Cycles render, label derivation, writing). Numbers, never assertions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from hydra import compose, initialize_config_dir

from simvision.config import CONF_DIR, register_configs
from simvision.pipeline import STAGES, run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--resolutions", nargs="+", default=["320x240", "640x480"])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. render.threads=2")
    args = parser.parse_args(argv)
    register_configs()
    rows = []
    for res in args.resolutions:
        width, height = (int(v) for v in res.lower().split("x"))
        with tempfile.TemporaryDirectory() as out, initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            cfg = compose(
                "render",
                overrides=[
                    f"output_dir={out}",
                    f"num_frames={args.frames}",
                    f"seed={args.seed}",
                    f"render.resolution=[{width},{height}]",
                    f"render.samples={args.samples}",
                    *args.overrides,
                ],
            )
            t0 = time.perf_counter()
            result = run(cfg)
            wall = time.perf_counter() - t0
        rows.append((res, args.samples, result, wall))
    header = f"{'resolution':>10} {'spp':>4} {'frames':>6} {'frames/s':>8} {'s/frame':>8} " + " ".join(
        f"{s + ' %':>9}" for s in STAGES
    )
    print(header)
    print("-" * len(header))
    for res, spp, result, wall in rows:
        total = sum(result.timings.values()) or 1.0
        shares = " ".join(f"{100 * result.timings[s] / total:>9.1f}" for s in STAGES)
        fps, spf = result.frames / wall, wall / result.frames
        print(f"{res:>10} {spp:>4} {result.frames:>6} {fps:>8.2f} {spf:>8.2f} {shares}")
    print(
        "\nstages: sample = scene sampling, build = Blender scene + rigid-body physics, render = Cycles "
        "(RGB+depth+segmentation, all cameras of a scene in one call), labels = boxes/visibility/RLE, "
        "write = PNG/NPY/JSON files. Includes Blender start-up in the first row's build time.",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
