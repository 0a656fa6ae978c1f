"""Draws within a config's ``[lo, hi]`` ranges, shared by every scene type and the conditions."""

from __future__ import annotations

from typing import Any

import numpy as np


def uniform_in(rng: np.random.Generator, bounds: Any) -> float:
    """A uniform draw in ``[lo, hi]``; an empty range gives ``lo`` without drawing."""
    lo, hi = float(bounds[0]), float(bounds[1])
    return float(rng.uniform(lo, hi)) if hi > lo else lo
