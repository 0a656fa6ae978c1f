"""Target distance distributions (config ``scene.placement.distance_m``): a piecewise-linear quantile function
through p10, median and p90, with tails down to p10^2/median (at least 1 m, at most p10) and up to 1.5 p90
(objects farther than that are rarely labelled in real data: too small or hidden), and its density for
thinning rows of parked cars."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

QUANTILES = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
KITTI_HEIGHT_PX = 375  # box-height targets are given for an image scaled to this height (KITTI's)
# typical object heights (metres) that turn a class's box-height target into a distance target (pinhole: a box
# h px tall is H f / h away); a class not here needs ``object_height_m`` in its target
NOMINAL_HEIGHT_M = {
    "car": 1.5,
    "van": 2.0,
    "truck": 3.2,
    "bus": 3.1,
    "person": 1.7,
    "cyclist": 1.75,
    "traffic_cone": 0.7,
    "barrier": 1.0,
}


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


def focal_px(resolution: Any, hfov_deg: Any) -> float:
    """Focal length in pixels of a ``resolution`` (width, height) image scaled to KITTI_HEIGHT_PX high, at the
    middle of the ``hfov_deg`` range [low, high] (the scene's cameras draw from it)."""
    width, height = (float(v) for v in resolution)
    hfov = math.radians(0.5 * (float(hfov_deg[0]) + float(hfov_deg[1])))
    return KITTI_HEIGHT_PX * (width / height) / (2.0 * math.tan(hfov / 2.0))


def from_box_height(target: Any, focal: float, object_height_m: float) -> dict[str, float]:
    """The distance target {p10, median, p90} that puts boxes ``object_height_m`` tall at the box-height
    quantiles of ``target`` (pixels at KITTI_HEIGHT_PX, focal ``focal`` px): the distance is f H / h, so the
    distance p10 comes from the box-height p90 and the median from the median (exact at those three points;
    between them the distance target interpolates linearly in metres)."""
    k = focal * float(object_height_m)
    return {"p10": k / float(target["p90"]), "median": k / float(target["median"]), "p90": k / float(target["p10"])}


def class_targets(placement: Any, resolution: Any, hfov_deg: Any) -> dict[str, dict[str, float]]:
    """Distance target per class: ``placement.distance_m``, with every class of ``placement.box_height_px``
    replaced by the distance target its box-height target gives at ``resolution`` and the ``hfov_deg`` range."""
    targets = {
        k: {q: float(v[q]) for q in ("p10", "median", "p90")} for k, v in (placement.get("distance_m") or {}).items()
    }
    boxes = placement.get("box_height_px") or {}
    if boxes:
        focal = focal_px(resolution, hfov_deg)
        for name, target in boxes.items():
            height = target.get("object_height_m") or NOMINAL_HEIGHT_M.get(name)
            targets[name] = from_box_height(target, focal, float(height))
    return targets


def with_bins(target: Any, edges: Any, weights: Any) -> dict[str, Any]:
    """The target with a distance-bin weighting (``scene.placement.distance_bins`` / ``distance_bin_weights``):
    its density multiplied by the weight of the bin each distance falls in."""
    return {
        **{k: float(target[k]) for k in ("p10", "median", "p90")},
        "bin_edges": [float(e) for e in edges],
        "bin_weights": [float(w) for w in weights],
    }


def _weighted_cdf(target: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(distances, cdf) of the bin-weighted target: piecewise linear between the knots and the bin edges."""
    k = knots(target)
    edges = np.asarray(target["bin_edges"], np.float64)
    weights = np.asarray(target["bin_weights"], np.float64)
    points = np.unique(np.concatenate([k, edges[(edges > k[0]) & (edges < k[-1])]]))
    mass = np.diff(np.interp(points, k, QUANTILES))
    mids = 0.5 * (points[1:] + points[:-1])
    idx = np.searchsorted(edges, mids, side="right") - 1
    w = np.where(idx >= 0, weights[np.clip(idx, 0, len(weights) - 1)], 0.0)
    mass = mass * w
    if mass.sum() <= 0:  # the weights switch off the whole target: keep it as it is
        return None
    return points, np.concatenate([[0.0], np.cumsum(mass) / mass.sum()])


def draw(target: Any, rng: np.random.Generator, within: float | None = None) -> float:
    """One distance from the target (one uniform draw), optionally no farther than ``within``."""
    weighted = _weighted_cdf(target) if target.get("bin_weights") else None
    if weighted is not None:
        points, c = weighted
        top = 1.0 if within is None else float(np.interp(within, points, c))
        u = float(rng.uniform(0.0, top))
        # the inverse of a cdf with flat pieces (weight 0): the first distance reaching u
        i = int(np.clip(np.searchsorted(c, u, side="left"), 1, len(c) - 1))
        lo, hi = c[i - 1], c[i]
        return float(points[i - 1] + (points[i] - points[i - 1]) * ((u - lo) / (hi - lo) if hi > lo else 0.0))
    top = 1.0 if within is None else cdf(target, within)
    return quantile(target, float(rng.uniform(0.0, top)))


def arc_length(distance: float, lateral: float, height: float = 0.0) -> float:
    """Arc length ahead of the camera at which a point ``lateral`` metres beside it (and ``height`` below it)
    is ``distance`` away (straight-road geometry; a curve moves it little at these ranges)."""
    return math.sqrt(max(distance * distance - lateral * lateral - height * height, 1.0))
