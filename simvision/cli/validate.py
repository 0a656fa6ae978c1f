"""``simvision-validate DATASET``: exit 0 and a one-line summary when clean, else 1 and the violations."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from simvision.dataset.validate import ValidationResult, validate_dataset
from simvision.io.atomic import atomic_write_json, writing

__all__ = ["run", "main"]


def run(dataset: str | os.PathLike[str], *, check_pixels: bool = True) -> ValidationResult:
    """Validate one dataset folder; see ``simvision.dataset.validate.validate_dataset``."""
    return validate_dataset(dataset, check_pixels=check_pixels)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="simvision-validate", description="Check a simvision dataset folder's labels and files."
    )
    p.add_argument("dataset", help="dataset folder (a shard or a merged dataset)")
    p.add_argument("--json", dest="json_path", help="also write the full result as JSON to this file")
    p.add_argument("--max-print", type=int, default=200, help="print at most this many violations (default 200)")
    p.add_argument(
        "--no-pixels", action="store_true", help="check files and ids only; skip decoding images/masks/depth"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point: 0 when the dataset is clean, 1 when violations were found, 2 on usage errors
    or when the ``--json`` report cannot be written."""
    args = _parser().parse_args(argv)
    if not Path(args.dataset).is_dir():
        print(f"simvision-validate: error: {args.dataset}: not a folder", file=sys.stderr)
        return 2
    result = run(args.dataset, check_pixels=not args.no_pixels)
    shown = result.violations[: max(args.max_print, 0)]
    for v in shown:
        print(v)
    if len(result.violations) > len(shown):
        print(f"... {len(result.violations) - len(shown)} more violations (use --json for all)")
    print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    if args.json_path:
        try:
            with writing(args.json_path):
                atomic_write_json(args.json_path, result.to_dict(), indent=2)
        except OSError as exc:  # disk full, no permission: the result above is printed, the file is not written
            print(f"simvision-validate: error: {exc}", file=sys.stderr)
            return 2
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
