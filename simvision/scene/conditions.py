"""Time of day, weather and camera effects: drawn per scene, recorded with every frame."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from simvision.config.checks import ConfigError, check_probability, check_range, check_weights
from simvision.scene.draws import uniform_in

# sun elevation ranges (degrees) of each time of day
SUN_ELEVATION = {"day": (20.0, 70.0), "low_sun": (3.0, 12.0), "dusk": (-4.0, 2.0), "night": (-25.0, -10.0)}
GLARE_ELEVATION = (1.5, 8.0)
NIGHT_BELOW_DEG = -3.0  # a sun lower than this: night (no sun lamp, the night exposure range)
WEATHERS = ("clear", "overcast", "fog", "rain")
OVERCAST_WEATHER = ("overcast", "rain", "fog")  # a cloud deck: the sun dimmed, a flat grey sky

# the street's clear-day sun at the zenith by default (scene.conditions.sun_strength; Blender's sun strength, W/m2)
CLEAR_SUN_STRENGTH = 4.0


@dataclass
class ConditionsConfig:
    """Time of day, weather and camera effects, drawn per scene and recorded with every frame.

    Categorical entries are weights (target frequencies); ranges are [low, high]. A preset that sets
    a weight table must name every entry (:func:`simvision.config.checks.incomplete_weights`).
    """

    time_of_day: dict[str, float] = field(
        default_factory=lambda: {"day": 0.55, "low_sun": 0.15, "dusk": 0.1, "night": 0.2}
    )
    glare_probability: float = 0.15  # low sun (day) or oncoming headlights (night) in the camera's view
    weather: dict[str, float] = field(
        default_factory=lambda: {"clear": 0.5, "overcast": 0.2, "fog": 0.15, "rain": 0.15}
    )
    fog_density: list[float] = field(default_factory=lambda: [0.01, 0.06])  # 1/m extinction; 0.03: ~100 m visibility
    rain_wetness: list[float] = field(default_factory=lambda: [0.5, 1.0])
    puddle_coverage: list[float] = field(default_factory=lambda: [0.1, 0.45])
    rain_streaks: list[int] = field(default_factory=lambda: [0, 400])
    exposure_ev: list[float] = field(default_factory=lambda: [-0.5, 0.5])
    night_exposure_ev: list[float] = field(default_factory=lambda: [0.5, 2.0])
    # by day under cloud (overcast, rain, fog) the scene gets about a third of a clear day's light (the street's
    # sun at 15 % and a flat sky: 1.8 stops less); a camera's auto-exposure brings most of it back
    overcast_exposure_ev: list[float] = field(default_factory=lambda: [1.0, 2.0])
    motion_blur_px: list[float] = field(default_factory=lambda: [0.0, 3.0])
    sensor_noise: list[float] = field(default_factory=lambda: [0.0, 0.02])
    lens_dirt_probability: float = 0.1
    # the street's clear-day sun: its strength at the zenith (Blender's sun strength, W/m2; lower suns get
    # sqrt(sin(elevation)) of it; through cloud the sun is 0.6 whatever this is). At 4 the direct sun on flat
    # ground is 0.2-1.4x the light of the scene's physical sky (sun 8-65 degrees up), where on a clear day it is
    # 1-16x (the ASHRAE clear-sky model): a flat, hazy light with pale shadows; at 24 it is at that band's low
    # end. scripts/sun_sky_ratio.py prints both for any strength
    sun_strength: float = CLEAR_SUN_STRENGTH
    preset: str = "none"  # recorded with every frame: the experiment preset that set these


def validate_conditions(cond: Any, prefix: str) -> None:
    """Raise ``ConfigError`` naming the first bad ``<prefix>.*`` field."""
    check_weights(cond.time_of_day, f"{prefix}.time_of_day", SUN_ELEVATION)
    check_weights(cond.weather, f"{prefix}.weather", WEATHERS)
    for key in ("fog_density", "rain_wetness", "puddle_coverage", "rain_streaks", "motion_blur_px", "sensor_noise"):
        check_range(cond[key], f"{prefix}.{key}", minimum=0)
    for key in ("exposure_ev", "night_exposure_ev", "overcast_exposure_ev"):
        check_range(cond[key], f"{prefix}.{key}")
    for key in ("glare_probability", "lens_dirt_probability"):
        check_probability(cond[key], f"{prefix}.{key}")
    sun = cond.get("sun_strength", CLEAR_SUN_STRENGTH)
    if not isinstance(sun, (int, float)) or isinstance(sun, bool) or not 0.0 < float(sun) <= 1000.0:
        raise ConfigError(f"{prefix}.sun_strength: a strength in W/m2 above 0 and at most 1000, got {sun!r}")


def condition_targets(cond: Any) -> dict[str, dict[str, float]]:
    """Target share of each time of day and weather (the weights, normalised)."""
    targets = {}
    for key in ("time_of_day", "weather"):
        total = sum(float(v) for v in cond[key].values()) or 1.0
        targets[key] = {str(k): float(v) / total for k, v in cond[key].items()}
    return targets


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
        return self.sun_elevation_deg < NIGHT_BELOW_DEG

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


def sample_conditions(cfg: Any, camera_yaw_deg: float, *, rng: np.random.Generator) -> Conditions:
    """Draw one scene's conditions. ``camera_yaw_deg`` lets glare put the low sun in view."""
    tod = _choose(cfg.time_of_day, SUN_ELEVATION, "time_of_day", rng)
    glare = bool(rng.uniform() < float(cfg.glare_probability)) and tod in ("day", "low_sun", "night")
    if glare and tod != "night":
        elevation = uniform_in(rng, GLARE_ELEVATION)
        azimuth = camera_yaw_deg + float(rng.uniform(-15.0, 15.0))
    else:
        elevation = uniform_in(rng, SUN_ELEVATION[tod])
        azimuth = float(rng.uniform(0.0, 360.0))
    weather = _choose(cfg.weather, WEATHERS, "weather", rng)
    fog = uniform_in(rng, cfg.fog_density) if weather == "fog" else 0.0
    wet = uniform_in(rng, cfg.rain_wetness) if weather == "rain" else 0.0
    puddles = uniform_in(rng, cfg.puddle_coverage) if weather == "rain" else 0.0
    streaks = int(round(uniform_in(rng, cfg.rain_streaks))) if weather == "rain" else 0
    exposure = uniform_in(rng, exposure_range(cfg, elevation, weather))
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
        motion_blur_px=uniform_in(rng, cfg.motion_blur_px),
        sensor_noise=uniform_in(rng, cfg.sensor_noise),
        lens_dirt=bool(rng.uniform() < float(cfg.lens_dirt_probability)),
        preset=str(cfg.preset),
    )


def exposure_range(cfg: Any, sun_elevation_deg: float, weather: str) -> Any:
    """The exposure range (EV) of a scene: night, a clouded day (:data:`OVERCAST_WEATHER`) or a clear one."""
    if sun_elevation_deg < NIGHT_BELOW_DEG:
        return cfg.night_exposure_ev
    if weather in OVERCAST_WEATHER:
        return cfg.overcast_exposure_ev
    return cfg.exposure_ev


def sun_direction(elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """Unit vector pointing from the scene towards the sun."""
    el, az = np.radians(elevation_deg), np.radians(azimuth_deg)
    return np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
