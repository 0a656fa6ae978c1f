"""Placement statistics of the street sampler (no rendering): distances per class against the configured
targets, rows of parked cars along the kerbs, near traffic, and the config checks."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.labels.geometry import project, transform
from simvision.scene.street import distances
from simvision.scene.street.config import StreetSceneConfig, validate_placement, validate_street
from simvision.scene.street.scene import StreetScene

CLASS_IDS = {
    "car": 10, "van": 11, "truck": 12, "bus": 13, "person": 14, "cyclist": 15,
    "traffic_cone": 16, "traffic_light": 17, "barrier": 18, "obstacle": 19,
}  # fmt: skip
N_SCENES = 100


@pytest.fixture(scope="module")
def specs():
    cfg = OmegaConf.structured(StreetSceneConfig)
    scene = StreetScene(cfg, CLASS_IDS, (640, 192))
    return [
        scene.sample(i, [7, i], 1, rng=np.random.default_rng(np.random.SeedSequence([7, i]))) for i in range(N_SCENES)
    ]


def _distance(spec, obj) -> float:
    """Camera to the object's 3D box centre, metres."""
    camera = np.asarray(spec.cameras[0].cam_to_world)[:3, 3]
    lo, hi = obj.vertices.min(axis=0), obj.vertices.max(axis=0)
    return float(np.linalg.norm(np.asarray(obj.location) + [0.0, 0.0, (lo[2] + hi[2]) / 2] - camera))


def test_car_distances_follow_the_configured_target(specs) -> None:
    target = StreetSceneConfig().placement.distance_m["car"]
    d = [_distance(spec, o) for spec in specs for o in spec.objects if o.class_name == "car"]
    p10, median, p90 = np.percentile(d, [10, 50, 90])
    assert abs(median - target["median"]) <= 0.2 * target["median"], (p10, median, p90)
    assert abs(p10 - target["p10"]) <= 0.3 * target["p10"], (p10, median, p90)
    assert abs(p90 - target["p90"]) <= 0.3 * target["p90"], (p10, median, p90)


@pytest.mark.parametrize("name", ["person", "cyclist", "traffic_cone"])
def test_other_classes_have_their_median_near_target(specs, name: str) -> None:
    target = StreetSceneConfig().placement.distance_m[name]
    d = [_distance(spec, o) for spec in specs for o in spec.objects if o.class_name == name]
    assert len(d) > 50
    assert abs(np.median(d) - target["median"]) <= 0.35 * target["median"]


def test_kerbs_are_lined_with_parked_cars_at_the_configured_gaps(specs) -> None:
    low, high = StreetSceneConfig().placement.parked_gap_m
    rows = 0
    gaps = []
    for spec in specs:
        sides = spec.container["placement"]["parked_row_sides"]
        rows += len(sides)
        for side in sides:
            row = sorted(
                (o.asset["placement"] for o in spec.objects if o.asset.get("placement", {}).get("role") == "parked_row"
                 and o.asset["placement"]["side"] == side),
                key=lambda p: p["s"],
            )  # fmt: skip
            for p in row:  # every drawn gap within the configured range
                assert low <= p["gap_m"] <= high
            for a, b in zip(row[:-1], row[1:], strict=True):  # at least the smallest gap
                gap = b["s"] - b["length_m"] / 2 - (a["s"] + a["length_m"] / 2)
                assert gap >= low - 1e-6
                gaps.append(gap)
    assert 0.45 * 2 * N_SCENES < rows < 0.75 * 2 * N_SCENES  # parked_rows = 0.6 per kerb side
    in_range = np.mean([low - 1e-6 <= g <= high + 1e-6 for g in gaps])
    assert len(gaps) > 3 * rows and in_range > 0.5  # many cars per row, most of them next to each other


