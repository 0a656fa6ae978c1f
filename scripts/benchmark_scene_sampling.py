"""Seconds per scene spent drawing scenes (the sampler alone: no Blender), and a fingerprint of what was drawn.

    python scripts/benchmark_scene_sampling.py [--scenes 150] [OVERRIDE ...]
    python scripts/benchmark_scene_sampling.py scene=street scene.lane_cones=[2,5]     # the default
    python scripts/benchmark_scene_sampling.py scene=tabletop

Composes the job config (conf/render.yaml plus the overrides), draws scenes 0..N-1 exactly as a render job
seeds them, and prints one JSON line: the scene type, the number of scenes, the seconds per scene (best of
``--repeat`` passes) and the SHA-256 of every array and value in the drawn scene specs. Two commits that
draw the same scenes print the same fingerprint, so a speed-up of the sampler can be checked to change
nothing, e.g. against a base commit::

    git archive BASE | tar -x -C /tmp/base
    (cd /tmp/base && PYTHONPATH=. python $OLDPWD/scripts/benchmark_scene_sampling.py)
    python scripts/benchmark_scene_sampling.py
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from hydra import compose, initialize_config_dir

import simvision
from simvision.config import CONF_DIR
from simvision.dataset.job_config import register_configs, validate_job_config
from simvision.dataset.shards import scene_seed
from simvision.scene.base import load_scene

DEFAULT_OVERRIDES = ["scene=street", "scene.lane_cones=[2,5]"]
ROOT = Path(simvision.__file__).resolve().parents[1]  # the checkout whose simvision is imported


def _feed(h: Any, value: Any) -> None:
    """Hash ``value`` by content: arrays by dtype, shape and bytes; containers and dataclasses by their parts;
    paths inside the checkout relative to it."""
    if isinstance(value, np.ndarray):
        h.update(f"{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            h.update(repr(key).encode())
            _feed(h, value[key])
    elif isinstance(value, list | tuple):
        h.update(b"[")
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _feed(h, {f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    elif hasattr(value, "__dict__"):
        _feed(h, vars(value))
    elif isinstance(value, str | Path):  # asset paths: the same relative to the checkout that drew them
        h.update(repr(str(value).replace(str(ROOT), "<root>")).encode())
    else:
        h.update(repr(value).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best is printed")
    parser.add_argument("overrides", nargs="*", help=f"job config overrides (default: {' '.join(DEFAULT_OVERRIDES)})")
    args = parser.parse_args()
    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        # output_dir only has to resolve (nothing is written)
        cfg = compose(config_name="render", overrides=["output_dir=unused", *(args.overrides or DEFAULT_OVERRIDES)])
    class_ids = validate_job_config(cfg)
    scene = load_scene(cfg.scene, class_ids, tuple(int(v) for v in cfg.render.resolution))
    per_scene = scene.views_per_scene()
    best, digest = float("inf"), ""
    for _ in range(args.repeat):
        h = hashlib.sha256()
        elapsed = 0.0
        for index in range(args.scenes):
            seed = scene_seed(cfg.seed, index)
            started = time.perf_counter()
            spec = scene.sample(index, seed, per_scene, rng=np.random.default_rng(np.random.SeedSequence(seed)))
            elapsed += time.perf_counter() - started
            _feed(h, spec)
        best, digest = min(best, elapsed), h.hexdigest()
    print(
        json.dumps(
            {
                "overrides": args.overrides or DEFAULT_OVERRIDES,
                "scenes": args.scenes,
                "seconds_per_scene": round(best / args.scenes, 4),
                "sha256": digest,
            }
        )
    )


if __name__ == "__main__":
    main()
