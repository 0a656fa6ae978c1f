"""Contact sheet of the street's dressed surfaces: the same scenes with the road in asphalt, concrete and pavers
(``road``), or with the open ground beside it in lawn, gravel and soil (``ground``).

    python scripts/street_surface_sheet.py road out/road_surfaces docs/street_road_surfaces.jpg [--frames 3]
        [--resolution 480x320] [--samples 16] [--set OVERRIDE ...]
    python scripts/street_surface_sheet.py ground out/ground_surfaces docs/street_ground_surfaces.jpg

Renders ``scene=street scene.assets=infinigen`` once per ``scene.road_surface`` (or ``scene.ground_surface``)
kind with the same seed (so the same streets, people and cars: each surface draws from a generator of its own),
clear day, a camera low and pitched down so the road fills most of the frame (for ``ground``: at eye height,
turned 35 degrees to the right, along the sidewalk and the verge); one row per kind, captioned with what the
frame recorded (paver style, slab size; lawn stripes and dry share). Prints each kind's per-frame render time
(numbers, not assertions).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from simvision.dataset.preview import contact_sheet
from simvision.scene.street.config import GROUND_SURFACES, ROAD_SURFACES

KINDS = {"road": ROAD_SURFACES, "ground": GROUND_SURFACES}
# the ground sheet looks ahead and to the right, along the right-hand sidewalk and verge, from eye height
VIEW = {
    "road": [],
    "ground": ["scene.rig_yaw_deg=[-35.0]", "scene.camera_pitch_deg=[-10.0,-4.0]", "scene.camera_height=[1.5,1.8]"],
}


def only(surface: str, kind: str) -> str:
    """The override that makes every ``surface`` ``kind`` (a dict override merges into the default weights: name
    all)."""
    return f"scene.{surface}_surface={{" + ",".join(f"{k}:{float(k == kind)}" for k in KINDS[surface]) + "}"


def caption(record: dict) -> str:
    kind = record["kind"]
    if kind == "pavers":
        return f"pavers: {record['style']}, {record['size_m'][0]:.2f} x {record['size_m'][1]:.2f} m"
    if kind == "concrete":
        return f"concrete: slabs {record['slab_m'][0]:.1f} x {record['slab_m'][1]:.1f} m"
    if kind == "lawn":
        mowed = f"stripes {record['stripe_m']:.1f} m" if record["stripe_contrast"] > 0 else "unmowed"
        return f"lawn: {mowed}, dry {record['dry_coverage']:.2f}"
    if kind in ("gravel", "soil"):
        return f"{kind}: weeds {record['weed_coverage']:.2f}"
    return kind


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("surface", choices=sorted(KINDS), help="the surface whose kinds the rows show")
    parser.add_argument("out", type=Path, help="folder for the rendered datasets (one per kind)")
    parser.add_argument("sheet", type=Path, help="the contact sheet to write (JPEG or PNG)")
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--resolution", default="480x320")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--set", nargs="*", default=[], help="more simvision-render overrides, for every kind")
    args = parser.parse_args()
    width, height = (int(v) for v in args.resolution.split("x"))
    rows: list[np.ndarray] = []
    for kind in KINDS[args.surface]:
        dataset = args.out / kind
        resumed = (dataset / "images").is_dir()  # the render resumes: frames already written are kept
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "simvision.cli.render",
                "scene=street",
                "scene.assets=infinigen",
                only(args.surface, kind),
                f"seed={args.seed}",
                f"num_frames={args.frames}",
                f"render.resolution=[{width},{height}]",
                f"render.samples={args.samples}",
                "output.card=false",
                "scene.camera_height=[1.0,1.4]",
                "scene.camera_pitch_deg=[-25.0,-12.0]",
                "scene.conditions.weather={clear:1.0,overcast:0.0,fog:0.0,rain:0.0}",
                "scene.conditions.time_of_day={day:1.0,low_sun:0.0,dusk:0.0,night:0.0}",
                f"output_dir={dataset}",
                f"hydra.run.dir={args.out / 'hydra'}",
                "hydra.output_subdir=null",
                *VIEW[args.surface],
                *args.set,
            ],
            check=True,
        )
        seconds = (time.perf_counter() - started) / args.frames
        if not resumed:
            print(f"{kind}: {seconds:.1f} s per frame (render command wall time / frames, first-run cache included)")
        records = [json.loads(x) for x in (dataset / "metadata" / "frames.jsonl").read_text().splitlines()]
        tiles = []
        for record in records[: args.frames]:
            img = cv2.imread(str(dataset / record["file_name"]))
            label = caption(record["background"]["street_materials"][args.surface])
            cv2.putText(img, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(img, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
            tiles.append(img)
        rows.append(contact_sheet(tiles, args.frames))
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.sheet), np.concatenate(rows, axis=0), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(f"wrote {args.sheet}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
