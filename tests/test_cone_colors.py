"""scene.cone_colors: traffic cones' body colours beside the fluorescent orange (red, red-orange, faded salmon and
pink), drawn per cone from a generator of their own; off by default on the street (nothing changes), on in the
studio; the wear keeps the drawn colour."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.scene.street.config import StreetSceneConfig, validate_street
from simvision.scene.street.furniture import CONE_COLORS
from simvision.scene.street.scene import StreetScene
from simvision.scene.studio import StudioScene, StudioSceneConfig

CLASS_IDS = {
    "car": 10, "van": 11, "truck": 12, "bus": 13, "person": 14, "cyclist": 15,
    "traffic_cone": 16, "traffic_light": 17, "barrier": 18, "obstacle": 19,
}  # fmt: skip
CONES = {"lane_cones": [3, 4], "traffic_cones": [2, 3], "construction_zone_probability": 0.5, "ego_clearance_m": 0.6}


def _street(n: int = 10, **overrides: object) -> list:
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), CONES, overrides)
    validate_street(cfg, CLASS_IDS)
    scene = StreetScene(cfg, CLASS_IDS, (160, 120))
    return [scene.sample(i, [3, i], 1, rng=np.random.default_rng(np.random.SeedSequence([3, i]))) for i in range(n)]


def _cones(specs: list) -> list:
    return [o for s in specs for o in s.objects if o.asset.get("shape") == "traffic_cone"]


def test_cone_colours_are_drawn_per_cone_and_change_nothing_else() -> None:
    plain, coloured = _street(), _street(cone_colors={"orange": 1, "red": 1, "pink": 1})
    seen = set()
    for a, b in zip(plain, coloured, strict=True):
        assert "cone_colors" not in a.container["placement"]
        assert [(o.class_name, o.location, o.rotation_euler) for o in a.objects] == [
            (o.class_name, o.location, o.rotation_euler) for o in b.objects
        ]
        assert sum(b.container["placement"]["cone_colors"].values()) == sum("body_color" in o.asset for o in b.objects)
        for before, after in zip(a.objects, b.objects, strict=True):
            if "body_color" not in after.asset:  # not a cone, or the black cone: untouched
                assert before.slot_materials == after.slot_materials
                continue
            name = after.asset["body_color"]
            seen.add(name)
            ratio = np.asarray(after.slot_materials["cone"].base_color) / np.asarray(CONE_COLORS[name])
            assert ((ratio > 0.91) & (ratio < 1.09)).all()
            others = {k: v for k, v in after.slot_materials.items() if k != "cone"}
            assert others == {k: v for k, v in before.slot_materials.items() if k != "cone"}
    assert seen == {"orange", "red", "pink"}
    assert not any("body_color" in o.asset for o in _cones(plain))
    black = [o for o in _cones(coloured) if o.asset["params"]["style"] == "black_yellow"]
    assert all("body_color" not in o.asset for o in black)


def test_worn_cones_keep_their_drawn_colour() -> None:
    specs = _street(8, assets="infinigen", cone_wear=[0.2, 0.6], cone_colors={"red": 1})
    worn = [o for o in _cones(specs) if "body_color" in o.asset]
    assert worn
    for o in worn:
        assert o.asset["materials"]["cone"]["color"] == pytest.approx(o.slot_materials["cone"].base_color, abs=1e-5)
        assert o.asset["materials"]["cone"]["color"][1] < 0.03  # red, not the orange


def test_studio_cones_come_in_colours() -> None:
    cfg = OmegaConf.merge(OmegaConf.structured(StudioSceneConfig), {"count": [2, 2]})
    StudioScene.validate(cfg, CLASS_IDS)
    scene = StudioScene(cfg, CLASS_IDS, (96, 96))
    specs = [scene.sample(i, [5, i], 1, rng=np.random.default_rng(i)) for i in range(30)]
    names = {o.asset.get("body_color") for s in specs for o in s.objects}
    assert {"orange", "red"} <= names


@pytest.mark.parametrize("value", [{"purple": 1.0}, {"red": -1.0}, {"red": 0.0}])
def test_bad_cone_colours_name_the_field(value: dict) -> None:
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), {"cone_colors": value})
    with pytest.raises(ConfigError, match=r"^scene\.cone_colors"):
        validate_street(cfg, CLASS_IDS)
