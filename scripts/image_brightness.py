"""Exposure of image sets: the mean grey level (0-255) of each image, printed as p10 / median / p90 per set, and how
many images are shots on white (their top, left and right edges, a twentieth of the image each, average over
:data:`WHITE` grey: a product shot's cut-out or sweep), and the colour of their vegetation: the median sRGB
(and HSV) of the pixels whose hue is green (:data:`GREEN_HUE`), in the images where such pixels cover at least
:data:`GREEN_SHARE` of the frame (grass, lawns, trees).

    python scripts/image_brightness.py out/realism/tabletop-infinigen out/realism/tabletop-infinigen-lived-in \\
        --coco128-with "cup,bottle,bowl,wine glass,dining table,fork,knife,spoon"

A folder is a dataset (its ``images/``) or a folder of images; ``--coco128-with`` adds COCO128's photos that
label one of the named classes (read in place from ../shared/data/real/coco128).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from simvision.formats.registry import read_dataset
from simvision.formats.select import select_images

ROOT = Path(__file__).resolve().parents[1]
COCO128 = ROOT.parent / "shared" / "data" / "real" / "coco128"
SUFFIXES = {".png", ".jpg", ".jpeg"}
WHITE = 240.0  # mean grey of the edges above which an image is a shot on white
GREEN_HUE = (35, 85)  # OpenCV hue (0-180) of green pixels (70-170 degrees), saturation >= 60 and value >= 30
GREEN_SHARE = 0.1  # images with at least this share of green pixels count as showing vegetation


def images_in(folder: Path) -> list[Path]:
    base = folder / "images" if (folder / "images").is_dir() else folder
    return sorted(p for p in base.rglob("*") if p.suffix.lower() in SUFFIXES)


def coco128_with(classes: list[str]) -> list[Path]:
    """COCO128's photos labelling one of ``classes``, chosen as simvision-gap's ``real.with_any_of`` does."""
    records = read_dataset(
        COCO128 / "images",
        "yolo",
        labels=str(COCO128 / "object_detection" / "labels"),
        names=str(COCO128 / "object_detection" / "config.yaml"),
    )
    return [Path(r.path) for r in select_images(records, with_any_of=classes, field="--coco128-with", path=COCO128)]


def on_white(image: np.ndarray) -> bool:
    """The image's top, left and right edges (a twentieth of its size each) all average over :data:`WHITE`."""
    h, w = image.shape[:2]
    dy, dx = max(1, h // 20), max(1, w // 20)
    return min(image[:dy].mean(), image[:, :dx].mean(), image[:, -dx:].mean()) > WHITE


def green_pixels(bgr: np.ndarray) -> np.ndarray:
    """The (N, 3) BGR pixels of ``bgr`` whose hue is green (:data:`GREEN_HUE`), saturated and lit enough."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return bgr[(h >= GREEN_HUE[0]) & (h <= GREEN_HUE[1]) & (s >= 60) & (v >= 30)]


def grey_levels(paths: list[Path]) -> tuple[np.ndarray, int, list[np.ndarray]]:
    """Each image's mean grey level, how many are shots on white, and the green pixels of those showing
    vegetation (a random 2000 of each, seeded)."""
    out, white, greens = [], 0, []
    rng = np.random.default_rng(0)
    for p in paths:
        bgr = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if bgr is None:
            raise SystemExit(f"{p}: not a readable image")
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        out.append(float(image.mean()))
        white += on_white(image)
        green = green_pixels(bgr)
        if len(green) >= GREEN_SHARE * image.size:
            greens.append(green[rng.choice(len(green), min(2000, len(green)), replace=False)])
    return np.asarray(out), white, greens


def _green_cell(greens: list[np.ndarray]) -> str:
    if not greens:
        return "-"
    pixels = np.vstack(greens)
    b, g, r = np.median(pixels, axis=0)
    h, s, v = np.median(cv2.cvtColor(pixels[None].astype(np.uint8), cv2.COLOR_BGR2HSV)[0], axis=0)
    return f"{len(greens)} images: RGB {r:.0f}, {g:.0f}, {b:.0f} (hue {2 * h:.0f} deg, sat {s:.0f}, value {v:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--coco128-with", default="", help="comma-separated COCO class names")
    args = parser.parse_args()
    sets = [(str(f), images_in(f)) for f in args.folders]
    if args.coco128_with:
        wanted = sorted({c.strip() for c in args.coco128_with.split(",") if c.strip()})
        sets.append((f"COCO128 photos with any of {wanted}", coco128_with(wanted)))
    print("| set | images | p10 | median | p90 | on white | green (vegetation) |")
    print("|---|---|---|---|---|---|---|")
    for name, paths in sets:
        if not paths:
            raise SystemExit(f"{name}: no images")
        levels, white, greens = grey_levels(paths)
        p10, median, p90 = np.percentile(levels, [10, 50, 90])
        share = f"{white} ({100 * white / len(paths):.0f} %)"
        print(f"| {name} | {len(paths)} | {p10:.0f} | {median:.0f} | {p90:.0f} | {share} | {_green_cell(greens)} |")


if __name__ == "__main__":
    main()
