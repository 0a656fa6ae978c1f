"""Sun light and sky background for the sampled conditions (time of day, weather, glare)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from simvision.scene.color import blackbody_rgb
from simvision.scene.conditions import CLEAR_SUN_STRENGTH, OVERCAST_WEATHER, Conditions, sun_direction
from simvision.scene.spec import LightSpec

CLOUDED_SUN = 0.6  # the sun's strength at the zenith through a cloud deck (15 % of the default clear-day sun)


def sun_lights(c: Conditions, zenith_strength: float = CLEAR_SUN_STRENGTH) -> list[LightSpec]:
    """A sun lamp by day: ``zenith_strength`` (``scene.conditions.sun_strength``) high in a clear sky,
    :data:`CLOUDED_SUN` through cloud, whatever the clear day's; dimmer when low, warmer near the horizon."""
    if c.sun_elevation_deg <= 0 or c.glare:
        return []  # at night no sun; with glare the sky's own sun disc lights the scene
    d = sun_direction(c.sun_elevation_deg, c.sun_azimuth_deg)
    zenith = CLOUDED_SUN if c.weather in OVERCAST_WEATHER else zenith_strength
    strength = zenith * math.sin(math.radians(c.sun_elevation_deg)) ** 0.5
    kelvin = 3000.0 + 2800.0 * min(1.0, c.sun_elevation_deg / 30.0)
    return [LightSpec("SUN", (100 * d).tolist(), [0.0, 0.0, 0.0], kelvin, blackbody_rgb(kelvin), strength, 0.01)]


def sky_background(c: Conditions, rng: np.random.Generator) -> dict[str, Any]:
    """A physical sky (hazier when overcast), a dim world colour at night, fog and exposure."""
    overcast = c.weather in OVERCAST_WEATHER
    return {
        "sky": {
            "sun_elevation_deg": c.sun_elevation_deg,
            "sun_azimuth_deg": c.sun_azimuth_deg,
            "sun_disc": bool(c.glare and not c.night),
            "air_density": float(rng.uniform(0.8, 1.5)),
            "dust_density": float(rng.uniform(2.0, 6.0) if overcast else rng.uniform(0.2, 2.0)),
            "strength": 0.06 if overcast else 0.25,
            "overcast": overcast,
        },
        "world_color": [0.5, 0.52, 0.55],
        "world_strength": 0.008 if c.night else 0.3,
        "fog_density": c.fog_density,
        "exposure_ev": c.exposure_ev,
        "light_tree": True,
    }
