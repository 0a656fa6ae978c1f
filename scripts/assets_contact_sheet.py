"""Side-by-side contact sheet of two tabletop datasets (e.g. scene.assets=procedural vs infinigen).

    python scripts/assets_contact_sheet.py OUT.png DATASET_A DATASET_B [--n 4] [--width 320]

Row 1: the first ``n`` frames of DATASET_A; row 2: DATASET_B's (plain RGB, no labels drawn).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2

from simvision.dataset.preview import contact_sheet, read_rgb, write_rgb_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--width", type=int, default=320)
    args = parser.parse_args()
    frames = []
    for root in args.datasets:
        for path in sorted((Path(root) / "images").glob("*.png"))[: args.n]:
            rgb = read_rgb(path)
            h = round(rgb.shape[0] * args.width / rgb.shape[1])
            frames.append(cv2.resize(rgb, (args.width, h), interpolation=cv2.INTER_AREA))
    write_rgb_png(args.out, contact_sheet(frames, args.n))


if __name__ == "__main__":
    main()
