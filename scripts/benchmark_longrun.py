"""Does a long render stay flat? RSS and per-frame time over many frames in one process.

    uv run python scripts/benchmark_longrun.py [--frames 300] [--resolution 160x120] [--samples 8]

Prints RSS (MiB) and the per-frame time around frames 10, 100, 200 and the last one.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import psutil
from hydra import compose, initialize_config_dir

from simvision.config import CONF_DIR
from simvision.dataset.job import run
from simvision.dataset.job_config import register_configs
from simvision.io import frames as frame_writer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--resolution", default="160x120")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.resolution.lower().split("x"))
    process = psutil.Process()
    samples: list[tuple[int, float, float]] = []  # (frame, time, rss MiB)
    real_write = frame_writer.write_frame_files

    def watched(out_dir, frame_id, *rest, **kw):  # sample after every frame is written
        result = real_write(out_dir, frame_id, *rest, **kw)
        samples.append((frame_id, time.perf_counter(), process.memory_info().rss / 2**20))
        return result

    frame_writer.write_frame_files = watched
    import simvision.dataset.job as pipeline

    pipeline.write_frame_files = watched
    register_configs()
    with tempfile.TemporaryDirectory() as out, initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "render",
            overrides=[
                f"output_dir={out}",
                f"num_frames={args.frames}",
                f"render.resolution=[{width},{height}]",
                f"render.samples={args.samples}",
                "output.card=false",
                *args.overrides,
            ],
        )
        run(cfg)
    print(f"{'frame':>6} {'rss MiB':>8} {'s/frame (mean of 10 before)':>28}")
    for mark in sorted({10, 100, 200, args.frames - 1} & set(range(args.frames))):
        i = next(k for k, s in enumerate(samples) if s[0] == mark)
        lo = max(i - 10, 0)
        spf = (samples[i][1] - samples[lo][1]) / max(i - lo, 1)
        print(f"{mark:>6} {samples[i][2]:>8.0f} {spf:>28.3f}")


if __name__ == "__main__":
    main()
