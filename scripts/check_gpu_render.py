"""On a GPU machine: list Cycles' devices and check that GPU renders carry the CPU's labels.

    uv run python scripts/check_gpu_render.py [--devices cpu cuda optix] [--frames 4] [overrides ...]

Thin wrapper over :mod:`simvision.bench.devices`; see docs/benchmarks.md ("GPU rendering").
"""

from __future__ import annotations

import sys

from simvision.bench.devices import main

if __name__ == "__main__":
    sys.exit(main())
