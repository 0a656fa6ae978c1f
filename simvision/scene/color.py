"""Colour helpers for samplers."""

from __future__ import annotations

import colorsys

import numpy as np


def blackbody_rgb(kelvin: float) -> list[float]:
    """Approximate linear-ish RGB (0..1) of a black body, for light colours (1000-40000 K).

    Uses the well-known piecewise fit of the CIE blackbody locus in sRGB; good to a few percent,
    which is plenty for randomised lighting.
    """
    t = float(np.clip(kelvin, 1000.0, 40000.0)) / 100.0
    if t <= 66:
        r = 255.0
        g = 99.4708025861 * np.log(t) - 161.1195681661
        b = 0.0 if t <= 19 else 138.5177312231 * np.log(t - 10) - 305.0447927307
    else:
        r = 329.698727446 * (t - 60) ** -0.1332047592
        g = 288.1221695283 * (t - 60) ** -0.0755148492
        b = 255.0
    return [float(np.clip(c, 0, 255) / 255.0) for c in (r, g, b)]


def random_color(rng: np.random.Generator, saturation: tuple[float, float] = (0.2, 0.95)) -> list[float]:
    """A random RGB colour drawn in HSV so that saturation and value stay plausible."""
    h = rng.uniform(0, 1)
    s = rng.uniform(*saturation)
    v = rng.uniform(0.15, 0.95)
    return [float(c) for c in colorsys.hsv_to_rgb(h, s, v)]
