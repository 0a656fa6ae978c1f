"""scene.verge_view: a camera on foot on the open ground beside the street, the lane cones on that ground in front
of it, no buildings on its side, trees and a tree line where it looks; off by default and invisible to the scenes
that stay on the road. Sampling with the real sampler (no Blender), and one real render."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.labels.geometry import project, transform
from simvision.scene.street.config import StreetSceneConfig, validate_street
from simvision.scene.street.placement import local_to_world
from simvision.scene.street.scene import StreetScene
from simvision.scene.street.vegetation import GROUND_Z
from simvision.scene.street.verge import CONE_EDGE_CLEARANCE_M
from tests.conftest import TINY
from tests.test_street_vegetation_placement import _fake_cache

CLASS_IDS = {
    "car": 10, "van": 11, "truck": 12, "bus": 13, "person": 14, "cyclist": 15,
    "traffic_cone": 16, "traffic_light": 17, "barrier": 18, "obstacle": 19,
}  # fmt: skip
# the cones benchmark's near cones (conf/benchmark/sim2real_cones.yaml)
NEAR_CONES = {
    "lane_cones": [3, 3],
    "ego_clearance_m": 0.6,
    "camera_height": [0.4, 1.4],
    "camera_pitch_deg": [-35.0, -10.0],
    "camera_hfov_deg": [40.0, 65.0],
    "placement": {"box_height_px": {"traffic_cone": {"median": 131.0, "p10": 79.0, "p90": 300.0}}},
}
RESOLUTION = (224, 224)
# the real renders' street: verge scenes only, two framed cones, nothing else on it that moves
VERGE_RENDER = [
    "scene=street",
    "num_frames=2",
    "seed=11",
    "scene.moving_vehicles=[0,0]",
    "scene.pedestrians=[0,0]",
    "scene.cyclists=[0,0]",
    "scene.traffic_cones=[0,0]",
    "scene.construction_zone_probability=0",
    "scene.lane_cones=[2,2]",
    "scene.ego_clearance_m=0.6",
    "scene.camera_height=[1.0,1.2]",
    "scene.camera_pitch_deg=[-30.0,-25.0]",
    "scene.camera_hfov_deg=[55,60]",
    "++scene.placement.box_height_px.traffic_cone={median: 40, p10: 30, p90: 60}",
    "scene.verge_view.probability=1",
]


def _scene(**overrides: object) -> StreetScene:
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), NEAR_CONES, overrides)
    validate_street(cfg, CLASS_IDS)
    return StreetScene(cfg, CLASS_IDS, RESOLUTION)


def _specs(scene: StreetScene, n: int = 24) -> list:
    return [scene.sample(i, [3, i], 1, rng=np.random.default_rng(np.random.SeedSequence([3, i]))) for i in range(n)]


def _fingerprint(spec) -> list:
    """Everything a scene placed and where its camera is, to compare scenes exactly."""
    objects = [
        (
            o.class_name,
            o.asset.get("shape"),
            tuple(o.location),
            tuple(o.rotation_euler),
            np.asarray(o.vertices).tobytes(),
        )
        for o in [*spec.objects, *spec.scenery]
    ]
    return [objects, [(c.K, c.cam_to_world) for c in spec.cameras], spec.conditions, len(spec.lights)]


def test_off_by_default_and_scenes_that_stay_on_the_road_are_unchanged() -> None:
    """No verge scene at the default; at probability 0.5 about half are, and every other scene is exactly the scene
    drawn with the verge view off (its own generator), whatever the verge's other settings."""
    off = _specs(_scene())
    assert not any("verge_view" in s.container for s in off)
    assert all(
        s.container == o.container for s, o in zip(_specs(_scene(verge_view={"distance_m": [9, 9]})), off, strict=True)
    )
    half = _specs(_scene(verge_view={"probability": 0.5, "turn_deg": [10, 80]}))
    verge = [s for s in half if "verge_view" in s.container]
    assert 6 <= len(verge) <= 18, len(verge)
    assert not any("verge_view" in s.conditions for s in off)  # and no new recorded condition
    for spec, before in zip(half, off, strict=True):
        assert spec.conditions["verge_view"] == ("verge_view" in spec.container)  # per-condition tables split on it
        if "verge_view" not in spec.container:
            spec.conditions.pop("verge_view")
            assert _fingerprint(spec) == _fingerprint(before)
        else:
            assert _fingerprint(spec) != _fingerprint(before)


