"""Generation time, triangle count and size of Infinigen factories, as simvision's helper caches them.

Runs the helper's own ``generate`` (spawn, finalize, join parts, rebase) in this process for each
``module.Factory`` and seed given, into a throw-away cache, and prints one line per variant:

    python scripts/infinigen_factory_stats.py tableware.JarFactory seating.ChairFactory --seeds 0 1

Times include Infinigen's per-factory first-use work (node groups); the first variant also pays the
imports. Numbers are wall-clock on this machine (noisy on shared cores).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("factories", nargs="+", help="module.Factory under infinigen.assets.objects")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--cache", default="", help="cache folder (default: a temporary one)")
    parser.add_argument("--max-triangles", type=int, default=30000, help="decimation budget (0 = none)")
    args = parser.parse_args()
    import bpy  # noqa: F401

    from simvision.render.infinigen_assets import generate, offline_infinigen
    from simvision.scene.infinigen_library import INFINIGEN_VERSION, Variant, target_size

    offline_infinigen()
    root = Path(args.cache or tempfile.mkdtemp(prefix="ig_stats_")) / INFINIGEN_VERSION
    print("factory seed seconds triangles size_xyz_m", flush=True)
    for name in args.factories:
        module, factory = name.rsplit(".", 1)
        for seed in args.seeds:
            budget = args.max_triangles
            files = (str(root / factory / f"{seed}.blend"), str(root / factory / f"{seed}.npz"))
            v = Variant(name, factory, seed, *files, module, budget, target_size(factory, seed))
            t0 = time.perf_counter()
            try:
                generate(v)
            except Exception as exc:  # noqa: BLE001 - report and go on to the next factory
                print(f"{name} {seed} FAILED {type(exc).__name__}: {exc}", flush=True)
                traceback.print_exc()
                continue
            dt = time.perf_counter() - t0
            with np.load(v.npz) as data:
                vertices, faces = data["vertices"], data["faces"]
            size = vertices.max(axis=0) - vertices.min(axis=0)
            print(f"{name} {seed} {dt:.2f} {len(faces)} {size[0]:.3f} {size[1]:.3f} {size[2]:.3f}", flush=True)


if __name__ == "__main__":
    main()
