"""What surface normals (output.normals) and amodal masks (output.amodal) cost: per-frame render, labels and
write seconds and bytes per frame, from real render jobs of the same scenes (same seed) with each switch
on and off, interleaved (A B C A B C ...) so that drift in a shared machine's load hits every variant alike.

    python scripts/normals_amodal_cost.py OUT_DIR [--frames 5] [--repeats 2] [overrides such as scene=street]

Renders into OUT_DIR/<variant>_<repeat> (a folder of its own, removed first). Defaults: 320x240, 16 spp,
CPU, the tabletop scene. Times on a shared machine are noisy: compare the variants, not the absolute values.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir

from simvision.config import CONF_DIR
from simvision.dataset.job import run
from simvision.dataset.job_config import register_configs

VARIANTS = {
    "plain": ["output.normals=false", "output.amodal=false"],
    "amodal": ["output.normals=false", "output.amodal=true"],
    "normals+amodal": ["output.normals=true", "output.amodal=true"],
}
BASE = ["render.resolution=[320,240]", "render.samples=16", "render.device=cpu", "output.card=false"]


def _bytes(root: Path, sub: str) -> int:
    return sum(p.stat().st_size for p in (root / sub).glob("*") if p.is_file()) if (root / sub).is_dir() else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    register_configs()
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    for repeat in range(args.repeats):
        for name, switches in VARIANTS.items():
            out = args.out / f"{name}_{repeat}"
            shutil.rmtree(out, ignore_errors=True)
            with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
                cfg = compose(
                    config_name="render",
                    overrides=[f"output_dir={out}", f"num_frames={args.frames}", "seed=0", *BASE, *switches]
                    + list(args.overrides),
                )
            result = run(cfg)
            n = result.frames
            rows[name].append(
                {
                    "render_s": result.timings["render"] / n,
                    "labels_s": result.timings["labels"] / n,
                    "write_s": result.timings["write"] / n,
                    "loop_s": result.loop_seconds / n,
                    "normals_bytes": _bytes(out, "normals") / n,
                    "frames_jsonl_bytes": (out / "metadata" / "frames.jsonl").stat().st_size / n,
                    "instances_json_bytes": (out / "annotations" / "instances.json").stat().st_size / n,
                }
            )
    print(f"per frame, mean of {args.repeats} jobs x {args.frames} frames ({' '.join(BASE + list(args.overrides))})")
    keys = list(next(iter(rows.values()))[0])
    print(f"{'variant':16s} " + " ".join(f"{k:>19s}" for k in keys))
    summary = {}
    for name, runs in rows.items():
        means = {k: sum(r[k] for r in runs) / len(runs) for k in keys}
        summary[name] = {"mean": means, "runs": runs}
        print(f"{name:16s} " + " ".join(f"{means[k]:19.3f}" for k in keys))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
