"""Object crops of one class from several labelled sets, one block of rows per set: what the gap tool's crop FD
compares, to look at (e.g. synthetic cones before and after a change next to the cone photos).

    python scripts/crop_sheet.py docs/realism_cones.jpg traffic_cone \\
        "photos=../shared/data/real/traffic_cones" "before=out/realism/cones_near-procedural" \\
        "after=out/realism/cones_near-procedural-close" [--n 24] [--tile 96] [--min-size 16] \\
        [--alias cone=traffic_cone --alias Cone=traffic_cone] [--stats]

Each set is NAME=PATH (any format simvision reads: our datasets, COCO, YOLO, KITTI). Crops are the labelled
boxes, at least --min-size px on the short side (the gap tool's rule), --n of them drawn with a fixed seed,
each scaled to fit a --tile square (small crops are enlarged, as the feature extractor enlarges them).
``--stats`` also prints, per set, the shape of those crops' boxes: height / width and height / image height
(10th, 50th, 90th percentiles) and the share touching the image's edge (cut by the frame), and how bright
the crops are: each crop's median HSV value (max of R, G, B; 0-255), 10th / 50th / 90th percentiles over
the crops, for the whole box, its centre (the middle third of its width, 30-70 % of its height: on an upright
cone, bottle or person mostly the object itself) and its two top corners (a sixth of the width and a fifth of
the height each: on a cone mostly what is behind it), so a dark object and a dark background can be told apart;
and the colour of the centre's saturated pixels (HSV saturation above 100 of 255): their median hue in degrees
(reds near 0, from -90 to 270) and saturation, percentiles over the crops that have such pixels.
``--by time_of_day`` (any recorded condition) splits those brightness figures by the frames' conditions.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from simvision.formats.classes import ClassMapping
from simvision.formats.registry import read_dataset
from simvision.metrics.sources import object_crops


def crops(
    path: str, name: str, aliases: dict[str, str], min_size: float, by: str | None = None
) -> tuple[list[tuple[Path, np.ndarray, tuple[int, int]]], dict[str, list]]:
    """(image, box, (width, height) of the image) of every ``name`` box of at least ``min_size`` px: the gap
    tool's own selection (:func:`object_crops`, with its class-name matching and aliases); and with ``by`` the
    same crops per value of that recorded condition of their frame (e.g. ``time_of_day``; ``unrecorded`` for
    images without it, such as photos), else an empty dict. The set is read once."""
    records = read_dataset(path)
    sizes = {r.path: (r.width, r.height) for r in records}
    found = object_crops(records, ClassMapping([name], aliases), min_size=min_size)
    out = [(c.path, np.asarray(c.box), sizes[c.path]) for c in found]
    groups: dict[str, list] = {}
    if by is not None:
        condition = {r.path: str(r.conditions.get(by, "unrecorded")) for r in records}
        for crop in out:
            groups.setdefault(condition[crop[0]], []).append(crop)
    return out, dict(sorted(groups.items()))


def box_stats(found: list[tuple[Path, np.ndarray, tuple[int, int]]]) -> str:
    boxes = np.array([b for _, b, _ in found], dtype=float)
    size = np.array([s for _, _, s in found], dtype=float)
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    edge = (boxes[:, 0] <= 1) | (boxes[:, 1] <= 1) | (boxes[:, 2] >= size[:, 0] - 1) | (boxes[:, 3] >= size[:, 1] - 1)
    aspect, frac = np.percentile(h / w, [10, 50, 90]), np.percentile(h / size[:, 1], [10, 50, 90])
    return (
        f"{len(found)} crops; height/width {aspect[1]:.2f} ({aspect[0]:.2f}-{aspect[2]:.2f}); "
        f"height/image height {frac[1]:.2f} ({frac[0]:.2f}-{frac[2]:.2f}); "
        f"touching the image edge {int(edge.sum())} ({edge.mean():.0%})"
    )


def brightness_stats(found: list[tuple[Path, np.ndarray, tuple[int, int]]]) -> str:
    """Percentiles over the crops of each crop's median HSV value, for the whole box and for its centre and top
    corners (:func:`box_regions`: a bright orange cone in sunlight is near 255 whatever its hue; the same cone in
    shade or at dusk is far below)."""
    values: dict[str, list[float]] = {"box": [], "centre": [], "top corners": []}
    for path, box, _ in found:
        value = np.asarray(crop_of(path, box)).max(axis=2)
        for region, pixels in box_regions(value).items():
            values[region].append(float(np.median(pixels)))
    parts = []
    for region, v in values.items():
        p10, p50, p90 = np.percentile(v, [10, 50, 90])
        parts.append(f"{region} {p50:.0f} ({p10:.0f}-{p90:.0f})")
    return "brightness (HSV value): " + ", ".join(parts)


def colour_stats(found: list[tuple[Path, np.ndarray, tuple[int, int]]]) -> str:
    """Hue and saturation of the saturated pixels of each crop's centre (:func:`box_regions`), percentiles over
    the crops with any (an orange cone's body: a hue near 20 degrees, red near 0)."""
    hues, sats = [], []
    for path, box, _ in found:
        hsv = np.asarray(crop_of(path, box).convert("HSV")).astype(float)
        h, w = hsv.shape[:2]
        centre = np.stack([box_regions(hsv[..., k].reshape(h, w))["centre"] for k in range(3)], axis=1)
        vivid = centre[centre[:, 1] > 100]
        if len(vivid):
            degrees = vivid[:, 0] * 360.0 / 256.0
            hues.append(float(np.median(np.where(degrees >= 270.0, degrees - 360.0, degrees))))
            sats.append(float(np.median(vivid[:, 1])))
    if not hues:
        return "centre colour: no saturated pixels"
    (h10, h50, h90), (s10, s50, s90) = np.percentile(hues, [10, 50, 90]), np.percentile(sats, [10, 50, 90])
    return (
        f"centre colour ({len(hues)} crops with saturated pixels): hue {h50:.0f} deg ({h10:.0f}-{h90:.0f}), "
        f"saturation {s50:.0f} ({s10:.0f}-{s90:.0f})"
    )


def box_regions(value: np.ndarray) -> dict[str, np.ndarray]:
    """The pixels of a crop (H x W) in its whole box, its centre (middle third of the width, 30-70 % of the
    height) and its two top corners (a sixth of the width by a fifth of the height each), each at least one
    pixel."""
    h, w = value.shape[:2]
    x0, x1 = w // 3, max(w // 3 + 1, (2 * w + 2) // 3)
    y0, y1 = int(0.3 * h), max(int(0.3 * h) + 1, int(np.ceil(0.7 * h)))
    cw, ch = max(1, w // 6), max(1, h // 5)
    corners = np.concatenate([value[:ch, :cw].ravel(), value[:ch, w - cw :].ravel()])
    return {"box": value.ravel(), "centre": value[y0:y1, x0:x1].ravel(), "top corners": corners}


def crop_of(path: Path, box: np.ndarray) -> Image.Image:
    """The box's pixels (RGB), rounded to whole pixels."""
    with Image.open(path) as im:
        return im.convert("RGB").crop(tuple(int(round(float(v))) for v in box))


def tile(path: Path, box: np.ndarray, size: int) -> Image.Image:
    crop = crop_of(path, box)
    scale = size / max(crop.size)
    return crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))), Image.BICUBIC)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("name", help="class name (after --alias)")
    p.add_argument("sets", nargs="+", help="NAME=PATH, one per block of rows")
    p.add_argument("--n", type=int, default=24, help="crops per set")
    p.add_argument("--tile", type=int, default=96)
    p.add_argument("--columns", type=int, default=12)
    p.add_argument("--min-size", type=float, default=16.0)
    p.add_argument("--alias", action="append", default=[], help="LABEL=NAME (e.g. cone=traffic_cone)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stats", action="store_true", help="print each set's box shapes (see above)")
    p.add_argument(
        "--by", help="with --stats, also the brightness per value of this recorded condition (e.g. time_of_day)"
    )
    args = p.parse_args(argv)
    aliases = dict(a.split("=", 1) for a in args.alias)
    header, size, cols = 18, args.tile, args.columns
    blocks = []
    for entry in args.sets:
        if "=" not in entry:
            p.error(f"{entry!r}: give each set as NAME=PATH")
        label, path = entry.split("=", 1)
        if not Path(path).exists():
            p.error(f"{path}: no such file or folder")
        try:
            found, groups = crops(path, args.name, aliases, args.min_size, by=args.by if args.stats else None)
        except (OSError, ValueError) as error:  # a truncated or malformed label file, an unknown layout
            p.error(f"{path}: cannot be read as a labelled set: {str(error).splitlines()[0]}")
        if not found:
            p.error(f"{path}: no {args.name!r} box of {args.min_size:g} px or more")
        if args.stats:
            print(f"{label}: {box_stats(found)}; {brightness_stats(found)}; {colour_stats(found)}")
            for value, group in groups.items():
                print(f"  {args.by}={value}: {len(group)} crops; {brightness_stats(group)}")
        rng = np.random.default_rng(args.seed)
        picked = [found[i] for i in sorted(rng.choice(len(found), min(args.n, len(found)), replace=False))]
        rows = (len(picked) + cols - 1) // cols
        block = Image.new("RGB", (cols * size, header + rows * size), (128, 128, 128))
        ImageDraw.Draw(block).text((4, 3), f"{label}: {len(picked)} of {len(found)} crops", fill=(255, 255, 255))
        for i, (image, box, _) in enumerate(picked):
            t = tile(image, box, size)
            x, y = (i % cols) * size + (size - t.width) // 2, header + (i // cols) * size + (size - t.height) // 2
            block.paste(t, (x, y))
        blocks.append(block)
    sheet = Image.new("RGB", (cols * size, sum(b.height for b in blocks)), (128, 128, 128))
    y = 0
    for block in blocks:
        sheet.paste(block, (0, y))
        y += block.height
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, quality=88) if args.out.suffix.lower() in (".jpg", ".jpeg") else sheet.save(args.out)
    print(f"wrote {args.out} ({sheet.width}x{sheet.height})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
