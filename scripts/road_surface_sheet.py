"""Contact sheet of the street's road surfaces: the same scenes with the road in asphalt, concrete and pavers.

    python scripts/road_surface_sheet.py out/road_surfaces docs/street_road_surfaces.jpg [--frames 3]
        [--resolution 480x320] [--samples 16] [--set OVERRIDE ...]

Renders ``scene=street scene.assets=infinigen`` once per ``scene.road_surface`` kind with the same seed (so the
same streets, people and cars: the road surface draws from a generator of its own), clear day, a camera low and
pitched down so the road fills most of the frame; one row per kind, captioned with the paver style or slab size
the frame recorded. Prints each kind's per-frame render time (numbers, not assertions).
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
from simvision.scene.street.config import ROAD_SURFACES as KINDS


def only(kind: str) -> str:
    """The override that makes every road ``kind`` (a dict override merges into the default weights: name all)."""
    return "scene.road_surface={" + ",".join(f"{k}:{float(k == kind)}" for k in KINDS) + "}"


def caption(road: dict) -> str:
    if road["kind"] == "pavers":
        return f"pavers: {road['style']}, {road['size_m'][0]:.2f} x {road['size_m'][1]:.2f} m"
    if road["kind"] == "concrete":
        return f"concrete: slabs {road['slab_m'][0]:.1f} x {road['slab_m'][1]:.1f} m"
    return "asphalt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    for kind in KINDS:
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
                only(kind),
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
            label = caption(record["background"]["street_materials"]["road"])
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