def _lateral_and_ahead(spec, xy: np.ndarray) -> tuple[float, float]:
    """(offset from the road's centre line, left > 0; arc length) of a ground point, on a straight or curved road."""
    k = spec.container["curvature"]
    if k == 0.0:
        return float(xy[1]), float(xy[0])
    r = math.copysign(math.hypot(xy[0], xy[1] - 1.0 / k), k)
    return 1.0 / k - r, math.atan2(xy[0], 1.0 / k - xy[1]) / k


def _edge(spec) -> float:
    c = spec.container
    road = c["lanes"] * c["lane_width"] / 2 + 2.3  # scenes/street.yaml's parking strip
    return road + c["sidewalk_width"]


def test_the_camera_stands_on_the_open_ground_with_its_cones_in_front_and_no_buildings_on_its_side() -> None:
    scene = _scene(verge_view={"probability": 1.0, "distance_m": [1.5, 6.0], "turn_deg": [0.0, 60.0]})
    sides, cones = set(), 0
    for spec in _specs(scene):
        record = spec.container["verge_view"]
        side, edge = record["side"], _edge(spec)
        sides.add(side)
        camera = spec.cameras[0]
        cam_to_world = np.asarray(camera.cam_to_world)
        lateral, _ = _lateral_and_ahead(spec, cam_to_world[:2, 3])
        assert side * lateral == pytest.approx(edge + record["distance_m"], abs=1e-6)  # beyond the sidewalk
        assert 1.5 <= record["distance_m"] <= 6.0 and 0.0 <= record["turn_deg"] <= 60.0
        # turned away from the road by the recorded turn (within the rig's yaw jitter of 3 degrees)
        forward = cam_to_world[:3, 2]
        yaw = math.degrees(math.atan2(forward[1], forward[0]))
        assert side * yaw == pytest.approx(record["turn_deg"], abs=3.0 + 1e-6)  # the road heads along x at s = 0
        for o in spec.scenery:
            if o.asset.get("shape") == "building":  # only across the street
                assert side * _lateral_and_ahead(spec, np.asarray(o.location[:2]))[0] < 0
        world_to_cam = np.linalg.inv(cam_to_world)
        for o in spec.objects:
            if o.asset.get("placement", {}).get("role") != "verge_cone":
                assert o.asset.get("placement", {}).get("role") != "lane_cone"  # no cone in the lanes
                continue
            cones += 1
            assert o.location[2] == GROUND_Z  # on the open ground, not at the road's level
            assert side * _lateral_and_ahead(spec, np.asarray(o.location[:2]))[0] >= edge + CONE_EDGE_CLEARANCE_M - 1e-6
            c, s = math.cos(o.rotation_euler[2]), math.sin(o.rotation_euler[2])
            v = np.asarray(o.vertices, dtype=np.float64)
            world = np.column_stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]]) + o.location
            cam = transform(world, world_to_cam)
            assert np.all(cam[:, 2] > 0)
            uv = project(cam, np.asarray(camera.K))
            assert uv.min() >= 1.0 and uv.max(axis=0)[0] <= RESOLUTION[0] - 2 and uv.max(axis=0)[1] <= RESOLUTION[1] - 2
    assert sides == {-1.0, 1.0}
    assert cones > 40  # 72 drawn; a few find no framed spot on the ground


def test_trees_and_tufts_stand_on_the_open_ground_where_the_camera_looks(tmp_path: Path) -> None:
    """With vegetation (stand-in meshes in a temporary cache): the verge scene's own trees, tree line and tufts
    stand beyond the sidewalk on the camera's side, within its view's spread, at their configured distances."""
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), NEAR_CONES)
    cfg.assets = "infinigen"
    cfg.infinigen.variants = 2
    cfg.infinigen.cache_dir = str(tmp_path)
    cfg.verge_view.probability = 1.0
    cfg.verge_view.tree_line_probability = 1.0
    cfg.verge_view.grass_tufts = [10, 10]
    _fake_cache(cfg)
    scene = StreetScene(cfg, CLASS_IDS, RESOLUTION)
    kinds: dict[str, int] = {}
    for spec in _specs(scene, 6):
        record = spec.container["verge_view"]
        camera = np.asarray(spec.cameras[0].cam_to_world)[:2, 3]
        for item in spec.container["vegetation"]:
            if not item.get("open_ground"):
                continue
            kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
            xy = np.asarray(item["position"][:2])
            assert record["side"] * _lateral_and_ahead(spec, xy)[0] > _edge(spec)
            assert item["position"][2] == pytest.approx(GROUND_Z)
            distance = float(np.linalg.norm(xy - camera))
            # tufts; trees singly (8-60 m) or in the line (40-120 m, each within 5 %); bushes only in the line
            limit = {"grass": (0.5, 12.0), "tree": (8.0, 126.0), "bush": (38.0, 126.0)}
            lo, hi = limit[item["kind"]]
            assert lo - 1e-3 <= distance <= hi + 1e-3, (item["kind"], distance)
    assert kinds.get("tree", 0) > 12 and kinds.get("grass", 0) > 20, kinds


