"""``simvision-merge``: shard folders -> one dataset folder (COCO + optional YOLO/KITTI/BOP/... + card).

Example: ``simvision-merge runs/sweep/shard_* -o datasets/street_v1 --formats coco,yolo,kitti``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from simvision.dataset.merge import MergeResult, merge_shards
from simvision.formats import format_names, unknown_formats
from simvision.io.folder import DatasetError

__all__ = ["parse_formats", "run", "main"]


def parse_formats(text: str) -> list[str]:
    """``"coco,yolo"`` -> ``["coco", "yolo"]``; COCO is always written (the others derive from it).

    Names are case-insensitive; a dotted path to a format class (``mypkg.formats.Csv``) is kept as given.
    """
    names = [f.strip() for f in text.split(",") if f.strip()]
    formats = [f if "." in f else f.lower() for f in names]
    bad = unknown_formats(formats)
    if bad:
        raise DatasetError(f"--formats: unknown format(s) {bad}; choose from {','.join(format_names())}")
    return ["coco", *[f for f in dict.fromkeys(formats) if f != "coco"]]


def run(
    shards: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("coco",),
    card: bool = True,
    progress: bool = True,
    dedupe: bool = False,
) -> MergeResult:
    """Merge ``shards`` into ``out_dir``; see ``simvision.dataset.merge.merge_shards``."""
    return merge_shards(shards, out_dir, formats=formats, card=card, progress=progress, dedupe=dedupe)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="simvision-merge",
        description="Merge shard folders into one dataset with unique frame, image and annotation ids. "
        "Refuses shards whose class tables (COCO categories) differ, and frames found in two shards.",
    )
    p.add_argument("shards", nargs="+", help="shard folders (each as written by simvision-render)")
    p.add_argument("-o", "--out", required=True, help="output dataset folder (must not exist or be empty)")
    p.add_argument(
        "--formats",
        default="coco",
        help=f"comma-separated subset of {','.join(format_names())} or dotted paths to format classes (default coco)",
    )
    p.add_argument("--no-card", action="store_true", help="do not write the dataset card and contact sheet")
    p.add_argument(
        "--dedupe",
        action="store_true",
        help="keep the first copy of a frame found in several shards (same seed, scene, camera and config) "
        "instead of refusing the merge",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; exit 0 on success, 2 with a one-line error on bad input or a failed write."""
    args = _parser().parse_args(argv)
    try:
        result = run(
            args.shards,
            args.out,
            formats=parse_formats(args.formats),
            card=not args.no_card,
            progress=not args.no_progress,
            dedupe=args.dedupe,
        )
    except (DatasetError, OSError) as exc:  # bad input, or a write that failed (disk full): one line each
        print(f"simvision-merge: error: {exc}", file=sys.stderr)
        return 2
    exports = "".join(f", {k}: {v}" for k, v in result.exports.items())
    dropped = f", dropped {result.n_duplicates} duplicate frames (kept the first copy)" if result.n_duplicates else ""
    print(
        f"merged {result.n_shards} shards -> {result.out_dir}: {result.n_frames} frames, "
        f"{result.n_annotations} annotations{exports}{dropped}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
