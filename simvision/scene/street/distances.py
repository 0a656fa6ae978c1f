"""Target distance distributions (config ``scene.placement.distance_m``): a piecewise-linear quantile function
through p10, median and p90, with tails down to p10^2/median (at least 1 m, at most p10) and up to 1.5 p90
(objects farther than that are rarely labelled in real data: too small or hidden), and its density for
thinning rows of parked cars."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

QUANTILES = np.array([0.0, 0.1, 0.5, 0.9, 1.0])


def knots(target: Any) -> np.ndarray:
    """Distances at the quantiles 0, 0.1, 0.5, 0.9, 1."""
    p10, median, p90 = float(target["p10"]), float(target["median"]), float(target["p90"])
    return np.array([min(max(p10 * p10 / median, 1.0), p10), p10, median, p90, 1.5 * p90])


def quantile(target: Any, u: float) -> float:
    """The distance at quantile u in [0, 1]."""
    return float(np.interp(u, QUANTILES, knots(target)))


def cdf(target: Any, d: float) -> float:
    """The share of the target below distance d."""
    return float(np.interp(d, knots(target), QUANTILES))


def density(target: Any, d: float) -> float:
    """The target's probability density at distance d (piecewise constant; 0 outside the tails)."""
    k = knots(target)
    if d < k[0] or d > k[-1]:
        return 0.0
    i = min(int(np.searchsorted(k, d, side="right")) - 1, len(k) - 2)
    return float((QUANTILES[i + 1] - QUANTILES[i]) / max(k[i + 1] - k[i], 1e-9))


def draw(target: Any, rng: np.random.Generator, within: float | None = None) -> float:
    """One distance from the target (one uniform draw), optionally no farther than ``within``."""
    top = 1.0 if within is None else cdf(target, within)
    return quantile(target, float(rng.uniform(0.0, top)))


def arc_length(distance: float, lateral: float, height: float = 0.0) -> float:
    """Arc length ahead of the camera at which a point ``lateral`` metres beside it (and ``height`` below it)
    is ``distance`` away (straight-road geometry; a curve moves it little at these ranges)."""
    return math.sqrt(max(distance * distance - lateral * lateral - height * height, 1.0))
