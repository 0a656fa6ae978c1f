"""A picture of a dataset's normals and amodal masks: one row per frame, left to right the RGB image, the
camera-frame normals as colours ((n + 1) / 2 -> RGB: x right = red, y down = green, z forward = blue,
background black), and the masks: each labelled object's visible pixels in its colour, the hidden part of
its amodal mask (amodal minus visible) hatched in the same colour.

    python scripts/normals_amodal_sheet.py DATASET OUT.png [--n 3] [--width 320]

Needs a dataset rendered with output.normals=true and output.amodal=true.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from simvision.labels.rle import decode_rle


def _row(root: Path, frame: dict, width: int) -> np.ndarray:
    rgb = cv2.imread(str(root / frame["file_name"]))
    normals = np.load(root / frame["files"]["normals"]).astype(np.float32)
    surface = np.linalg.norm(normals, axis=-1) > 0
    colours = np.where(surface[..., None], (normals + 1.0) / 2.0, 0.0)
    normal_img = cv2.cvtColor((colours * 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR)
    h, w = rgb.shape[:2]
    masks = (rgb * 0.25).astype(np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    hatch = ((xx + yy) // 2) % 3 == 0
    rng = np.random.default_rng(0)
    for obj in frame["objects"]:
        seg = obj.get("amodal_segmentation")
        if obj["instance_id"] <= 0 or seg is None:
            continue
        colour = rng.integers(80, 256, 3)
        amodal = decode_rle(seg)
        inst = cv2.imread(str(root / frame["files"]["instance"]), cv2.IMREAD_UNCHANGED) == obj["instance_id"]
        masks[inst] = colour
        masks[amodal & ~inst & hatch] = colour
    scale = width / w
    size = (width, int(round(h * scale)))
    return np.hstack([cv2.resize(im, size, interpolation=cv2.INTER_NEAREST) for im in (rgb, normal_img, masks)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--width", type=int, default=320)
    args = parser.parse_args(argv)
    lines = (args.dataset / "metadata" / "frames.jsonl").read_text().splitlines()
    frames = sorted((json.loads(line) for line in lines), key=lambda f: f["frame_id"])[: args.n]
    sheet = np.vstack([_row(args.dataset, f, args.width) for f in frames])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{args.out}: {len(frames)} frames, {sheet.shape[1]}x{sheet.shape[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
