"""Cost of the street props (scene.props) on the dressed street: the same frames without and with props.

    python scripts/street_props_cost.py OUT_DIR [--frames 4] [--resolution 480 270] [--samples 16] [--seed 11]
        [--cache DIR] [--sheet docs/street_props.png] [--width 480] [--props-first]

Renders ``scene=street scene.assets=infinigen`` on a clear day (vegetation off, so only the props differ; one
Infinigen material seed, generated into ``--cache`` first if missing, outside the timed loop) twice,
``scene.props.enabled=false`` then ``true``, and prints per run the job's loop seconds per frame, the stage
seconds per frame from ``throughput.json`` and the props placed per frame. With ``--sheet`` it writes the frames
with props as a contact sheet, two to a row.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from simvision.config import CONF_DIR
from simvision.dataset.job import run
from simvision.dataset.job_config import register_configs
from simvision.dataset.preview import sheet_of_files, write_rgb_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--resolution", type=int, nargs=2, default=[480, 270])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cache", default="")
    parser.add_argument("--sheet", default="")
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--props-first", action="store_true", help="render with props first (order effects)")
    args = parser.parse_args()
    register_configs()
    out = Path(args.out)
    rows = {}
    runs = [("without", "false"), ("with", "true")]
    for name, enabled in runs[::-1] if args.props_first else runs:
        overrides = [
            "scene=street",
            f"output_dir={out / name}",
            f"num_frames={args.frames}",
            f"seed={args.seed}",
            f"render.resolution=[{args.resolution[0]},{args.resolution[1]}]",
            f"render.samples={args.samples}",
            "render.device=cpu",
            "output.card=false",
            "scene.camera_hfov_deg=[78,84]",
            "scene.camera_height=[1.6,1.7]",
            "scene.assets=infinigen",
            "scene.infinigen.material_variants=1",
            "scene.vegetation.enabled=false",
            # a clear day: the props show (rain streaks, fog and night hide small things)
            "scene.conditions.weather={clear:1.0,overcast:0.0,fog:0.0,rain:0.0}",
            "scene.conditions.time_of_day={day:1.0,low_sun:0.0,dusk:0.0,night:0.0}",
            f"scene.props.enabled={enabled}",
        ]
        if args.cache:
            overrides.append(f"scene.infinigen.cache_dir={args.cache}")
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="render", overrides=overrides)
        run(cfg)
        t = json.loads((out / name / "throughput.json").read_text())
        n = t["frames"]
        lines = (out / name / "metadata" / "frames.jsonl").read_text().splitlines()
        props = [Counter(p["kind"] for p in json.loads(line)["container"].get("props", [])) for line in lines]
        rows[name] = {
            "frames": n,
            "loop": t["loop_seconds"] / n,
            "stages": {k: v / n for k, v in t["stage_seconds"].items()},
            "props": props,
        }
    res = f"{args.resolution[0]}x{args.resolution[1]}, {args.samples} spp"
    for name, r in rows.items():
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in r["stages"].items())
        print(f"{name:8s} props {res}: {r['frames']} frames, loop {r['loop']:.2f} s/frame ({stages})")
        for i, counts in enumerate(r["props"]):
            if counts:
                print(f"  frame {i}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if args.sheet:
        paths = sorted((out / "with" / "images").glob("*.png"))[: args.frames]
        write_rgb_png(args.sheet, sheet_of_files(paths, 2, args.width))


if __name__ == "__main__":
    main()
