"""Cost of the dressed street (scene.assets=infinigen) against the procedural one, same seed, dash-cam set-up.

    python scripts/street_dressing_cost.py OUT_DIR [--frames 3] [--resolution 621 188] [--samples 16]
        [--cache DIR] [--sheet docs/street_dressing.png]

Renders the same street frames twice (procedural, then infinigen; the Infinigen materials are generated into
``--cache`` first if missing, outside the timed loop) and prints, per library, the job's loop seconds per
frame and the build / render stage seconds per frame from ``throughput.json``. With ``--sheet`` it writes a
contact sheet: row 1 procedural, row 2 infinigen (plain RGB).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hydra import compose, initialize_config_dir

from simvision.config import CONF_DIR
from simvision.dataset.job import run
from simvision.dataset.job_config import register_configs
from simvision.dataset.preview import sheet_of_files, write_rgb_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--resolution", type=int, nargs=2, default=[621, 188])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cache", default="")
    parser.add_argument("--sheet", default="")
    parser.add_argument("--width", type=int, default=330)  # keeps a 3 x 2 sheet under 400 KB
    args = parser.parse_args()
    register_configs()
    out = Path(args.out)
    rows = {}
    for assets in ("procedural", "infinigen"):
        overrides = [
            "scene=street",
            f"output_dir={out / assets}",
            f"num_frames={args.frames}",
            f"seed={args.seed}",
            f"render.resolution=[{args.resolution[0]},{args.resolution[1]}]",
            f"render.samples={args.samples}",
            "render.device=cpu",
            "scene.camera_hfov_deg=[78,84]",
            "scene.camera_height=[1.6,1.7]",
            f"scene.assets={assets}",
            "scene.infinigen.material_variants=1",
        ]
        if args.cache:
            overrides.append(f"scene.infinigen.cache_dir={args.cache}")
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="render", overrides=overrides)
        run(cfg)
        t = json.loads((out / assets / "throughput.json").read_text())
        n = t["frames"]
        rows[assets] = {
            "frames": n,
            "loop_s_per_frame": t["loop_seconds"] / n,
            "build_s_per_frame": t["stage_seconds"]["build"] / n,
            "render_s_per_frame": t["stage_seconds"]["render"] / n,
        }
        from hydra.core.global_hydra import GlobalHydra  # noqa: PLC0415

        GlobalHydra.instance().clear()
    res = f"{args.resolution[0]}x{args.resolution[1]}, {args.samples} spp"
    for assets, r in rows.items():
        print(
            f"{assets:10s} {res}: {r['frames']} frames, loop {r['loop_s_per_frame']:.1f} s/frame "
            f"(build {r['build_s_per_frame']:.1f} s, render {r['render_s_per_frame']:.1f} s)"
        )
    if args.sheet:
        paths = [
            p for a in ("procedural", "infinigen") for p in sorted((out / a / "images").glob("*.png"))[: args.frames]
        ]
        write_rgb_png(args.sheet, sheet_of_files(paths, args.frames, args.width))


if __name__ == "__main__":
    main()