def test_open_ground_items_keep_off_a_crossing_road(tmp_path: Path) -> None:
    """At an intersection the open ground ahead is cut by the crossing road (and its sidewalks): a verge camera
    looking along the street puts no tree, bush or tuft on it."""
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), NEAR_CONES)
    cfg.assets, cfg.road = "infinigen", ["intersection"]
    cfg.infinigen.variants = 2
    cfg.infinigen.cache_dir = str(tmp_path)
    cfg.verge_view = OmegaConf.merge(
        cfg.verge_view,
        {"probability": 1.0, "turn_deg": [0.0, 5.0], "tree_line_probability": 1.0, "tree_line_m": [25.0, 50.0]},
    )
    _fake_cache(cfg)
    scene = StreetScene(cfg, CLASS_IDS, RESOLUTION)
    placed = 0
    for spec in _specs(scene, 6):
        crossing, edge = spec.container["intersection_at"], _edge(spec)
        for item in spec.container["vegetation"]:
            if item.get("open_ground"):
                placed += 1
                assert abs(item["position"][0] - crossing) >= edge, (item["kind"], item["position"], crossing)
    assert placed > 20


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"probability": 1.5}, "probability"),
        ({"turn_deg": [0, 120]}, "turn_deg"),
        ({"distance_m": [3, 1]}, "distance_m"),
        ({"trees": [-1, 2]}, "trees"),
        ({"tree_line_probability": -0.1}, "tree_line_probability"),
        ({"tuft_height_m": [0.0, 0.1]}, "tuft_height_m"),
        ({"blades_per_m2": [0, 50000]}, "blades_per_m2"),
        ({"blade_reach_m": 0.1}, "blade_reach_m"),
        ({"pitch_deg": [0, 95]}, "pitch_deg"),
        ({"distance_m": [1, 300]}, "distance_m"),
        ({"tree_line_m": [50, 400]}, "tree_line_m"),
        ({"cone_row_probability": 1.5}, "cone_row_probability"),
        ({"row_cones": [1, 4]}, "row_cones"),
        ({"row_spacing_m": [0.2, 2.0]}, "row_spacing_m"),
        ({"row_spacing_m": [1.0, 20.0]}, "row_spacing_m"),
        ({"car_park_probability": -0.5}, "car_park_probability"),
        ({"car_park_rows": [0, 2]}, "car_park_rows"),
        ({"car_park_row_m": [1.0, 5.0]}, "car_park_row_m"),
        ({"car_park_row_m": [10.0, 150.0]}, "car_park_row_m"),
        ({"car_park_fill": [0.5, 1.5]}, "car_park_fill"),
        ({"bay_width_m": [1.0, 2.5]}, "bay_width_m"),
    ],
)
def test_bad_verge_view_names_the_field(value: dict, field: str) -> None:
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), {"verge_view": value})
    with pytest.raises(ConfigError, match=rf"^scene\.verge_view\.{field}: "):
        validate_street(cfg, CLASS_IDS)


def _uv(spec, o) -> np.ndarray:
    """Where the forward camera sees an object's vertices (pixels), checking that they are in front of it."""
    camera = spec.cameras[0]
    world = local_to_world(o.vertices, o.location, o.rotation_euler[2])
    cam = transform(world, np.linalg.inv(np.asarray(camera.cam_to_world)))
    assert np.all(cam[:, 2] > 0.1)
    return project(cam, np.asarray(camera.K))


def _whole(uv: np.ndarray) -> bool:
    return bool(uv.min() >= 1.0 and uv[:, 0].max() <= RESOLUTION[0] - 2 and uv[:, 1].max() <= RESOLUTION[1] - 2)