def test_near_traffic_is_recorded_and_placed_close(specs) -> None:
    near = [o for spec in specs for o in spec.objects if o.asset.get("placement", {}).get("role") == "near_traffic"]
    drawn = sum(spec.container["placement"]["near_traffic"] for spec in specs)
    assert 0.4 * drawn <= len(near) <= drawn  # some find their place taken
    assert max(o.asset["placement"]["s"] for o in near) <= StreetSceneConfig().placement.near_traffic_within_m


def test_lane_cones_stand_near_the_camera_in_the_lanes_ahead_and_are_off_by_default(specs) -> None:
    assert not any(o.asset.get("placement", {}).get("role") == "lane_cone" for spec in specs for o in spec.objects)
    target = {"median": 5.0, "p10": 3.6, "p90": 10.0}
    cfg = OmegaConf.merge(
        OmegaConf.structured(StreetSceneConfig),
        {"lane_cones": [3, 3], "placement": {"distance_m": {"traffic_cone": target}}},
    )
    scene = StreetScene(cfg, CLASS_IDS, (256, 256))
    near = []
    for i in range(60):
        spec = scene.sample(i, [7, i], 1, rng=np.random.default_rng(np.random.SeedSequence([7, i])))
        near += [(spec, o) for o in spec.objects if o.asset.get("placement", {}).get("role") == "lane_cone"]
    assert len(near) > 60  # 180 drawn; some find the lane taken by traffic
    d = [_distance(spec, o) for spec, o in near]
    assert min(d) > 3.0  # the ego car keeps 3 m clear
    assert abs(np.median(d) - target["median"]) <= 0.25 * target["median"]
    assert all(o.asset["placement"]["s"] >= 1.0 for _, o in near)


def test_quantile_function_passes_through_the_targets() -> None:
    target = {"median": 26.0, "p10": 10.0, "p90": 52.0}
    assert distances.quantile(target, 0.1) == pytest.approx(10.0)
    assert distances.quantile(target, 0.5) == pytest.approx(26.0)
    assert distances.cdf(target, 52.0) == pytest.approx(0.9)
    rng = np.random.default_rng(0)
    draws = [distances.draw(target, rng, within=30.0) for _ in range(500)]
    assert max(draws) <= 30.0
    # the near tail: down to p10^2/median, floored at 1 m and never above p10 (monotonic knots)
    assert distances.knots(target)[0] == pytest.approx(100.0 / 26.0)
    assert distances.knots({"median": 5.0, "p10": 2.0, "p90": 9.0})[0] == pytest.approx(1.0)
    assert distances.knots({"median": 3.0, "p10": 0.8, "p90": 9.0})[0] == pytest.approx(0.8)


def test_box_height_targets_become_distance_targets() -> None:
    """A box h px high (at 375 px) of an object H m tall is f H / h away: the distance p10 comes from the box p90."""
    focal = distances.focal_px((1242, 375), [80.0, 80.0])
    assert focal == pytest.approx(621.0 / np.tan(np.radians(40.0)))
    target = distances.from_box_height({"median": 46.0, "p10": 20.0, "p90": 130.0}, focal, 1.5)
    assert target["median"] == pytest.approx(focal * 1.5 / 46.0)
    assert target["p10"] == pytest.approx(focal * 1.5 / 130.0) and target["p90"] == pytest.approx(focal * 1.5 / 20.0)
    person = {"median": 60.0, "p10": 30.0, "p90": 120.0, "object_height_m": 1.8}
    placement = {
        "distance_m": {
            "car": {"median": 26.0, "p10": 10.0, "p90": 52.0},
            "person": {"median": 16.0, "p10": 7.0, "p90": 35.0},
        },
        "box_height_px": {"car": {"median": 46.0, "p10": 20.0, "p90": 130.0}, "person": person},
    }
    targets = distances.class_targets(placement, (1242, 375), [80.0, 80.0])
    assert targets["car"] == pytest.approx(target)
    assert targets["person"]["median"] == pytest.approx(focal * 1.8 / 60.0)  # its own height, not the typical one
    assert (
        distances.class_targets({"distance_m": placement["distance_m"]}, (1242, 375), [80, 80])
        == placement["distance_m"]
    )


