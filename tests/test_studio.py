"""scene=studio: product shots of street assets on a seamless sweep. The sampler (plain numpy) frames the group, keeps
it on the floor and apart, lays cones on their side and is reproducible; bad fields are named; real renders see the
sweep at every pixel, bright behind the objects, with exact labels."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.scene.street.furniture import make_traffic_cone, stack_cones
from simvision.scene.street.placement import local_to_world
from simvision.scene.studio import StudioScene, StudioSceneConfig, sweep_mesh, validate_studio
from tests.conftest import TINY
from tests.label_checks import assert_annotations_match_instance_maps

CLASS_IDS = {"car": 10, "person": 14, "traffic_cone": 16, "barrier": 18, "obstacle": 19}


def _scene(resolution: tuple[int, int] = (224, 224), **overrides: object) -> StudioScene:
    cfg = OmegaConf.merge(OmegaConf.structured(StudioSceneConfig), overrides)
    StudioScene.validate(cfg, CLASS_IDS)
    return StudioScene(cfg, CLASS_IDS, resolution)


def _specs(n: int = 12, **overrides: object) -> list:
    scene = _scene(**overrides)
    views = scene.views_per_scene()
    return [scene.sample(i, [4, i], views, rng=np.random.default_rng(np.random.SeedSequence([4, i]))) for i in range(n)]


def _world(obj) -> np.ndarray:
    return local_to_world(obj.vertices, obj.location, obj.rotation_euler[2])


def _pixels(camera, points: np.ndarray) -> np.ndarray:
    world_to_cam = np.linalg.inv(np.asarray(camera.cam_to_world))
    p = points @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    assert (p[:, 2] > 0).all()  # in front of the camera
    uv = p @ np.asarray(camera.K).T
    return uv[:, :2] / uv[:, 2:]


def test_the_group_stands_on_the_floor_apart_and_framed_whole() -> None:
    specs = _specs(16, objects={"traffic_cone": 3.0, "barrier": 1.0, "car": 1.0}, cones_lying=0.0, count=[1, 3])
    counts = set()
    for spec in specs:  # count [1, 3] below
        counts.add(len(spec.objects))
        assert 1 <= len(spec.objects) <= 3
        assert [o.instance_id for o in spec.objects] == list(range(1, len(spec.objects) + 1))
        for o in spec.objects:
            assert o.category_id == CLASS_IDS[o.class_name]
            assert abs(_world(o)[:, 2].min()) < 1e-9  # on the floor
        reach = [float(np.hypot(*np.asarray(o.vertices)[:, :2].T).max()) for o in spec.objects]
        for i in range(1, len(spec.objects)):  # neighbours' footprints never touch
            gap = np.hypot(*np.subtract(spec.objects[i].location, spec.objects[i - 1].location)[:2])
            assert gap > reach[i] + reach[i - 1]
        camera = spec.cameras[0]
        uv = np.vstack([_pixels(camera, _world(o)) for o in spec.objects])
        # the group reaches the drawn fill (<= 0.95) of the way from the frame's centre to its nearest edge: whole
        assert (uv >= 0).all() and (uv[:, 0] < camera.width).all() and (uv[:, 1] < camera.height).all()
        reach = max(
            np.abs(uv[:, 0] - camera.K[0][2]).max() / (camera.width / 2),
            np.abs(uv[:, 1] - camera.K[1][2]).max() / (camera.height / 2),
        )
        assert reach == pytest.approx(camera.sampled["fill"], abs=0.02)
        assert camera.sampled["framed"] == pytest.approx(camera.sampled["fill"], abs=0.02)
        assert spec.conditions["objects"] == len(spec.objects)
        assert spec.scenery[0].asset["part"] == "backdrop"
    assert counts == {1, 2, 3}


def test_the_sweep_is_behind_and_under_everything_the_camera_sees() -> None:
    """Every corner ray of every camera meets the sweep (the floor ahead of the wall, or the wall below its top)
    within the sweep's width: no world background is ever in view."""
    for spec in _specs(12, camera={"hfov_deg": [40.0, 50.0], "azimuth_deg": [-20.0, 20.0]}):
        v = np.asarray(spec.scenery[0].vertices)
        half_w, wall_y, front_y, top = v[:, 0].max(), v[:, 1].max(), v[:, 1].min(), v[:, 2].max()
        assert all(o.location[1] < wall_y for o in spec.objects)
        assert all(front_y < c.cam_to_world[1][3] for c in spec.cameras)  # the floor reaches behind every camera
        for camera in spec.cameras:
            pose = np.asarray(camera.cam_to_world)
            k_inv = np.linalg.inv(np.asarray(camera.K))
            for u, w in ((0, 0), (camera.width - 1, 0), (0, camera.height - 1), (camera.width - 1, camera.height - 1)):
                ray = pose[:3, :3] @ (k_inv @ [u, w, 1.0])
                origin = pose[:3, 3]
                hits = []
                if ray[2] < 0:  # the floor
                    hits.append(origin + ray * (-origin[2] / ray[2]))
                if ray[1] > 0:  # the wall's plane
                    hits.append(origin + ray * ((wall_y - origin[1]) / ray[1]))
                ok = [h for h in hits if abs(h[0]) < half_w and front_y <= h[1] <= wall_y + 1e-6 and h[2] <= top]
                assert ok, (spec.scene_index, u, w)


