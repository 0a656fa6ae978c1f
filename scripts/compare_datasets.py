"""Compare two dataset folders file by file: the byte-identity check for refactors.

    python scripts/compare_datasets.py OLD NEW [--ignore config.yaml ...] [--same-path /old/checkout=/new/checkout]

Prints one line per differing, missing or extra file and a summary; exits 1 when anything differs.
Files that record the run rather than the data (resolved config, dataset card, throughput,
contact sheets and plots) can be skipped with ``--ignore`` (glob patterns, relative paths);
``--same-path A=B`` reads the text A in OLD's files as B (two checkouts record their own asset paths).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import sys
from pathlib import Path


def digests(root: Path, ignore: list[str], replace: tuple[bytes, bytes] | None = None) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if any(fnmatch.fnmatch(rel, pattern) for pattern in ignore):
            continue
        data = path.read_bytes()
        if replace is not None:
            data = data.replace(*replace)
        out[rel] = hashlib.sha256(data).hexdigest()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--ignore", action="append", default=[], help="glob of relative paths to skip")
    parser.add_argument("--same-path", default=None, help="OLD_TEXT=NEW_TEXT replaced in OLD's files before hashing")
    args = parser.parse_args(argv)
    replace = None
    if args.same_path:
        old_text, new_text = args.same_path.split("=", 1)
        replace = (old_text.encode(), new_text.encode())
    a, b = digests(args.old, args.ignore, replace), digests(args.new, args.ignore)
    bad = 0
    for rel in sorted(set(a) | set(b)):
        if rel not in b:
            print(f"only in {args.old}: {rel}")
        elif rel not in a:
            print(f"only in {args.new}: {rel}")
        elif a[rel] != b[rel]:
            print(f"differs: {rel}")
        else:
            continue
        bad += 1
    print(f"{len(set(a) & set(b))} files compared, {bad} differ or are missing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
