"""Seconds a job's first run spends generating its Infinigen assets, with 1, 2, ... helper processes.

    python scripts/benchmark_first_run.py [--helpers 1 2] [--work DIR] [OVERRIDE ...]
    python scripts/benchmark_first_run.py --helpers 1 2                       # the dressed street (default)
    python scripts/benchmark_first_run.py --helpers 1 2 -- scene=tabletop scene.assets=infinigen

Composes the job config (conf/render.yaml plus the overrides; default ``scene=street scene.assets=infinigen``),
asks the scene type for the assets it needs (what a render job generates before its first frame) and, for
each helper count, generates them into an empty cache (``scene.infinigen.cache_dir`` under ``--work``) with
:func:`simvision.render.infinigen_assets.prepare`. Prints one JSON line per helper count: the variants, the
wall-clock seconds, the sum of the helpers' own per-variant seconds (from their log; above the wall clock
when helpers overlapped), the slowest variant, and the cores this process may use. Nothing else on the
machine should be busy: the helpers compete for the same cores.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir

from simvision.config import CONF_DIR
from simvision.dataset.job_config import register_configs, validate_job_config
from simvision.render.infinigen_assets import prepare
from simvision.render.runtime import usable_cores
from simvision.scene.base import load_scene

DEFAULT_OVERRIDES = ["scene=street", "scene.assets=infinigen"]
_LINE = re.compile(r"^simvision: generated (\S+) in ([0-9.]+) s$", re.MULTILINE)


def requests_for(overrides: list[str], cache: Path) -> list:
    """The Infinigen variants a render job with these overrides generates before its first frame."""
    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            config_name="render", overrides=["output_dir=unused", *overrides, f"scene.infinigen.cache_dir={cache}"]
        )
    class_ids = validate_job_config(cfg)
    return load_scene(cfg.scene, class_ids, tuple(int(v) for v in cfg.render.resolution)).asset_requests()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--helpers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--work", type=Path, help="folder for the empty caches (default: a temporary one)")
    parser.add_argument("overrides", nargs="*", help=f"job config overrides (default: {' '.join(DEFAULT_OVERRIDES)})")
    args = parser.parse_args()
    overrides = args.overrides or DEFAULT_OVERRIDES
    work = args.work or Path(tempfile.mkdtemp(prefix="simvision-first-run-"))
    cores = usable_cores()
    for helpers in args.helpers:
        cache = work / f"cache-{helpers}"
        shutil.rmtree(cache, ignore_errors=True)
        wanted = requests_for(overrides, cache)
        started = time.perf_counter()
        made = prepare(wanted, helpers=helpers)
        wall = time.perf_counter() - started
        logs = "".join(p.read_text() for p in cache.rglob("generate.log"))
        seconds = {name: float(s) for name, s in _LINE.findall(logs)}
        slowest = max(seconds, key=seconds.get) if seconds else None
        print(
            json.dumps(
                {
                    "overrides": overrides,
                    "helpers": helpers,
                    "variants": len(made),
                    "wall_s": round(wall, 1),
                    "sum_of_variant_s": round(sum(seconds.values()), 1),
                    "slowest": {slowest: seconds[slowest]} if slowest else {},
                    "cores": cores,
                }
            ),
            flush=True,
        )
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
