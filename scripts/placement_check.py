"""Rendered check of the street placement targets (issue 13, placement): render (or resume) a few hundred
dash-camera street frames and print, per class, the camera-to-centre distance of the labelled objects that are
visible in the rendered labels (p10 / median / p90) against the configured target (``scene.placement.distance_m``),
and the share of boxes at least 40 px high at a 375-px image height, from the dataset card the job writes.

    python scripts/placement_check.py --frames 300 [--out out/placement_check] [OVERRIDE ...]

Defaults: the issue's dash-camera set-up (hfov 78-84, height 1.6-1.7 m) at 414x125, 2 spp, seed 3,
procedural assets. Sampled (not rendered) positions are what ``scripts/placement_stats.py`` prints; this
script measures what survives occlusion and the view into the labels.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RENDER = [
    "scene=street",
    "scene.camera_hfov_deg=[78,84]",
    "scene.camera_height=[1.6,1.7]",
    "render.resolution=[414,125]",
    "render.samples=2",
    "render.denoiser=none",
    "output.formats=[coco]",
    "seed=3",
]
CLASSES = ("car", "van", "truck", "bus", "person", "cyclist", "traffic_cone")


def fmt(value: object) -> str:
    return "-" if value is None else f"{float(value):.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "placement_check")
    parser.add_argument("overrides", nargs="*", help="extra simvision-render overrides")
    args = parser.parse_args()
    out = args.out.resolve()
    cmd = [sys.executable, "-m", "simvision.cli.render", *RENDER, f"num_frames={args.frames}", f"output_dir={out}"]
    print("+", " ".join([*cmd, *args.overrides]), flush=True)
    rendered = subprocess.run([*cmd, *args.overrides], cwd=ROOT)
    if rendered.returncode:  # the render job has printed its one-line error
        return rendered.returncode
    card = json.loads((out / "dataset_card.json").read_text())
    rows = card.get("distance_m", {})
    tall = card.get("tall_box_share", {})
    print(f"\n{args.frames} frames: visible labelled objects, camera to box centre (m), rendered vs target")
    print("| class | n | p10 | median | p90 | target p10 | target median | target p90 | boxes >= 40 px at 375 px |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in [c for c in CLASSES if c in rows] + sorted(set(rows) - set(CLASSES)):
        r, t = rows[name], rows[name].get("target") or {}
        share = f"{100 * tall[name]:.0f} %" if name in tall else "-"
        print(
            f"| {name} | {r['n']} | {fmt(r.get('p10'))} | {fmt(r.get('median'))} | {fmt(r.get('p90'))} | "
            f"{fmt(t.get('p10'))} | {fmt(t.get('median'))} | {fmt(t.get('p90'))} | {share} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
