"""Side-by-side contact sheet of datasets (e.g. scene.assets=procedural vs infinigen), optionally with a
row of real photos beside them.

    python scripts/assets_contact_sheet.py OUT.png DATASET_A DATASET_B [--n 4] [--width 320] [--start 0]
    python scripts/assets_contact_sheet.py OUT.png DATASET --where verge_view=true   # only frames so recorded
    python scripts/assets_contact_sheet.py OUT.png DATASET --real PHOTOS --real-pick 3,17,40   # these photos
    python scripts/assets_contact_sheet.py OUT.png A B --real ../shared/data/real/coco128/images \
        --real-labels ../shared/data/real/coco128/object_detection/labels \
        --real-names ../shared/data/real/coco128/object_detection/config.yaml --real-with cup,bottle,bowl

One row per dataset: ``n`` frames from ``--start`` (plain RGB, no labels drawn); with ``--real`` a last row
of real photos (any format ``simvision.formats.read_dataset`` reads; ``--real-with``: only photos that
label one of these classes), fitted into the same cells.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from simvision.dataset.preview import sheet_of_files, write_rgb_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--start", type=int, default=0, help="first frame shown of each dataset")
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        help="KEY=VALUE: only frames whose recorded condition KEY is VALUE (e.g. verge_view=true); repeatable",
    )
    parser.add_argument("--real", help="a folder of real photos for the last row")
    parser.add_argument("--real-format", default="auto")
    parser.add_argument("--real-labels")
    parser.add_argument("--real-names")
    parser.add_argument("--real-with", default="", help="comma-separated classes; keep photos labelling one")
    parser.add_argument(
        "--real-pick",
        default="",
        help="comma-separated indices of the real photos to show (in the reader's order) instead of n from --start",
    )
    args = parser.parse_args()
    paths = []
    for root in args.datasets:
        found = _frames(Path(root), args.where)[args.start : args.start + args.n]
        if not found:
            parser.error(f"{root}: no frames" + (f" recorded with {' and '.join(args.where)}" if args.where else ""))
        paths += found
    if args.real:
        from simvision.cli.gap import load_source
        from simvision.metrics.config import SourceConfig

        wanted = [c for c in args.real_with.split(",") if c] or None
        src = SourceConfig(
            path=args.real, format=args.real_format, labels=args.real_labels, names=args.real_names, with_any_of=wanted
        )
        photos = [r.path for r in load_source(src, field="--real")]
        if args.real_pick:
            picks = [int(i) for i in args.real_pick.split(",") if i.strip()]
            bad = [i for i in picks if not 0 <= i < len(photos)]
            if bad:
                parser.error(f"--real-pick: {bad} outside the {len(photos)} photos of {args.real}")
            paths += [photos[i] for i in picks][: args.n]
        else:
            paths += photos[args.start : args.start + args.n]
    write_rgb_png(args.out, sheet_of_files(paths, args.n, args.width))


def _frames(root: Path, where: list[str]) -> list[Path]:
    """The dataset's frames in order; with ``where``, only those whose recorded conditions match every KEY=VALUE
    (values compared as the JSON text of the recorded value, e.g. true, 0.5, "rain")."""
    frames = sorted((root / "images").glob("*.png"))
    if not where:
        return frames
    wanted = dict(w.split("=", 1) for w in where)
    keep = set()
    for line in (root / "metadata" / "frames.jsonl").read_text().splitlines():
        record = json.loads(line)
        conditions = record.get("conditions", {})
        if all(k in conditions and json.dumps(conditions[k]).strip('"') == v for k, v in wanted.items()):
            keep.add(Path(record["file_name"]).name)
    return [f for f in frames if f.name in keep]


if __name__ == "__main__":
    main()