def test_a_row_of_cones_stands_across_the_open_ground_one_model_evenly_spaced_some_cut_by_the_frame() -> None:
    cfg = {"probability": 1.0, "cone_row_probability": 1.0, "row_cones": [4, 9], "row_spacing_m": [1.2, 4.0]}
    rows, cut, cones = 0, 0, 0
    for spec in _specs(_scene(verge_view=cfg)):
        record = spec.container["placement"]["cone_row"]
        assert spec.container["verge_view"]["cone_row"] is True
        assert 4 <= record["drawn"] <= 9 and 1.2 <= record["spacing_m"] <= 4.0 and 0 <= record["bearing_deg"] <= 180
        roles = [o.asset.get("placement", {}).get("role") for o in spec.objects]
        assert "verge_cone" not in roles and "lane_cone" not in roles  # the row instead of scattered cones
        row = [o for o in spec.objects if o.asset.get("placement", {}).get("role") == "cone_row"]
        assert len(row) == record["standing"] <= record["drawn"]
        if not row:
            continue  # no framed spot for the anchor: no row (as a lane cone is left out)
        rows += 1
        (anchor,) = [o for o in row if o.asset["placement"]["index"] == record["anchor"]]
        assert _whole(_uv(spec, anchor))  # the anchor is seen whole
        a = np.array([anchor.asset["placement"]["s"], anchor.asset["placement"]["t"]])
        heading = math.radians(record["bearing_deg"])
        direction = np.array([math.cos(heading), math.sin(heading)])
        side, edge = spec.container["verge_view"]["side"], _edge(spec)
        for o in row:
            cones += 1
            p = o.asset["placement"]
            assert o.location[2] == GROUND_Z  # on the open ground, in front of the camera (_uv checks)
            assert side * _lateral_and_ahead(spec, np.asarray(o.location[:2]))[0] >= edge + CONE_EDGE_CLEARANCE_M - 1e-6
            assert np.array_equal(o.vertices, anchor.vertices)  # one model for the whole row
            offset = np.array([p["s"], p["t"]]) - a
            steps = p["index"] - record["anchor"]
            along = float(offset @ direction)
            assert abs(float(offset @ np.array([-direction[1], direction[0]]))) < 0.25  # in line
            step = abs(steps) * record["spacing_m"]
            assert 0.93 * step - 1e-9 <= abs(along) <= 1.07 * step + 1e-9
            assert steps == 0 or np.sign(along) == np.sign(steps)  # in the row's order
            uv = _uv(spec, o)
            inside = (uv[:, 0] >= 0) & (uv[:, 0] <= RESOLUTION[0]) & (uv[:, 1] >= 0) & (uv[:, 1] <= RESOLUTION[1])
            cut += bool(inside.any() and not inside.all())
    assert rows >= 15 and cones >= 3 * rows, (rows, cones)  # 24 drawn
    assert cut >= 3, (rows, cones, cut)  # the frame cuts some of the rows' cones, as in the photos


def test_rows_change_only_the_scenes_that_draw_one() -> None:
    """At cone_row_probability 0.5 about half the verge scenes draw a row; every other scene (on the road, or a
    verge scene without a row) is exactly what it was with rows off."""
    off = _specs(_scene(verge_view={"probability": 0.6}))
    half = _specs(_scene(verge_view={"probability": 0.6, "cone_row_probability": 0.5}))
    with_row = [s for s in half if s.container.get("verge_view", {}).get("cone_row")]
    verge = [s for s in half if "verge_view" in s.container]
    assert 2 <= len(with_row) <= len(verge) - 2, (len(with_row), len(verge))
    for spec, before in zip(half, off, strict=True):
        assert spec.conditions.pop("cone_row") == (spec in with_row)  # recorded: the gap report splits on it
        assert "cone_row" not in before.conditions
        assert ("verge_view" in spec.container) == ("verge_view" in before.container)
        if spec in with_row:
            assert "cone_row" in spec.container["placement"] and _fingerprint(spec) != _fingerprint(before)
        else:
            assert _fingerprint(spec) == _fingerprint(before) and spec.container == before.container


