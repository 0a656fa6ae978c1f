"""Draws within the scene config's ranges: ``[lo, hi]`` pairs, counts and weighted kinds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simvision.scene.draws import uniform_in

__all__ = ["count_in", "tagged_rng", "uniform_in", "weighted_choice"]


def tagged_rng(seed: Any, tag: int) -> np.random.Generator:
    """A generator of its own for one layer of a scene (props, vegetation, shop fronts, lit windows): the scene
    seed plus ``tag``, so its draws never touch the scene's own generator."""
    return np.random.default_rng(np.random.SeedSequence([*(int(s) for s in seed), tag]))


def count_in(rng: np.random.Generator, bounds: Any, weight: float = 1.0) -> int:
    """An integer count in ``[lo, hi]``, scaled by a class weight."""
    lo, hi = int(bounds[0]), int(bounds[1])
    n = int(rng.integers(lo, hi + 1)) if hi > lo else lo
    if weight == 1.0:
        return n
    scaled = n * weight  # expected count scales with the class weight; dither the fraction
    return int(math.floor(scaled) + (rng.uniform() < scaled - math.floor(scaled)))


def weighted_choice(weights: dict[str, float], rng: np.random.Generator) -> str:
    """One name, drawn with probability proportional to its (non-negative) weight."""
    names = list(weights)
    p = np.array([max(float(weights[n]), 0.0) for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]
