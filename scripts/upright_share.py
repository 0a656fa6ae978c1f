"""How many of a dataset's objects stand upright: per class, the share of visible objects whose own up axis
is within ``--tilt`` degrees of the world's up (from each object's ``pose_world`` in metadata/frames.jsonl).

    python scripts/upright_share.py out/realism/tabletop-infinigen-lived-in-now --classes cup bowl bottle

Prints one JSON line per class: objects seen (``visible_pixels`` > 0), the upright share, and the median tilt
in degrees. Photos of set tables show cups, bowls and bottles upright; dropped with a random orientation they
settle on their sides.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--classes", nargs="*", default=None, help="class names (default: every labelled class)")
    parser.add_argument("--tilt", type=float, default=30.0, help="degrees from vertical that still count as upright")
    args = parser.parse_args()
    tilts: dict[str, list[float]] = {}
    for line in (args.dataset / "metadata" / "frames.jsonl").read_text().splitlines():
        for obj in json.loads(line).get("objects", []):
            name = obj.get("class_name")
            if not name or (args.classes and name not in args.classes) or obj.get("visible_pixels", 0) <= 0:
                continue
            up_z = float(np.clip(obj["pose_world"][2][2], -1.0, 1.0))  # the object's z axis, world z component
            tilts.setdefault(name, []).append(math.degrees(math.acos(up_z)))
    for name, values in sorted(tilts.items()):
        v = np.asarray(values)
        row = {"class": name, "objects": len(v), "upright_share": round(float((v <= args.tilt).mean()), 3)}
        print(json.dumps({**row, "median_tilt_deg": round(float(np.median(v)), 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
