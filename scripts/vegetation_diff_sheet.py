"""Before/after sheet of two street datasets rendered from the same seed: frames of A (row 1), of B (row 2),
and where they differ (row 3: white where any channel differs by more than 24/255, i.e. what B adds).

    python scripts/vegetation_diff_sheet.py OUT.png DATASET_A DATASET_B [--n 3] [--width 480] [--colours 256]
        [--frames 2,3,9]   # these frame ids instead of the first n
    python scripts/vegetation_diff_sheet.py - DATASET_A DATASET_B --rank   # frames by the share that changed
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--width", type=int, default=480)
    parser.add_argument("--colours", type=int, default=256)
    parser.add_argument("--frames", default="", help="comma-separated frame ids (default: the first n)")
    parser.add_argument("--rank", action="store_true", help="print every frame's changed share, most first, and exit")
    args = parser.parse_args()
    if args.rank:
        _rank(Path(args.a), Path(args.b))
        return
    columns = []
    paths = sorted((Path(args.a) / "images").glob("*.png"))[: args.n]
    if args.frames:
        paths = [Path(args.a) / "images" / f"{int(i):06d}.png" for i in args.frames.split(",")]
    for path in paths:
        a = cv2.imread(str(path))
        b = cv2.imread(str(Path(args.b) / "images" / path.name))
        changed = _changed(a, b).astype(np.uint8) * 255
        column = np.vstack(
            [
                a,
                np.full((4, a.shape[1], 3), 255, np.uint8),
                b,
                np.full((4, a.shape[1], 3), 255, np.uint8),
                cv2.cvtColor(changed, cv2.COLOR_GRAY2BGR),
            ]
        )
        h = round(column.shape[0] * args.width / column.shape[1])
        columns.append(cv2.resize(column, (args.width, h), interpolation=cv2.INTER_AREA))
        columns.append(np.full((h, 4, 3), 255, np.uint8))
    sheet = np.hstack(columns[:-1])
    Image.fromarray(cv2.cvtColor(sheet, cv2.COLOR_BGR2RGB)).quantize(args.colours).save(args.out, optimize=True)


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > 24


def _rank(a: Path, b: Path) -> None:
    """Each frame's share of pixels that differ (what B adds or moves), most first, and the mean over frames."""
    shares = {}
    for path in sorted((a / "images").glob("*.png")):
        other = b / "images" / path.name
        if other.is_file():
            shares[path.stem] = float(_changed(cv2.imread(str(path)), cv2.imread(str(other))).mean())
    for stem, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"{stem} {share:.4f}")
    print(f"mean over {len(shares)} frames: {np.mean(list(shares.values())):.4f}")


if __name__ == "__main__":
    main()
