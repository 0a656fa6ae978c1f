"""Milliseconds each camera effect (simvision/render/effects.py) adds to a frame, at a few resolutions.

    python scripts/benchmark_effects.py [--sizes 224x224 621x188 1920x1080] [--repeats 5]

Effects run on the rendered RGB in the writer, once per frame; this prints one JSON line per resolution with
the median over ``--repeats`` of each effect on a random frame with a flat road-like depth map (rain: 400
streaks, the top of the default range; fog: 0.03 / m; motion blur: 3 px; noise: 0.02).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from simvision.render.effects import bloom, fog, lens_dirt, motion_blur, rain_streaks, sensor_noise


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(1000.0 * float(np.median(times)), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["224x224", "621x188", "1920x1080"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for size in args.sizes:
        w, h = (int(v) for v in size.split("x"))
        gen = np.random.default_rng(0)
        image = gen.uniform(0, 255, (h, w, 3)).astype(np.uint8)
        depth = np.tile(np.linspace(80.0, 2.0, h, dtype=np.float32)[:, None], (1, w))
        depth[: h // 3] = 0.0  # sky
        rain = partial(rain_streaks, image, 400)
        effects: dict[str, Callable[[], object]] = {
            "fog": partial(fog, image, depth, 0.03),
            "bloom": partial(bloom, image),
            "lens_dirt": partial(lens_dirt, image, np.random.default_rng(1)),
            "motion_blur": partial(motion_blur, image, 3.0, 5.0),
            "rain_streaks": partial(rain, np.random.default_rng(1)),
            "rain_streaks_night": partial(rain, np.random.default_rng(1), long_exposure=True),
            "sensor_noise": partial(sensor_noise, image, 0.02, np.random.default_rng(1)),
        }
        row = {"size": size, **{name: _median_ms(fn, args.repeats) for name, fn in effects.items()}}
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