def test_sampled_cars_meet_a_box_height_target() -> None:
    """60 sampled scenes with a box-height target for cars: the pinhole heights (375-px image) of the cars ahead,
    from their own height and distance, have the target's median; the converted target is recorded."""
    box = {"median": 60.0, "p10": 25.0, "p90": 150.0}
    cfg = OmegaConf.merge(
        OmegaConf.structured(StreetSceneConfig),
        {"camera_hfov_deg": [80.0, 80.0], "placement": {"box_height_px": {"car": box}}},
    )
    scene = StreetScene(cfg, CLASS_IDS, (1242, 375))
    focal = distances.focal_px((1242, 375), [80.0, 80.0])
    heights = []
    for i in range(60):
        spec = scene.sample(i, [9, i], 1, rng=np.random.default_rng(np.random.SeedSequence([9, i])))
        recorded = spec.container["placement"]["distance_targets_m"]["car"]
        assert recorded["median"] == pytest.approx(focal * 1.5 / 60.0)
        for o in spec.objects:
            if o.class_name == "car":
                tall = float(o.vertices[:, 2].max() - o.vertices[:, 2].min())
                heights.append(focal * tall / _distance(spec, o))
    assert len(heights) > 150
    assert abs(np.median(heights) - box["median"]) <= 0.2 * box["median"], np.percentile(heights, [10, 50, 90])


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"parked_rows": 1.5}, "scene.placement.parked_rows"),
        ({"parked_gap_m": [3.0, 1.0]}, "scene.placement.parked_gap_m"),
        ({"distance_m": {"car": {"median": 5.0, "p10": 10.0, "p90": 52.0}}}, "scene.placement.distance_m.car"),
        ({"distance_m": {"dragon": {"median": 5.0, "p10": 1.0, "p90": 9.0}}}, "scene.placement.distance_m.dragon"),
        ({"box_height_px": {"car": {"median": 20.0, "p10": 40.0, "p90": 90.0}}}, "scene.placement.box_height_px.car"),
        ({"box_height_px": {"car": {"median": 40.0, "p10": 20.0}}}, "scene.placement.box_height_px.car: needs"),
        (
            {"box_height_px": {"obstacle": {"median": 40.0, "p10": 20.0, "p90": 90.0}}},
            "scene.placement.box_height_px.obstacle: no typical height",
        ),
        (
            {"box_height_px": {"car": {"median": 40.0, "p10": 20.0, "p90": 90.0, "object_height_m": -1.0}}},
            "scene.placement.box_height_px.car.object_height_m",
        ),
    ],
)
def test_bad_placement_names_the_field(override, field: str) -> None:
    placement = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig().placement), override)
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        validate_placement(placement, CLASS_IDS)


def test_a_smaller_ego_clearance_lets_cones_come_close_but_keeps_its_disc_free() -> None:
    clearance = 1.0
    cfg = OmegaConf.merge(
        OmegaConf.structured(StreetSceneConfig),
        {
            "lane_cones": [3, 3],
            "ego_clearance_m": clearance,
            "camera_height": [0.5, 0.5],
            "camera_pitch_deg": [-25.0, -15.0],  # a low camera pitched down sees the ground from 1 m
            "placement": {"distance_m": {"traffic_cone": {"median": 2.5, "p10": 1.6, "p90": 5.0}}},
        },
    )
    scene = StreetScene(cfg, CLASS_IDS, (256, 256))
    ground = []
    for i in range(40):
        spec = scene.sample(i, [7, i], 1, rng=np.random.default_rng(np.random.SeedSequence([7, i])))
        camera = np.asarray(spec.cameras[0].cam_to_world)[:2, 3]
        for o in spec.objects:
            role = o.asset.get("placement", {}).get("role")
            ground.append((float(np.linalg.norm(np.asarray(o.location[:2]) - camera)), role))
    cones = [d for d, role in ground if role == "lane_cone"]
    assert len(cones) > 40 and min(cones) < 2.0 and np.median(cones) < 3.0  # nearer than a car's 3 m allows
    assert all(d > clearance for d, _ in ground)  # nothing stands on the camera


