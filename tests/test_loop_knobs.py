"""Strata -> generator knobs (simvision/loop/knobs.py) and the two knobs the loop added to the scenes:
tabletop ``scene.class_weights`` and the street's distance-bin target (``scene.placement.distance_bins``).
No rendering: composed configs, validation and sampled scene specs."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.dataset.job_config import validate_job_config
from simvision.loop.knobs import bin_label, fog_range, knob_groups, overrides, prior_weights
from simvision.scene.base import load_scene
from simvision.scene.street import distances
from simvision.sim2real.analysis import _bin_label

BINS = [0.0, 5.0, 10.0, 20.0, 40.0]
STREET_CLASSES = ["car", "person", "traffic_cone"]


def _specs(cfg, n: int, seed: int = 3):
    class_ids = validate_job_config(cfg)
    scene = load_scene(cfg.scene, class_ids, (96, 72))
    return [
        scene.sample(i, [seed, i], 1, rng=np.random.default_rng(np.random.SeedSequence([seed, i]))) for i in range(n)
    ]


def test_bin_labels_match_the_analysis() -> None:
    for i, value in enumerate([2.0, 7.0, 15.0, 30.0, 90.0]):
        assert bin_label(BINS, i) == _bin_label(BINS, value)


def test_street_priors_round_trip_through_the_overrides(compose_cfg) -> None:
    cfg = compose_cfg("output_dir=unused", "scene=street", "++scene.class_weights={person:2.0}")
    assert knob_groups(cfg.scene) == ["class", "time_of_day", "weather", "glare", "fog_density", "distance_m"]
    prior = prior_weights(cfg.scene, STREET_CLASSES, BINS)
    assert prior["class"] == {"car": 1.0, "person": 2.0, "traffic_cone": 1.0}
    assert prior["time_of_day"] == {"day": 0.55, "low_sun": 0.15, "dusk": 0.1, "night": 0.2}
    assert prior["glare"] == pytest.approx({"True": 0.15, "False": 0.85})
    assert list(prior["distance_m"]) == ["[0, 5)", "[5, 10)", "[10, 20)", "[20, 40)", "[40, inf)"]
    shares = {
        "class": {"car": 0.2, "person": 0.3, "traffic_cone": 0.5},
        "time_of_day": {"day": 0.4, "low_sun": 0.1, "dusk": 0.1, "night": 0.4},
        "weather": {"clear": 0.25, "overcast": 0.25, "fog": 0.4, "rain": 0.1},
        "glare": {"True": 0.3, "False": 0.7},
        "fog_density": {"[0, 0.02)": 0.2, "[0.02, 0.04)": 0.5, "[0.04, 0.08]": 0.3},
        "distance_m": {"[0, 5)": 0.1, "[5, 10)": 0.1, "[10, 20)": 0.2, "[20, 40)": 0.3, "[40, inf)": 0.3},
    }
    ov = overrides(shares, cfg.scene, BINS)
    new = compose_cfg("output_dir=unused", "scene=street", *ov)
    validate_job_config(new)  # the overrides are valid render config
    # multipliers keep the scene's own scale (weights summing to 1 + 2 + 1 over the classes)
    assert dict(new.scene.class_weights) == pytest.approx({"car": 0.8, "person": 1.2, "traffic_cone": 2.0})
    assert dict(new.scene.conditions.weather) == shares["weather"]
    assert new.scene.conditions.glare_probability == pytest.approx(0.3)
    assert list(new.scene.conditions.fog_density) == pytest.approx([0.02, 0.04])  # the bin above 1/3
    # the analysis' level "0" (frames without fog) is no bin: shares are compared among the bins
    assert fog_range({"0": 0.4, "[0.01, 0.03)": 0.35, "[0.03, 0.06]": 0.25}, [0.01, 0.06]) == [0.01, 0.03]
    assert fog_range({"0": 0.9, "0.02": 0.1}, [0.01, 0.06]) is None
    assert list(new.scene.placement.distance_bins) == BINS
    assert list(new.scene.placement.distance_bin_weights) == pytest.approx([0.5, 0.5, 1.0, 1.5, 1.5])
    # and read back: the shares come back (class as multipliers, the tables as weights)
    back = prior_weights(new.scene, STREET_CLASSES, BINS)
    assert back["distance_m"] == pytest.approx({k: 5 * v for k, v in shares["distance_m"].items()})
    assert back["time_of_day"] == shares["time_of_day"]


def test_tabletop_has_only_the_class_knob_over_its_own_classes(compose_cfg) -> None:
    cfg = compose_cfg(
        "output_dir=unused", "scene=tabletop", "scene.classes=[cup,bottle,bowl]", "++scene.class_weights={bowl:0}"
    )
    assert knob_groups(cfg.scene) == ["class"]
    prior = prior_weights(cfg.scene, ["cup", "bowl", "box"], BINS)  # box: a model class the scene never places
    assert prior == {"class": {"cup": 1.0, "bowl": 0.0}}
    ov = overrides({"class": {"cup": 0.25, "bowl": 0.75}, "weather": {"fog": 1.0}}, cfg.scene, BINS)
    assert ov == ["++scene.class_weights={cup:0.25,bowl:0.75}"]  # the scene's weights sum to 1 over cup, bowl
    base = compose_cfg("output_dir=unused", "scene=tabletop", "scene.classes=[cup,bottle,bowl]")
    assert overrides({"class": {"cup": 0.25, "bowl": 0.75}}, base.scene, BINS) == [
        "++scene.class_weights={cup:0.5,bowl:1.5}"
    ]


def test_fog_range_keeps_the_configured_range_when_nothing_fits() -> None:
    assert fog_range({}, [0.01, 0.06]) is None
    assert fog_range({"[0.1, 0.2)": 1.0}, [0.01, 0.06]) is None
    assert fog_range({"[0, 0.03)": 0.7, "[0.03, 0.09]": 0.3}, [0.01, 0.06]) == [0.01, 0.03]


def test_tabletop_class_weights_steer_the_draw_and_default_draws_as_before(compose_cfg) -> None:
    base = [
        "output_dir=unused",
        "scene=tabletop",
        "scene.classes=[cup,bottle,bowl]",
        "scene.num_objects=[4,6]",
        "scene.distractors=[0,0]",
    ]
    counts = Counter(
        o.class_name for s in _specs(compose_cfg(*base, "++scene.class_weights={bowl:0}"), 12) for o in s.objects
    )
    assert counts["bowl"] == 0 and counts["cup"] > 0 and counts["bottle"] > 0
    heavy = Counter(
        o.class_name for s in _specs(compose_cfg(*base, "++scene.class_weights={bowl:8}"), 12) for o in s.objects
    )
    assert heavy["bowl"] > heavy["cup"] + heavy["bottle"]
    # the default (no weights) draws exactly as a block without the field at all (the sampler of every
    # earlier release): same classes, same poses
    default = compose_cfg(*base)
    old = compose_cfg(*base)
    OmegaConf.set_struct(old.scene, False)
    del old.scene["class_weights"]
    for a, b in zip(_specs(default, 4), _specs(old, 4), strict=True):
        assert [o.class_name for o in a.objects] == [o.class_name for o in b.objects]
        assert [o.location for o in a.objects] == [o.location for o in b.objects]


def test_bad_tabletop_class_weights_name_the_field(compose_cfg) -> None:
    base = ["output_dir=unused", "scene=tabletop", "scene.classes=[cup,bottle]"]
    with pytest.raises(ConfigError, match=r"^scene\.class_weights\.bowl: not one of scene\.classes"):
        validate_job_config(compose_cfg(*base, "++scene.class_weights={bowl:1}"))
    with pytest.raises(ConfigError, match=r"^scene\.class_weights: every class"):
        validate_job_config(compose_cfg(*base, "++scene.class_weights={cup:0,bottle:0}"))


def test_distance_bins_reweight_the_target_and_weights_of_one_change_nothing() -> None:
    target = {"median": 26.0, "p10": 10.0, "p90": 52.0}
    flat = distances.with_bins(target, BINS, [1, 1, 1, 1, 1])
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(200):  # same single uniform draw, same distance
        assert distances.draw(flat, a, within=60.0) == pytest.approx(distances.draw(target, b, within=60.0), abs=1e-9)
    far = distances.with_bins(target, BINS, [0, 0, 0, 1, 1])
    rng = np.random.default_rng(1)
    d = np.array([distances.draw(far, rng) for _ in range(500)])
    assert d.min() >= 20.0 - 1e-9 and d.max() <= 1.5 * 52.0 + 1e-9
    near = distances.with_bins(target, BINS, [1, 1, 4, 0.1, 0.1])
    d_near = np.array([distances.draw(near, rng) for _ in range(2000)])
    d_base = np.array([distances.draw(target, rng) for _ in range(2000)])
    assert ((d_near >= 10) & (d_near < 20)).mean() > ((d_base >= 10) & (d_base < 20)).mean() + 0.2


def test_street_distance_bins_move_objects_and_default_is_unchanged(compose_cfg) -> None:
    base = compose_cfg("output_dir=unused", "scene=street")
    far = compose_cfg(
        "output_dir=unused",
        "scene=street",
        "scene.placement.distance_bins=[0,30]",
        "scene.placement.distance_bin_weights=[0,1]",
    )
    specs_far, specs_base = _specs(far, 6), _specs(base, 6)

    def people(specs):
        out = []
        for spec in specs:
            cam = np.asarray(spec.cameras[0].cam_to_world)[:3, 3]
            out += [
                float(np.linalg.norm(np.asarray(o.location[:2]) - cam[:2]))
                for o in spec.objects
                if o.class_name == "person"
            ]
        return np.array(out)

    assert people(specs_far).size and np.median(people(specs_far)) > np.median(people(specs_base))
    old = compose_cfg("output_dir=unused", "scene=street")
    OmegaConf.set_struct(old.scene.placement, False)
    del old.scene.placement["distance_bins"]
    del old.scene.placement["distance_bin_weights"]
    for a, b in zip(_specs(base, 3), _specs(old, 3), strict=True):
        assert [o.location for o in a.objects] == [o.location for o in b.objects]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("scene.placement.distance_bin_weights=[1]", "scene.placement.distance_bin_weights: one weight per bin"),
        ("scene.placement.distance_bin_weights=[0,0]", "scene.placement.distance_bin_weights: needs weights"),
    ],
)
def test_bad_distance_bins_name_the_field(compose_cfg, override: str, field: str) -> None:
    with pytest.raises(ConfigError, match="^" + field.replace(".", r"\.")):
        validate_job_config(
            compose_cfg("output_dir=unused", "scene=street", "scene.placement.distance_bins=[0,30]", override)
        )
    with pytest.raises(ConfigError, match=r"^scene\.placement\.distance_bins: needs increasing"):
        validate_job_config(
            compose_cfg(
                "output_dir=unused",
                "scene=street",
                "scene.placement.distance_bins=[30,0]",
                "scene.placement.distance_bin_weights=[1,1]",
            )
        )


def test_new_knobs_stay_out_of_a_folders_identity_while_off(compose_cfg) -> None:
    """Folders rendered before the knobs existed keep their config fingerprint (and so resume)."""
    from simvision.dataset.resume import config_fingerprint

    tabletop = config_fingerprint(compose_cfg("output_dir=unused", "scene=tabletop"))["scene"]
    street = config_fingerprint(compose_cfg("output_dir=unused", "scene=street"))["scene"]
    assert "class_weights" not in tabletop and "class_weights" in street  # the street's is older: kept
    assert not {"distance_bins", "distance_bin_weights"} & set(street["placement"])
    on = compose_cfg("output_dir=unused", "scene=tabletop", "++scene.class_weights={cup:2}")
    assert config_fingerprint(on)["scene"]["class_weights"] == {"cup": 2.0}
    bins = ["scene.placement.distance_bins=[0,30]", "scene.placement.distance_bin_weights=[1,2]"]
    placement = config_fingerprint(compose_cfg("output_dir=unused", "scene=street", *bins))["scene"]["placement"]
    assert placement["distance_bins"] == [0.0, 30.0] and placement["distance_bin_weights"] == [1.0, 2.0]
    # fields added later at their defaults: lane cones, street props, the bake's normal smoothing
    assert not {"lane_cones", "props"} & set(street) and "bake_normal_blur" not in tabletop["infinigen"]
    changed = compose_cfg("output_dir=unused", "scene=street", "scene.lane_cones=[1,2]", "scene.props.bins=[0,1]")
    assert {"lane_cones", "props"} <= set(config_fingerprint(changed)["scene"])
    # props default to on with infinigen assets: such a folder from before props must not resume with them
    infinigen = ["scene=street", "scene.assets=infinigen"]
    assert "props" in config_fingerprint(compose_cfg("output_dir=unused", *infinigen))["scene"]
    off = compose_cfg("output_dir=unused", *infinigen, "scene.props.enabled=false")
    assert "props" not in config_fingerprint(off)["scene"]
