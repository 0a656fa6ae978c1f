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
