"""simvision vs a plain BlenderProc loop: frames/s of both, the ratio, stage split, image agreement.

    uv run python scripts/benchmark_render.py [--frames 8] [--settings 320x240@16 640x480@64]
        [--reference-samples 512] [--json bench.json] [-- hydra overrides for both pipelines]

Thin wrapper over :mod:`simvision.bench.throughput`; numbers, never assertions.
"""

from __future__ import annotations

import sys

from simvision.bench.throughput import main

if __name__ == "__main__":
    sys.exit(main())
