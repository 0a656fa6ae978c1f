"""Copy a rendered dataset with its images re-exposed, to ask whether exposure alone moves the domain gap.

    python scripts/reexpose_dataset.py out/realism/tabletop-infinigen-lived-in-lit2 /tmp/reexposed-global --gain 0.62
    python scripts/reexpose_dataset.py out/realism/tabletop-infinigen-lived-in-lit2 /tmp/reexposed-meter --mean-grey 108

Each image is linearised (sRGB), multiplied by a gain and encoded again: ``--gain`` applies one gain to every
image (the whole set darker or brighter, its spread kept), ``--mean-grey`` finds per image the gain that puts
its mean grey level (0-255, as ``scripts/image_brightness.py`` measures it) at the target (an idealised
metering camera). Labels, depth and metadata are copied unchanged, so ``simvision-gap`` scores the copy with
the same crops. This approximates a camera exposure change after the view transform (highlights already
clipped stay clipped); it answers "does the gap care about exposure", not how to render it.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import cv2
import numpy as np


def to_linear(srgb: np.ndarray) -> np.ndarray:
    x = srgb / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    x = np.clip(linear, 0.0, 1.0)
    return 255.0 * np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055)


def exposed(image: np.ndarray, gain: float) -> np.ndarray:
    return np.round(to_srgb(to_linear(image.astype(np.float64)) * gain)).astype(np.uint8)


def gain_for_mean(image: np.ndarray, target: float) -> float:
    """The gain whose re-exposed image has mean grey ``target`` (bisection on a log scale)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float64)
    lo, hi = 1.0 / 64, 64.0
    for _ in range(40):
        mid = (lo * hi) ** 0.5
        if to_srgb(to_linear(grey) * mid).mean() > target:
            hi = mid
        else:
            lo = mid
    return (lo * hi) ** 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="a simvision dataset folder")
    parser.add_argument("dest", type=Path, help="new folder (must not exist)")
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--gain", type=float, help="one linear gain for every image")
    how.add_argument("--mean-grey", type=float, help="per-image gain to this mean grey level (0-255)")
    args = parser.parse_args()
    if not (args.source / "images").is_dir():
        raise SystemExit(f"{args.source}: not a dataset folder (no images/)")
    if args.dest.exists():
        raise SystemExit(f"{args.dest}: already exists")
    shutil.copytree(args.source, args.dest, ignore=shutil.ignore_patterns("images"))
    (args.dest / "images").mkdir()
    means = []
    for path in sorted((args.source / "images").iterdir()):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"{path}: not a readable image")
        gain = args.gain if args.gain is not None else gain_for_mean(image, args.mean_grey)
        out = exposed(image, gain)
        means.append(float(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY).mean()))
        if not cv2.imwrite(str(args.dest / "images" / path.name), out):
            raise SystemExit(f"{args.dest / 'images' / path.name}: could not write")
    p10, p50, p90 = np.percentile(means, [10, 50, 90])
    print(f"{len(means)} images -> {args.dest}; mean grey p10 / median / p90: {p10:.0f} / {p50:.0f} / {p90:.0f}")


if __name__ == "__main__":
    main()
