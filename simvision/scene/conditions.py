"""Time of day, weather and camera effects: drawn per scene, recorded with every frame."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# sun elevation ranges (degrees) of each time of day
SUN_ELEVATION = {"day": (20.0, 70.0), "low_sun": (3.0, 12.0), "dusk": (-4.0, 2.0), "night": (-25.0, -10.0)}
GLARE_ELEVATION = (1.5, 8.0)
WEATHERS = ("clear", "overcast", "fog", "rain")


@dataclass
class Conditions:
    time_of_day: str
    sun_elevation_deg: float
    sun_azimuth_deg: float  # from +x (the road direction at the ego car), counter-clockwise
    glare: bool  # the sun (day) or oncoming headlights (night) are in view
    weather: str
    fog_density: float  # extinction per metre, 0 = none
    wetness: float  # 0 dry .. 1 soaked road
    puddle_coverage: float
    rain_streaks: int
    exposure_ev: float
    motion_blur_px: float
    sensor_noise: float
    lens_dirt: bool
    preset: str

    @property
    def night(self) -> bool:
        return self.sun_elevation_deg < -3.0

    def record(self) -> dict[str, Any]:
        return asdict(self)


def _choose(weights: Any, allowed: tuple[str, ...] | dict[str, Any], field: str, rng: np.random.Generator) -> str:
    names = [str(k) for k in weights]
    for name in names:
        if name not in allowed:
            raise ValueError(f"conditions.{field}: unknown entry {name!r}; choose from {', '.join(allowed)}")
    p = np.array([float(weights[k]) for k in names], dtype=np.float64)
    if (p < 0).any() or p.sum() <= 0:
        raise ValueError(f"conditions.{field}: weights must be >= 0 and not all 0")
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _u(rng: np.random.Generator, bounds: Any) -> float:
    lo, hi = float(bounds[0]), float(bounds[1])
    return float(rng.uniform(lo, hi)) if hi > lo else lo


def sample_conditions(cfg: Any, camera_yaw_deg: float, *, rng: np.random.Generator) -> Conditions:
    """Draw one scene's conditions. ``camera_yaw_deg`` lets glare put the low sun in view."""
    tod = _choose(cfg.time_of_day, SUN_ELEVATION, "time_of_day", rng)
    glare = bool(rng.uniform() < float(cfg.glare_probability)) and tod in ("day", "low_sun", "night")
    if glare and tod != "night":
        elevation = _u(rng, GLARE_ELEVATION)
        azimuth = camera_yaw_deg + float(rng.uniform(-15.0, 15.0))
    else:
        elevation = _u(rng, SUN_ELEVATION[tod])
        azimuth = float(rng.uniform(0.0, 360.0))
    weather = _choose(cfg.weather, WEATHERS, "weather", rng)
    fog = _u(rng, cfg.fog_density) if weather == "fog" else 0.0
    wet = _u(rng, cfg.rain_wetness) if weather == "rain" else 0.0
    puddles = _u(rng, cfg.puddle_coverage) if weather == "rain" else 0.0
    streaks = int(round(_u(rng, cfg.rain_streaks))) if weather == "rain" else 0
    exposure = _u(rng, cfg.night_exposure_ev if elevation < -3.0 else cfg.exposure_ev)
    return Conditions(
        time_of_day=tod,
        sun_elevation_deg=elevation,
        sun_azimuth_deg=azimuth % 360.0,
        glare=glare,
        weather=weather,
        fog_density=fog,
        wetness=wet,
        puddle_coverage=puddles,
        rain_streaks=streaks,
        exposure_ev=exposure,
        motion_blur_px=_u(rng, cfg.motion_blur_px),
        sensor_noise=_u(rng, cfg.sensor_noise),
        lens_dirt=bool(rng.uniform() < float(cfg.lens_dirt_probability)),
        preset=str(cfg.preset),
    )


def sun_direction(elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """Unit vector pointing from the scene towards the sun."""
    el, az = np.radians(elevation_deg), np.radians(azimuth_deg)
    return np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
