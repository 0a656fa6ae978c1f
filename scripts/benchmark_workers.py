"""Aggregate frames/s of N joblib workers x T render threads (real Hydra multirun).

    uv run python scripts/benchmark_workers.py [--frames 16] [--splits 1x2 1x1 2x1 2x2] [-- overrides]

Thin wrapper over :mod:`simvision.bench.workers`; numbers, never assertions.
"""

from __future__ import annotations

import sys

from simvision.bench.workers import main

if __name__ == "__main__":
    sys.exit(main())