def test_a_car_park_lines_the_open_ground_with_parked_cars_in_bays_on_paved_ground() -> None:
    """scene.verge_view.car_park_probability: rows of bays across the camera's view at the drawn distances ahead,
    cars and vans parked square to the row (or backed in), a bay apart at least, only on the open ground; the
    ground paved whatever scene.ground_surface says; scenes without a car park exactly what they were."""
    cfg = {"probability": 1.0, "car_park_probability": 0.5, "car_park_rows": [1, 3], "car_park_row_m": [6.0, 25.0]}
    scene = _lawn_scene(**cfg)  # a dressed street whose ground would be a lawn
    plain = _lawn_scene(probability=1.0)
    parks = 0
    for spec, before in zip(_specs(scene, 16), _specs(plain, 16), strict=True):
        record = spec.container["verge_view"]
        cars = [o for o in spec.objects if o.asset.get("placement", {}).get("role") == "car_park"]
        assert spec.conditions.pop("car_park") == bool(record.get("car_park")) and "car_park" not in before.conditions
        if not record.get("car_park"):
            assert not cars and "car_park" not in spec.container["placement"]
            assert _fingerprint(spec) == _fingerprint(before)
            assert spec.background["street_materials"] == before.background["street_materials"]
            continue
        parks += 1
        park = spec.container["placement"]["car_park"]
        assert park["parked"] == len(cars) > 3 and 2.4 <= park["bay_width_m"] <= 2.9 and 0.5 <= park["fill"] <= 0.95
        assert 1 <= len(park["rows_m"]) <= 3 and 6.0 <= park["rows_m"][0] <= 25.0
        assert spec.background["street_materials"]["ground"]["kind"] in ("pavers", "concrete")  # paved
        assert not _blades(spec)  # no lawn to grow on
        # the camera's line of sight (its turn from the road, within the rig's yaw jitter of the recorded verge turn)
        assert abs(park["view_deg"] - record["side"] * record["turn_deg"]) <= 3.0 + 1e-6
        view = math.radians(park["view_deg"])
        ahead, across = np.array([math.cos(view), math.sin(view)]), np.array([-math.sin(view), math.cos(view)])
        for row in {o.asset["placement"]["row"] for o in cars}:
            spots = [
                np.array([o.asset["placement"]["s"], o.asset["placement"]["t"] - record["camera_t"]])
                for o in cars
                if o.asset["placement"]["row"] == row
            ]
            distances = {round(float(p @ ahead), 6) for p in spots}
            assert distances == {round(park["rows_m"][int(row)] + 2.5, 6)}  # one line across the view, a bay deep
            offsets = np.sort([float(p @ across) for p in spots])
            assert np.all(np.diff(offsets) >= park["bay_width_m"] - 1e-6) and np.all(np.abs(offsets) <= 30.0)
        for o in cars:
            assert o.class_name in ("car", "van") and o.location[2] == GROUND_Z
            assert record["side"] * o.asset["placement"]["t"] >= _edge(spec) + 1.5 - 1e-6  # off road and sidewalk
            heading = spec.container["curvature"] * o.asset["placement"]["s"]  # the road's at the bay
            off = (o.rotation_euler[2] - heading - view) % math.pi  # along the line of sight, a little off
            assert min(off, math.pi - off) < math.radians(15)
    assert 3 <= parks <= 13, parks


