"""Conditions drawn per scene: the exposure range follows the light (night, a clouded day, a clear day)."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.scene.conditions import ConditionsConfig, exposure_range, sample_conditions, validate_conditions


def _draws(cfg: ConditionsConfig, n: int = 400) -> list:
    return [sample_conditions(cfg, 0.0, rng=np.random.default_rng(seed)) for seed in range(n)]


def test_each_scene_draws_its_exposure_from_its_light() -> None:
    cfg = ConditionsConfig(exposure_ev=[-0.5, 0.5], night_exposure_ev=[3.0, 4.0], overcast_exposure_ev=[1.0, 2.0])
    draws = _draws(cfg)
    groups = {"night": [], "clouded day": [], "clear day": []}
    for c in draws:
        key = "night" if c.night else "clouded day" if c.weather in ("overcast", "rain", "fog") else "clear day"
        groups[key].append(c.exposure_ev)
        assert exposure_range(cfg, c.sun_elevation_deg, c.weather)[0] <= c.exposure_ev
    assert all(len(v) > 20 for v in groups.values())
    assert all(3.0 <= e <= 4.0 for e in groups["night"])
    assert all(1.0 <= e <= 2.0 for e in groups["clouded day"])
    assert all(-0.5 <= e <= 0.5 for e in groups["clear day"])
    # the range changes the drawn exposure only: every other value of every scene is the same
    same = ConditionsConfig(exposure_ev=[-0.5, 0.5], night_exposure_ev=[3.0, 4.0], overcast_exposure_ev=[-0.5, 0.5])
    for a, b in zip(draws, _draws(same), strict=True):
        ra, rb = a.record(), b.record()
        ra.pop("exposure_ev"), rb.pop("exposure_ev")
        assert ra == rb


@pytest.mark.parametrize("key", ["exposure_ev", "night_exposure_ev", "overcast_exposure_ev"])
def test_a_reversed_exposure_range_names_its_field(key: str) -> None:
    cond = OmegaConf.structured(ConditionsConfig)
    cond[key] = [2.0, 1.0]
    with pytest.raises(ConfigError, match=rf"^scene\.conditions\.{key}: low 2.0 is above high 1.0$"):
        validate_conditions(cond, "scene.conditions")


@pytest.mark.parametrize("value", [0.0, -4.0, 5000.0])
def test_a_bad_sun_strength_names_its_field(value: float) -> None:
    cond = OmegaConf.structured(ConditionsConfig)
    cond.sun_strength = value
    with pytest.raises(ConfigError, match=r"^scene\.conditions\.sun_strength: a strength in W/m2 above 0"):
        validate_conditions(cond, "scene.conditions")


def test_the_sun_strength_scales_the_street_sun_and_nothing_else() -> None:
    """sun_lights: the zenith strength times sqrt(sin(elevation)) on a clear day, under cloud 0.6 (15 % of the
    default) whatever it is, none at night or with the sky's own sun disc in view; the sun's colour and direction
    do not depend on it."""
    from simvision.scene.street.sky import sun_lights

    for c in _draws(ConditionsConfig()):
        weak, strong = sun_lights(c), sun_lights(c, 24.0)
        assert len(weak) == len(strong) == (0 if c.sun_elevation_deg <= 0 or c.glare else 1)
        for a, b in zip(weak, strong, strict=True):
            expected = 4.0 * np.sin(np.radians(c.sun_elevation_deg)) ** 0.5
            if c.weather == "clear":
                assert a.energy == pytest.approx(expected) and b.energy == pytest.approx(6 * a.energy)
            else:
                assert a.energy == pytest.approx(0.15 * expected) and b.energy == pytest.approx(a.energy)
            assert (a.location, a.color, a.temperature_k) == (b.location, b.color, b.temperature_k)