@pytest.mark.parametrize("value", [0.0, -1.0, 50.0])
def test_bad_ego_clearance_names_the_field(value) -> None:
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), {"ego_clearance_m": value})
    with pytest.raises(ConfigError, match=r"^scene\.ego_clearance_m"):
        validate_street(cfg, CLASS_IDS)


@pytest.mark.parametrize("value", [[3, 1], [-1, 2]])
def test_bad_lane_cones_names_the_field(value) -> None:
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), {"lane_cones": value})
    with pytest.raises(ConfigError, match=r"^scene\.lane_cones"):
        validate_street(cfg, CLASS_IDS)


def _pixels(camera, obj) -> np.ndarray:
    """Where the placed object's own vertices (as the renderer gets them) land in ``camera``'s image."""
    c, s = np.cos(obj.rotation_euler[2]), np.sin(obj.rotation_euler[2])
    v = np.asarray(obj.vertices, dtype=np.float64)
    world = np.column_stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]]) + obj.location
    cam = transform(world, np.linalg.inv(np.asarray(camera.cam_to_world)))
    assert np.all(cam[:, 2] > 0)
    return project(cam, np.asarray(camera.K))


def test_lane_cones_are_seen_whole_by_the_forward_camera() -> None:
    """Near cones from a low, pitched-down camera with a three-camera rig: every lane cone lies wholly inside the
    forward camera's image (the side cameras are not asked); a cone that no spot lets it see is left out and
    counted. Stray roadside cones are not framed, so some of them are cut."""
    cfg = OmegaConf.merge(
        OmegaConf.structured(StreetSceneConfig),
        {
            "lane_cones": [4, 4],
            "traffic_cones": [3, 3],
            "ego_clearance_m": 0.6,
            "camera_height": [0.4, 1.4],
            "camera_pitch_deg": [-20.0, -3.0],
            "camera_hfov_deg": [40.0, 65.0],
            "rig_yaw_deg": [-60.0, 0.0, 60.0],
            "placement": {"distance_m": {"traffic_cone": {"median": 2.0, "p10": 1.0, "p90": 6.0}}},
        },
    )
    scene = StreetScene(cfg, CLASS_IDS, (320, 240))
    placed = left_out = 0
    roadside_cut = []
    for i in range(40):
        spec = scene.sample(i, [9, i], 3, rng=np.random.default_rng(np.random.SeedSequence([9, i])))
        forward = spec.cameras[1]
        assert forward.sampled["rig_index"] == 1
        left_out += spec.container["placement"]["lane_cones_left_out"]
        for o in spec.objects:
            role = o.asset.get("placement", {}).get("role")
            if o.class_name != "traffic_cone" or role not in ("lane_cone", None):
                continue
            world_to_cam = np.linalg.inv(np.asarray(forward.cam_to_world))
            ahead = transform(np.asarray([o.location]), world_to_cam)[0, 2] > 0.5
            if role is None:  # a roadside cone ahead of the camera
                if ahead:
                    uv = project(transform(np.asarray([o.location]), world_to_cam), np.asarray(forward.K))[0]
                    roadside_cut.append(not (0 <= uv[0] < 320 and 0 <= uv[1] < 240))
                continue
            placed += 1
            uv = _pixels(forward, o)
            assert uv.min() >= 1.0 and uv[:, 0].max() <= 320 - 2.0 and uv[:, 1].max() <= 240 - 2.0, (i, uv.min(0))
            assert 1 <= o.asset["placement"]["tries"] <= 40
    assert placed > 80  # 160 drawn; a few find the spot taken by traffic or no framed spot at all
    assert placed + left_out <= 160  # every cone left out is one of the drawn cones not placed
    assert any(roadside_cut)  # the check is not vacuous: cones placed without framing do fall outside