def test_cones_lie_on_their_side_seen_from_the_side() -> None:
    cones = [(o, s) for s in _specs(10, cones_lying=1.0) for o in s.objects]
    assert cones and all("knocked_over" in o.asset for o, _ in cones)
    for o, spec in cones:
        v = np.asarray(o.vertices)
        assert v[:, 2].max() < 0.75 * o.asset["params"]["height"]  # lying
        # its axis (x) within 50 degrees of across the view (the camera looks along +y, turned <= 30 degrees)
        axis = abs(math.cos(o.rotation_euler[2]))
        assert axis > math.cos(math.radians(51.0))
        assert spec.conditions["lying"] == len(spec.objects)
    assert not any("knocked_over" in o.asset for s in _specs(6, cones_lying=0.0) for o in s.objects)


def test_stacked_cones_are_one_labelled_cone_of_nested_copies() -> None:
    stacks = [(o, s) for s in _specs(10, cones_lying=0.0, cone_stacks=1.0, stack_size=[2, 4]) for o in s.objects]
    sizes = set()
    for o, spec in stacks:
        stack = o.asset["params"]["stack"]
        sizes.add(stack["count"])
        assert 2 <= stack["count"] <= 4 and o.class_name == "traffic_cone"
        v = np.asarray(o.vertices)
        # count copies, each one step higher: the top of the stack is the cone's height plus the steps below it
        assert v[:, 2].max() == pytest.approx(o.asset["params"]["height"] + (stack["count"] - 1) * stack["step_m"])
        # each base rests above the collar of the one below
        assert stack["step_m"] > o.asset["params"]["base_thickness"] * (1 + o.asset["params"]["collar_ratio"])
        assert spec.conditions["stacks"] == len(spec.objects)
    assert sizes == {2, 3, 4}
    one = make_traffic_cone(rng=np.random.default_rng(0))
    three = stack_cones(one, 3, 0.02)
    assert len(three.faces) == 3 * len(one.faces) and len(three.face_slots) == len(three.faces)
    assert np.array_equal(three.vertices[: len(one.vertices)], one.vertices)


def test_same_seed_same_scene_and_every_draw_recorded() -> None:
    a, b = _specs(4), _specs(4)
    for x, y in zip(a, b, strict=True):
        assert json.dumps(x.record(), sort_keys=True) == json.dumps(y.record(), sort_keys=True)
        assert [c.cam_to_world for c in x.cameras] == [c.cam_to_world for c in y.cameras]
    record = a[0].record()
    studio = record["container"]["studio"]
    assert {"backdrop", "group_size_m", "key_irradiance", "fill_ratio", "backdrop_ratio"} <= set(studio)
    for key in ("backdrop", "backdrop_albedo", "lights", "key_irradiance", "exposure_ev", "ambient", "lying", "stacks"):
        assert key in record["conditions"]
    assert {"hfov_deg", "fill", "distance", "elevation_deg", "azimuth_deg"} <= set(a[0].cameras[0].sampled)
    assert len(record["lights"]) == record["conditions"]["lights"] + 1  # and the backdrop light


def test_sweep_mesh_faces_the_camera_side() -> None:
    v, f = sweep_mesh(4.0, 2.0, -3.0, 0.5, 3.0)
    normals = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    centres = v[f].mean(axis=1)
    floor = centres[:, 1] < 1.5 - 1e-6
    wall = centres[:, 2] > 0.5 + 1e-6
    assert (normals[floor, 2] > 0).all() and (normals[wall, 1] < 0).all()
    assert v[:, 2].min() == 0.0 and v[:, 2].max() == 3.0 and v[:, 1].max() == 2.0


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"objects": {"spaceship": 1.0}}, r"scene\.objects\.spaceship"),
        ({"objects": {"traffic_sign": 1.0}}, r"scene\.objects\.traffic_sign: it has no class"),
        ({"objects": {"van": 1.0}}, r"scene\.objects\.van: its class 'van' is not in the class table"),
        ({"count": [0, 2]}, r"scene\.count"),
        ({"gap": [0.5, 0.1]}, r"scene\.gap"),
        ({"cones_lying": 1.5}, r"scene\.cones_lying"),
        ({"cone_stacks": -0.1}, r"scene\.cone_stacks"),
        ({"cutout_probability": 2.0}, r"scene\.cutout_probability"),
        ({"cutout_keep": [0.0, 1.5]}, r"scene\.cutout_keep"),
        ({"stack_size": [1, 3]}, r"scene\.stack_size"),
        ({"cone_wear": [0.0, 2.0]}, r"scene\.cone_wear"),
        ({"backdrop": {"albedo": [0.5, 1.2]}}, r"scene\.backdrop\.albedo"),
        ({"lights": {"count": [1, 4]}}, r"scene\.lights\.count"),
        ({"lights": {"key_irradiance": [-1.0, 2.0]}}, r"scene\.lights\.key_irradiance"),
        ({"camera": {"azimuth_deg": [-60.0, 60.0]}}, r"scene\.camera\.azimuth_deg"),
        ({"camera": {"fill": [0.5, 2.0]}}, r"scene\.camera\.fill"),
        ({"camera": {"cameras_per_scene": 0}}, r"scene\.camera\.cameras_per_scene"),
    ],
)
def test_bad_fields_are_named(override: dict, field: str) -> None:
    cfg = OmegaConf.merge(OmegaConf.structured(StudioSceneConfig), override)
    with pytest.raises(ConfigError, match=rf"^{field}"):
        validate_studio(cfg, CLASS_IDS)