@pytest.mark.blender
@pytest.mark.slow
def test_verge_cones_render_whole_on_the_ground(compose_cfg, tmp_path: Path) -> None:
    """A real render of verge scenes: every cone placed on the open ground is in the labels, seen whole (not cut by
    the frame) and unoccluded by anything but other cones, and the frames record the verge view."""
    from simvision.dataset.job import run

    out = tmp_path / "verge"
    run(
        compose_cfg(
            f"output_dir={out}",
            *TINY,
            "render.resolution=[128,128]",
            *VERGE_RENDER,
        )
    )
    cones = 0
    for line in (out / "metadata" / "frames.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert record["container"]["verge_view"]["side"] in (-1.0, 1.0)
        for o in record["objects"]:
            if o["asset"].get("placement", {}).get("role") != "verge_cone":
                continue
            cones += 1
            assert o["visible_pixels"] > 20, o["visible_pixels"]
            assert o["truncation"] == 0.0  # the frame cuts none of it
            x, y, w, h = o["bbox"]  # COCO: the visible pixels' box
            assert x >= 1 and y >= 1 and x + w <= 127 and y + h <= 127
    assert cones >= 3  # 4 drawn


@pytest.mark.blender
@pytest.mark.slow
def test_a_row_of_cones_renders_with_the_cones_the_frame_cuts_labelled_as_cut(compose_cfg, tmp_path: Path) -> None:
    """A real render of verge scenes with rows in car parks: the anchor of each row is seen whole; a row's cone the
    frame cuts is labelled with its truncation and a box at the image's edge; the parked cars are labelled; the
    frames record the row and the car park."""
    from simvision.dataset.job import run

    out = tmp_path / "rows"
    size = 128
    run(
        compose_cfg(
            f"output_dir={out}",
            *TINY,
            f"render.resolution=[{size},{size}]",
            *VERGE_RENDER,
            "scene.verge_view.cone_row_probability=1",
            "scene.verge_view.row_spacing_m=[1.2,1.6]",
            "scene.verge_view.car_park_probability=1",
            "scene.verge_view.car_park_row_m=[4,6]",
        )
    )
    cut = whole = parked = 0
    for line in (out / "metadata" / "frames.jsonl").read_text().splitlines():
        record = json.loads(line)
        row = record["container"]["placement"]["cone_row"]
        assert record["container"]["verge_view"]["cone_row"] is True
        assert record["conditions"]["cone_row"] is True and record["conditions"]["car_park"] is True
        cones = [o for o in record["objects"] if o["asset"].get("placement", {}).get("role") == "cone_row"]
        assert len(cones) == row["standing"] > 0
        cars = [o for o in record["objects"] if o["asset"].get("placement", {}).get("role") == "car_park"]
        assert len(cars) == record["container"]["placement"]["car_park"]["parked"]
        parked += sum(o["visible_pixels"] > 0 and o["class_name"] in ("car", "van") for o in cars)
        for o in cones:
            if o["visible_pixels"] == 0:
                continue
            x, y, w, h = o["bbox"]  # COCO: the visible pixels' box
            at_edge = x <= 0.5 or y <= 0.5 or x + w >= size - 0.5 or y + h >= size - 0.5
            if o["asset"]["placement"]["index"] == row["anchor"]:
                assert o["truncation"] == 0.0 and not at_edge
            if o["truncation"] > 0:
                cut += 1
                assert at_edge, o["bbox"]
            else:
                whole += 1
    assert cut >= 1 and whole >= 2, (cut, whole)
    assert parked >= 2  # the car park's cars are labelled where they show


def _lawn_scene(**verge: object) -> StreetScene:
    """A dressed street (scene.assets=infinigen: materials are records, nothing is generated here) whose ground is
    always a lawn, without vegetation, props or shop fronts, every scene a verge scene."""
    cfg = OmegaConf.merge(OmegaConf.structured(StreetSceneConfig), NEAR_CONES)
    cfg.assets = "infinigen"
    cfg.vegetation.enabled = cfg.props.enabled = cfg.shop_fronts.enabled = False
    cfg.ground_surface = {"lawn": 1.0, "gravel": 0.0, "soil": 0.0}
    cfg.verge_view = OmegaConf.merge(cfg.verge_view, {"probability": 1.0, **verge})
    validate_street(cfg, CLASS_IDS)
    return StreetScene(cfg, CLASS_IDS, RESOLUTION)


def _blades(spec) -> list:
    return [o for o in spec.scenery if o.asset.get("part") == "grass_blades"]


def test_grass_blades_cover_the_lawn_in_front_of_the_camera_clear_of_the_sidewalk_and_the_cones() -> None:
    cfg = StreetSceneConfig().verge_view
    specs = _specs(_lawn_scene(), 8)
    for spec in specs:
        (blades,) = _blades(spec)
        v = np.asarray(blades.vertices) + np.asarray(blades.location)
        base, tip = v.reshape(-1, 3, 3)[:, :2], v.reshape(-1, 3, 3)[:, 2]
        assert len(blades.faces) == blades.asset["blades"] > 5000  # thousands per scene
        assert spec.container["verge_view"]["blades"]["blades"] == blades.asset["blades"]  # recorded with the frame
        assert cfg.blades_per_m2[0] <= blades.asset["density_per_m2"] <= cfg.blades_per_m2[1]
        assert np.all(base[:, :, 2] == GROUND_Z) and np.all(tip[:, 2] > GROUND_Z)
        assert np.all(tip[:, 2] - GROUND_Z <= cfg.blade_height_m[1] + 1e-9)
        camera = np.asarray(spec.cameras[0].cam_to_world)[:2, 3]
        roots = base.mean(axis=1)[:, :2]
        assert np.hypot(*(roots - camera).T).max() <= cfg.blade_reach_m + 1e-6
        record = spec.container["verge_view"]
        laterals = np.array([_lateral_and_ahead(spec, p)[0] for p in roots[::50]])
        assert np.all(record["side"] * laterals > _edge(spec))  # on the open ground, none on the sidewalk
        for o in spec.objects:  # none grows through an object's footprint
            radius = np.hypot(*np.asarray(o.vertices)[:, :2].T).max()
            assert np.hypot(*(roots - np.asarray(o.location[:2])).T).min() > radius - 1e-3
        # the blades thin out over the far half of the reach: fewer per square metre there than near the camera
        r = np.hypot(*(roots - camera).T)
        reach = cfg.blade_reach_m
        near = np.sum((r > 1.0) & (r < reach / 2)) / (reach**2 / 4 - 1.0)
        far = np.sum(r > 0.75 * reach) / (reach**2 - (0.75 * reach) ** 2)
        assert far < 0.5 * near


def test_grass_blades_only_on_a_verge_lawn_and_they_change_nothing_else() -> None:
    with_blades = _specs(_lawn_scene(), 6)
    without = _specs(_lawn_scene(blades_per_m2=[0.0, 0.0]), 6)
    for a, b in zip(with_blades, without, strict=True):
        assert len(_blades(a)) == 1 and not _blades(b)
        a.scenery = [o for o in a.scenery if o.asset.get("part") != "grass_blades"]
        assert _fingerprint(a) == _fingerprint(b)
        assert a.background["street_materials"] == b.background["street_materials"]
    gravel = _lawn_scene()
    gravel.cfg.ground_surface = {"lawn": 0.0, "gravel": 1.0, "soil": 0.0}
    assert not any(_blades(s) for s in _specs(gravel, 4))
    road = _lawn_scene(probability=0.0)
    assert not any(_blades(s) for s in _specs(road, 4))


def test_a_verge_camera_takes_its_own_pitch_when_one_is_set() -> None:
    """The photos' cones on lawns are mostly taken level: scene.verge_view.pitch_deg; road scenes keep theirs."""
    specs = _specs(_scene(verge_view={"probability": 0.5, "pitch_deg": [-5.0, 0.0]}))
    pitches = {("verge_view" in s.container): [] for s in specs}
    for s in specs:
        pitches["verge_view" in s.container].append(s.cameras[0].sampled["pitch_deg"])
    assert all(-5.0 - 1e-9 <= p <= 1e-9 for p in pitches[True]) and len(pitches[True]) > 4
    assert all(-35.0 <= p <= -10.0 for p in pitches[False]) and len(pitches[False]) > 4
    default = _specs(_scene(verge_view={"probability": 1.0}), 6)
    assert all(-35.0 <= s.cameras[0].sampled["pitch_deg"] <= -10.0 for s in default)  # null: the scene's range


def test_grass_blades_cover_every_view_of_a_camera_rig() -> None:
    """A three-camera rig (-60, 0, 60 degrees): blades cover what all three see, not only the first camera's view."""
    scene = _lawn_scene()
    scene.cfg.rig_yaw_deg = [-60.0, 0.0, 60.0]
    scene.sampler.cfg.rig_yaw_deg = [-60.0, 0.0, 60.0]
    for i in range(3):
        spec = scene.sample(i, [3, i], 3, rng=np.random.default_rng(np.random.SeedSequence([3, i])))
        (blades,) = _blades(spec)
        roots = (np.asarray(blades.vertices) + np.asarray(blades.location)).reshape(-1, 3, 3)[:, :2, :2].mean(axis=1)
        camera = np.asarray(spec.cameras[1].cam_to_world)  # the forward one
        forward = math.atan2(camera[1, 2], camera[0, 2])
        off = np.arctan2(roots[:, 1] - camera[1, 3], roots[:, 0] - camera[0, 3]) - forward
        off = np.degrees(np.arctan2(np.sin(off), np.cos(off)))
        # the side cameras' views reach 60 degrees plus half their lens either way; the sidewalk side is cut off
        assert np.ptp(off) > 150.0, np.ptp(off)
