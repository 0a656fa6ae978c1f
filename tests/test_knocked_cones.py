"""scene.cones_knocked_over: a share of the street's traffic cones lie on their side, resting on their body and
the edge of their base; off by default, drawn from a generator of their own (nothing else changes), labelled and
rendered like any cone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.scene.street.config import StreetSceneConfig, validate_street
from simvision.scene.street.knocked import _centroid, lying
from simvision.scene.street.scene import StreetScene
from tests.conftest import TINY

CLASS_IDS = {
    "car": 10, "van": 11, "truck": 12, "bus": 13, "person": 14, "cyclist": 15,
    "traffic_cone": 16, "traffic_light": 17, "barrier": 18, "obstacle": 19,
}  # fmt: skip
CONES = {"lane_cones": [3, 3], "traffic_cones": [2, 3], "construction_zone_probability": 0.5, "ego_clearance_m": 0.6}


def _specs(**overrides: object) -> list:
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), CONES, overrides)
    validate_street(cfg, CLASS_IDS)
    scene = StreetScene(cfg, CLASS_IDS, (160, 120))
    return [scene.sample(i, [8, i], 1, rng=np.random.default_rng(np.random.SeedSequence([8, i]))) for i in range(12)]


def test_a_share_of_cones_lie_and_nothing_else_changes() -> None:
    standing = _specs()
    half = _specs(cones_knocked_over=0.5)
    lying_cones = upright = 0
    for a, b in zip(half, standing, strict=True):
        assert "cones_knocked_over" not in b.container["placement"]
        assert a.container["placement"]["cones_knocked_over"] == sum("knocked_over" in o.asset for o in a.objects)
        assert [(o.class_name, o.location, o.rotation_euler) for o in a.objects] == [
            (o.class_name, o.location, o.rotation_euler) for o in b.objects
        ]
        for o, before in zip(a.objects, b.objects, strict=True):
            if "knocked_over" in o.asset:
                assert o.asset["shape"] == "traffic_cone"
                lying_cones += 1
            else:
                assert np.array_equal(o.vertices, before.vertices)
                upright += o.asset.get("shape") == "traffic_cone"
        assert [c.cam_to_world for c in a.cameras] == [c.cam_to_world for c in b.cameras]
    assert lying_cones > 10 and upright > 10, (lying_cones, upright)


def test_a_knocked_over_cone_rests_on_its_body_and_the_edge_of_its_base() -> None:
    cones = [o for s in _specs(cones_knocked_over=1.0) for o in s.objects if "knocked_over" in o.asset]
    assert len(cones) > 20
    for cone in cones[:20]:
        v = np.asarray(cone.vertices)
        height = cone.asset["params"]["height"]
        assert v[:, 2].min() == pytest.approx(0.0, abs=1e-9)
        assert v[:, 2].max() < 0.75 * height  # lying, not standing (its base is wider than it is when lying)
        assert np.ptp(v[:, 0]) > height * 0.9  # along the ground
        assert abs(v[:, 0].max() + v[:, 0].min()) < 1e-9 and abs(v[:, 1].max() + v[:, 1].min()) < 1e-9
        assert 45.0 < cone.asset["knocked_over"]["tilt_deg"] < 135.0
        # it rests on two supports far apart: the edge of its base at one end and its body towards the tip at the
        # other (within the 0.5-degree steps of the turns searched: 1.5 cm at a metre)
        touching = v[v[:, 2] < 0.015]
        assert np.ptp(touching[:, 0]) > 0.6 * height, np.ptp(touching[:, 0])
        # and its centre of mass lies between the two supports (it does not roll over either)
        assert touching[:, 0].min() < _centroid(v, np.asarray(cone.faces))[0] < touching[:, 0].max()


def test_lying_finds_the_resting_turn_of_a_simple_cone() -> None:
    """A cone of radius r and height h on a point (no base) rests on its slant line: turned 90 + atan(r/h) degrees."""
    n = 32
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r, h = 0.15, 0.7
    ring = np.column_stack([r * np.cos(a), r * np.sin(a), np.zeros(n)])
    vertices = np.vstack([ring, [[0, 0, h]], [[0, 0, 0]]])
    faces = [[i, (i + 1) % n, n] for i in range(n)] + [[(i + 1) % n, i, n + 1] for i in range(n)]
    _, deg = lying(vertices, np.asarray(faces))
    assert deg == pytest.approx(90.0 + np.degrees(np.arctan(r / h)), abs=0.6)


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_bad_share_names_the_field(value: float) -> None:
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), {"cones_knocked_over": value})
    with pytest.raises(ConfigError, match=r"^scene\.cones_knocked_over"):
        validate_street(cfg, CLASS_IDS)


@pytest.mark.blender
@pytest.mark.slow
def test_knocked_over_cones_render_and_are_labelled(compose_cfg, tmp_path: Path) -> None:
    from simvision.dataset.job import run

    out = tmp_path / "knocked"
    run(
        compose_cfg(
            "scene=street",
            f"output_dir={out}",
            "num_frames=2",
            "seed=5",
            *TINY,
            "render.resolution=[128,96]",
            "scene.moving_vehicles=[0,0]",
            "scene.pedestrians=[0,0]",
            "scene.lane_cones=[3,3]",
            "scene.ego_clearance_m=0.6",
            "scene.camera_pitch_deg=[-25.0,-20.0]",
            "scene.camera_height=[1.0,1.2]",
            "++scene.placement.box_height_px.traffic_cone={median: 30, p10: 20, p90: 45}",
            "scene.cones_knocked_over=1",
        )
    )
    seen = 0
    for line in (out / "metadata" / "frames.jsonl").read_text().splitlines():
        for o in json.loads(line)["objects"]:
            if "knocked_over" in o["asset"] and o["visible_pixels"] > 0:
                seen += 1
                size = o["bbox3d"]["size"]
                assert size[2] < size[0]  # its 3D box lies along the ground
                assert o["bbox"][2] > 0 and o["bbox"][3] > 0  # COCO [x, y, w, h]
    assert seen >= 2