@pytest.mark.blender
@pytest.mark.slow
def test_studio_frames_render_with_exact_labels_on_a_bright_sweep(compose_cfg, tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    from simvision.dataset.job import run

    out = tmp_path / "studio"
    run(
        compose_cfg(
            "+experiment=product_shots", f"output_dir={out}", "num_frames=3", "seed=2", *TINY,
            "render.resolution=[96,72]", "scene.cones_lying=0.5",
        )
    )  # fmt: skip
    coco = COCO(str(out / "annotations" / "instances.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    records = [json.loads(line) for line in (out / "metadata" / "frames.jsonl").read_text().splitlines()]
    assert len(records) == 3 and len(anns) == sum(len(r["objects"]) for r in records)  # every object seen
    assert_annotations_match_instance_maps(out, coco, anns)
    for record in records:
        stem = f"{record['frame_id']:06d}"
        depth = np.load(out / "depth" / f"{stem}.npy")
        assert (depth > 0).all()  # the sweep is everywhere behind the objects: no world background in view
        inst = cv2.imread(str(out / "instance" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        rgb = cv2.imread(str(out / "images" / f"{stem}.png"))
        background = rgb[inst == 0].mean()
        assert background > 170, background  # a product shot's pale sweep
        assert record["conditions"]["scene"] == "studio" and "backdrop" in record["conditions"]
        assert record["render"]["view_transform"] == "Standard"  # the preset's sRGB curve
        assert all(o["class_name"] == "traffic_cone" and o["visible_pixels"] > 0 for o in record["objects"])


def test_cutout_whitens_only_what_no_object_covers() -> None:
    from simvision.render.effects import cutout

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    instance = np.zeros((20, 30), dtype=np.int32)
    instance[5:12, 8:20] = 2
    white = cutout(image, instance, 0.0)
    assert (white[instance == 0] == 255).all() and np.array_equal(white[instance > 0], image[instance > 0])
    assert np.array_equal(cutout(image, instance, 1.0), image)
    half = cutout(image, instance, 0.5).astype(int)
    assert np.abs(half[instance == 0] - (255 - (255 - image[instance == 0].astype(int)) * 0.5)).max() <= 1
    drawn = [s for s in _specs(12, cutout_probability=0.5)]
    cut = [s for s in drawn if s.conditions["cutout"]]
    assert 0 < len(cut) < len(drawn)
    for s in drawn:
        keep = s.conditions["cutout_keep"]
        assert (s.effects == {"cutout_keep": keep}) if s.conditions["cutout"] else (s.effects is None and keep is None)


@pytest.mark.blender
@pytest.mark.slow
def test_a_cutout_frame_is_white_around_the_same_labelled_objects(compose_cfg, tmp_path: Path) -> None:
    from simvision.dataset.job import run

    frames = {}
    for name, probability in (("plain", 0), ("cut", 1)):
        out = tmp_path / name
        run(
            compose_cfg(
                "scene=studio", f"output_dir={out}", "num_frames=1", "seed=6", *TINY, "render.resolution=[96,72]",
                f"scene.cutout_probability={probability}", "scene.cutout_keep=[0,0]",
            )
        )  # fmt: skip
        inst = cv2.imread(str(out / "instance" / "000000.png"), cv2.IMREAD_UNCHANGED)
        frames[name] = (inst, cv2.imread(str(out / "images" / "000000.png")))
    (inst_a, plain), (inst_b, cut) = frames["plain"], frames["cut"]
    assert np.array_equal(inst_a, inst_b) and (inst_a > 0).any()
    assert (cut[inst_a == 0] == 255).all() and (plain[inst_a == 0] < 250).any()
    assert np.array_equal(cut[inst_a > 0], plain[inst_a > 0])
