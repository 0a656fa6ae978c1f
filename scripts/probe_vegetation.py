"""Time Infinigen's vegetation and rock factories and count their triangles (raw and after decimation).

    python scripts/probe_vegetation.py [--cache /tmp/veg_probe] [--only TreeFactory,BushFactory] [--budget 0]

Each candidate is generated alone by the same helper process the renderer uses
(``simvision.render.infinigen_assets.prepare``: offline, no add-on installs) into a throw-away cache;
the table gives the helper's own time for the asset (from its log, without Blender/Infinigen start-up),
the whole helper call (with start-up), and the triangles and size of the cached mesh. A factory that
fails (for example one needing a Blender add-on that is not installed) is reported with its error.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from simvision.render.infinigen_assets import InfinigenAssetError, prepare
from simvision.scene.infinigen_library import INFINIGEN_VERSION, Variant, variant_bounds
from simvision.scene.street.vegetation import FACTORY_PARAMS

# (module, factory), lightest first; keyword arguments per factory below
CANDIDATES = [
    ("grassland", "GrassTuftFactory"),
    ("rocks", "BoulderFactory"),
    ("rocks", "BlenderRockFactory"),
    ("trees", "BushFactory"),
    ("trees", "TreeFactory"),
    ("small_plants", "FernFactory"),
    ("monocot", "TussockMonocotFactory"),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default="")
    ap.add_argument("--only", default="")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=int, default=0, help="max triangles (0 = no decimation)")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--face-size", type=float, default=0.0, help="mesh detail (m) for spawn_asset")
    ap.add_argument("--instance-ratio", type=float, default=0.0, help="decimate instanced leaves/twigs first")
    ap.add_argument(
        "--foliage-triangles", type=int, default=0, help="keep the instances (a tree's twigs), each at most this"
    )
    ap.add_argument("--params", default="", help="JSON factory kwargs for all (default: the street's FACTORY_PARAMS)")
    args = ap.parse_args()
    cache = Path(args.cache or tempfile.mkdtemp(prefix="veg_probe_")) / INFINIGEN_VERSION
    only = set(filter(None, args.only.split(",")))
    print(f"cache {cache}; budget {args.budget or 'none'}")
    print(f"{'factory':28s} {'asset s':>8s} {'call s':>8s} {'triangles':>10s} {'size m (x y z)':>22s}")
    for module, factory in CANDIDATES:
        if only and factory not in only:
            continue
        default = FACTORY_PARAMS.get(factory)  # what the street uses (realize=True keeps a tree's leaves)
        params = args.params or (json.dumps(default, sort_keys=True) if default else "")
        sub = f"{factory}-{args.budget}-{args.face_size}-{args.instance_ratio}-{args.foliage_triangles}"
        sub += f"-{zlib.crc32(params.encode()):08x}"
        v = Variant(
            "vegetation",
            factory,
            args.seed,
            str(cache / sub / f"{args.seed}.blend"),
            str(cache / sub / f"{args.seed}.npz"),
            module,
            max_triangles=args.budget,
            params=params,
            face_size=args.face_size,
            instance_ratio=args.instance_ratio,
            foliage_triangles=args.foliage_triangles,
        )
        t0 = time.perf_counter()
        try:
            prepare([v], timeout_s=args.timeout)
        except InfinigenAssetError as exc:
            last = [line for line in str(exc).splitlines() if line.strip()][-1]
            print(f"{factory:28s} FAILED after {time.perf_counter() - t0:.1f} s: {last[:150]}")
            continue
        call = time.perf_counter() - t0
        log = (cache / "generate.log").read_text()
        found = re.findall(rf"generated {v.object_name} in ([0-9.]+) s", log)
        with np.load(v.npz) as data:
            faces, instances = data["faces"], int(data["instances"]) if "instances" in data else 0
        lo, hi = variant_bounds(v.npz)  # with a kept crown: over the mesh and every instance
        size = hi - lo
        print(
            f"{factory:28s} {float(found[-1]) if found else float('nan'):8.1f} {call:8.1f} {len(faces):10d} "
            f"{size[0]:7.2f} {size[1]:7.2f} {size[2]:6.2f}" + (f"  + {instances} instances" if instances else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
