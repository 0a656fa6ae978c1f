"""Street scenes, weather and presets with real Blender; KITTI labels against the 3D geometry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TINY

pytestmark = [pytest.mark.blender, pytest.mark.slow]

PRESETS = ["night_glare", "dense_fog", "construction_zone", "rare_obstacle", "rainy_night"]
STREET_TINY = [*TINY, "render.resolution=[96,72]", "output.card=false"]


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_composes_and_renders_a_frame(preset: str, tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import run

    cfg = compose_cfg(f"+experiment={preset}", f"output_dir={tmp_path}", "num_frames=1", *STREET_TINY)
    assert cfg.scene.name == "street" and cfg.scene.conditions.preset == preset
    run(cfg)
    record = json.loads((tmp_path / "metadata" / "frames.jsonl").read_text().splitlines()[0])
    cond = record["conditions"]
    assert cond["preset"] == preset
    if preset in ("night_glare", "rainy_night"):
        assert cond["time_of_day"] in ("night", "dusk")
    if preset == "dense_fog":
        assert cond["weather"] == "fog" and cond["fog_density"] >= 0.03
    if preset == "rainy_night":
        assert cond["weather"] == "rain" and cond["wetness"] >= 0.8
    if preset == "construction_zone":
        assert record["container"]["construction_zone"] is True
        classes = {o["class_name"] for o in record["objects"]}
        assert {"traffic_cone", "barrier"} <= classes
    if preset == "rare_obstacle":
        assert any(o["class_name"] == "obstacle" for o in record["objects"])
    assert (tmp_path / "kitti" / "training" / "label_2" / "000000.txt").exists()
    assert (tmp_path / "stats.json").exists()


def _mean_luminance(path: Path) -> float:
    import cv2

    return float(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2GRAY).mean())


def _one_hot(names: tuple[str, ...], chosen: str) -> str:
    """A weight table naming every entry (a Hydra dict override merges into the defaults' entries)."""
    return "{" + ",".join(f"{k}:{1.0 if k == chosen else 0.0}" for k in names) + "}"


def _street_frame(out: Path, compose_cfg, time_of_day: str, weather: str, *extra: str) -> tuple[float, dict]:
    """One street frame (seed 4, no glare) at that time of day and weather: its mean luminance and record."""
    from simvision.dataset.job import run

    run(
        compose_cfg(
            f"output_dir={out}",
            "scene=street",
            "num_frames=1",
            "seed=4",
            *STREET_TINY,
            f"scene.conditions.time_of_day={_one_hot(('day', 'low_sun', 'dusk', 'night'), time_of_day)}",
            f"scene.conditions.weather={_one_hot(('clear', 'overcast', 'fog', 'rain'), weather)}",
            "scene.conditions.glare_probability=0.0",
            *extra,
        )
    )
    record = json.loads((out / "metadata" / "frames.jsonl").read_text().splitlines()[0])
    assert (record["conditions"]["time_of_day"], record["conditions"]["weather"]) == (time_of_day, weather)
    return _mean_luminance(out / "images" / "000000.png"), record


def test_night_lowers_mean_luminance(tmp_path: Path, compose_cfg) -> None:
    means = {tod: _street_frame(tmp_path / tod, compose_cfg, tod, "clear")[0] for tod in ("day", "night")}
    assert means["night"] < 0.5 * means["day"], means


def test_an_overcast_day_is_exposed_like_a_camera_would(tmp_path: Path, compose_cfg) -> None:
    """Under cloud the street gets about a third of a clear day's light; the overcast exposure range brings an
    overcast frame back near the clear one's brightness, as a camera's auto-exposure does (without it, with the
    clear day's range, the frame is far darker). The labels are the same either way."""
    # drawn ranges (not empty ones) and no blur or noise: the same draws, and comparable pixels, in every frame
    common = ["scene.conditions.exposure_ev=[-0.01,0.01]", "scene.conditions.motion_blur_px=[0,0]"]
    common.append("scene.conditions.sensor_noise=[0,0]")
    clear, _ = _street_frame(tmp_path / "clear", compose_cfg, "day", "clear", *common)
    dim, dim_record = _street_frame(
        tmp_path / "dim", compose_cfg, "day", "overcast", *common, "scene.conditions.overcast_exposure_ev=[-0.01,0.01]"
    )
    metered, metered_record = _street_frame(tmp_path / "metered", compose_cfg, "day", "overcast", *common)
    assert abs(dim_record["conditions"]["exposure_ev"]) <= 0.01
    assert 1.0 <= metered_record["conditions"]["exposure_ev"] <= 2.0  # the default range, recorded with the frame
    assert dim < 0.7 * clear, (dim, clear)
    assert metered > 1.3 * dim and abs(metered - clear) < abs(dim - clear), (clear, dim, metered)
    assert metered_record["objects"] == dim_record["objects"]  # exposure changes the pixels only


def test_fog_lowers_the_contrast_of_a_distant_object(tmp_path: Path, compose_cfg) -> None:
    """The same street scene with and without fog: distant objects fade towards the fog colour,
    near ones less, and the labels do not change at all."""
    from simvision.dataset.job import run

    views = {}
    for weather in ("clear", "fog"):
        out = tmp_path / weather
        run(
            compose_cfg(
                f"output_dir={out}",
                "scene=street",
                "num_frames=1",
                "seed=8",
                *TINY,
                "render.resolution=[160,120]",
                "output.card=false",
                f"scene.conditions.weather={{{weather}:1.0}}",
                "scene.conditions.fog_density=[0.04,0.04]",
                "scene.conditions.time_of_day={day:1.0}",
                "scene.conditions.glare_probability=0.0",
                "scene.conditions.sensor_noise=[0,0]",
                "scene.conditions.motion_blur_px=[0,0]",
                "scene.conditions.lens_dirt_probability=0.0",
            )
        )
        views[weather] = out
    import cv2

    depth = np.load(views["clear"] / "depth" / "000000.npy")
    inst = {w: cv2.imread(str(v / "instance" / "000000.png"), cv2.IMREAD_UNCHANGED) for w, v in views.items()}
    assert (inst["clear"] == inst["fog"]).all()  # fog never touches labels
    gray = {
        w: cv2.imread(str(v / "images" / "000000.png"), cv2.IMREAD_GRAYSCALE).astype(np.float64)
        for w, v in views.items()
    }
    far = (depth > 40) & (inst["clear"] > 0)
    near = (depth > 0) & (depth < 15)
    assert far.sum() > 0 and near.sum() > 0

    def contrast(img: np.ndarray, region: np.ndarray) -> float:
        return float(img[region].std())

    assert contrast(gray["fog"], far) < 0.5 * contrast(gray["clear"], far)
    far_all = depth > 40
    assert contrast(gray["fog"], far_all) < contrast(gray["clear"], far_all)
    cond = json.loads((views["fog"] / "metadata" / "frames.jsonl").read_text().splitlines()[0])["conditions"]
    assert cond["weather"] == "fog" and cond["fog_density"] == pytest.approx(0.04)


@pytest.fixture(scope="module")
def street_dataset(tmp_path_factory, compose_cfg) -> Path:
    from simvision.dataset.job import run

    out = tmp_path_factory.mktemp("street")
    run(
        compose_cfg(
            f"output_dir={out}",
            "scene=street",
            "num_frames=2",
            "seed=21",
            *TINY,
            "render.resolution=[160,120]",
            "output.formats=[coco,kitti]",
            "output.card=false",
            "scene.conditions.weather={clear:1.0}",
            "scene.moving_vehicles=[4,6]",
            "scene.pedestrians=[3,5]",
            # a level camera: KITTI's boxes are upright in the camera frame, so under camera pitch/roll they only
            # approximate the upright street objects (a near bus at 4 deg pitch misses its visible box by 2 px)
            "scene.camera_pitch_deg=[0.0,0.0]",
            "scene.camera_roll_deg=[0.0,0.0]",
        )
    )
    return out


def _kitti_rows(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


def test_kitti_labels_agree_with_coco_and_project_onto_the_objects(street_dataset: Path) -> None:
    from simvision.formats.kitti import kitti_corners

    coco = json.loads((street_dataset / "annotations" / "instances.json").read_text())
    frames = [json.loads(line) for line in (street_dataset / "metadata" / "frames.jsonl").read_text().splitlines()]
    checked = 0
    for frame in frames:
        stem = f"{frame['frame_id']:06d}"
        rows = _kitti_rows(street_dataset / "kitti" / "training" / "label_2" / f"{stem}.txt")
        calib = (street_dataset / "kitti" / "training" / "calib" / f"{stem}.txt").read_text()
        P2 = np.array([float(v) for v in calib.split("P2:")[1].split("\n")[0].split()]).reshape(3, 4)
        assert np.allclose(P2[:, :3], frame["camera"]["K"])
        anns = [a for a in coco["annotations"] if a["image_id"] == frame["frame_id"]]
        assert len(rows) == len(anns)
        boxes = sorted(tuple(round(v, 1) for v in map(float, r[4:8])) for r in rows)
        coco_boxes = sorted(
            tuple(round(v, 1) for v in (x, y, x + w, y + h)) for x, y, w, h in (a["bbox"] for a in anns)
        )
        assert boxes == coco_boxes
        for r in rows:
            h, w, length = map(float, r[8:11])
            loc = np.array(list(map(float, r[11:14])))
            ry = float(r[14])
            corners = kitti_corners((h, w, length), loc, ry)
            if (corners[:, 2] < 0.5).any():
                continue
            uv = corners @ P2[:, :3].T
            uv = uv[:, :2] / uv[:, 2:]
            x0, y0, x1, y1 = map(float, r[4:8])
            # the visible pixels lie inside the projected 3D box (street objects stand upright)
            assert uv[:, 0].min() <= x0 + 1.5 and uv[:, 1].min() <= y0 + 1.5
            assert uv[:, 0].max() >= x1 - 1.5 and uv[:, 1].max() >= y1 - 1.5
            checked += 1
        for obj in frame["objects"]:
            if obj["instance_id"] > 0 and obj["bbox"] is not None:
                # the KITTI box reconstructs the recorded 3D box corners of upright street objects
                assert obj["truncation"] >= 0 and 0 < obj["visible_fraction"] <= 1
    assert checked >= 3


def test_truncation_of_an_object_cut_by_the_image_border(renderer) -> None:
    from simvision.formats.kitti import kitti_object
    from simvision.labels.derive import label_objects
    from simvision.labels.geometry import intrinsics_from_hfov, look_at
    from simvision.scene.shapes import cuboid
    from simvision.scene.spec import CameraSpec, LightSpec, MaterialSpec, ObjectSpec, SceneSpec

    K = intrinsics_from_hfov(60.0, 96, 72)
    cam_to_world = look_at(np.zeros(3), np.array([0.0, 10.0, 0.0]))
    # a flat 2 m panel facing the camera at 10 m, centred on the right image border
    half_width_at_10m = 10.0 * np.tan(np.radians(30.0))
    v, f = cuboid((2.0, 0.05, 2.0))
    panel = ObjectSpec(
        1,
        "barrier",
        18,
        {"kind": "procedural", "shape": "box"},
        MaterialSpec([0.7, 0.5, 0.2], 0.5, 0.0),
        [half_width_at_10m, 10.0, -1.0],
        [0.0, 0.0, 0.0],
        v,
        f,
    )
    spec = SceneSpec(
        0,
        [0, 0],
        "test",
        {"kind": "none"},
        [panel],
        [LightSpec("SUN", [0, 0, 10], [0, 1, 0], 5500.0, [1, 1, 1], 3.0)],
        [CameraSpec(K.tolist(), 96, 72, cam_to_world.tolist())],
        {"world_color": [0.1, 0.1, 0.1], "world_strength": 0.5},
        {"min_time": 0.0, "max_time": 0.0},
    )
    built = renderer.build(spec)
    view = renderer.render(spec)[0]
    (label,) = label_objects(spec.objects, built.poses_world, view.instance, K, np.linalg.inv(cam_to_world))
    assert label.record["truncation"] == pytest.approx(0.5, abs=0.05)
    assert label.record["visible_fraction"] == pytest.approx(1.0, abs=0.1)  # unoccluded: only cut off
    bbox = label.record["bbox"]
    assert bbox[0] + bbox[2] == 96  # the visible part reaches the border
    kitti = kitti_object({**label.record, "category_id": 18}, "Misc")
    assert kitti.truncated == pytest.approx(label.record["truncation"])


def test_each_object_records_its_distance_from_the_camera(street_dataset: Path) -> None:
    """distance_m in frames.jsonl is the 3D box centre in the camera frame: z along the optical axis and the
    straight-line norm, matching the recorded pose_cam and box."""
    frames = [json.loads(line) for line in (street_dataset / "metadata" / "frames.jsonl").read_text().splitlines()]
    checked = 0
    for frame in frames:
        for obj in frame["objects"]:
            if not obj.get("category_id"):
                continue
            pose = np.asarray(obj["pose_cam"])
            centre = pose[:3, :3] @ np.asarray(obj["bbox3d"]["center_obj"]) + pose[:3, 3]
            assert obj["distance_m"]["z"] == pytest.approx(centre[2], abs=1e-6)
            assert obj["distance_m"]["euclidean"] == pytest.approx(float(np.linalg.norm(centre)), abs=1e-6)
            # and the world geometry agrees: camera position to the object's world box centre
            cam = np.asarray(frame["camera"]["cam_to_world"])[:3, 3]
            world = np.asarray(obj["pose_world"])
            centre_world = world[:3, :3] @ np.asarray(obj["bbox3d"]["center_obj"]) + world[:3, 3]
            assert obj["distance_m"]["euclidean"] == pytest.approx(float(np.linalg.norm(centre_world - cam)), abs=1e-4)
            checked += 1
    assert checked >= 5


def test_a_stronger_sun_lights_the_sunlit_ground_and_leaves_the_shade(tmp_path: Path, compose_cfg) -> None:
    """scene.conditions.sun_strength: the same clear-day frame under the default sun (4) and a clear day's (24,
    scripts/sun_sky_ratio.py): the recorded sun is 6x as strong, the frame's middle (sunlit ground and walls) is
    brighter while its darkest tenth (shade, lit by the sky) moves far less, so the light is contrastier; the labels
    are the same."""
    import cv2

    common = ["scene.conditions.exposure_ev=[-0.01,0.01]", "scene.conditions.motion_blur_px=[0,0]"]
    common.append("scene.conditions.sensor_noise=[0,0]")
    frames = {}
    for strength in (4, 24):
        out = tmp_path / f"sun{strength}"
        sun_strength = f"scene.conditions.sun_strength={strength}"
        _, record = _street_frame(out, compose_cfg, "day", "clear", *common, sun_strength)
        grey = cv2.imread(str(out / "images" / "000000.png"), cv2.IMREAD_GRAYSCALE).astype(np.float64)
        (sun,) = [light for light in record["lights"] if light["type"] == "SUN"]
        frames[strength] = (record, grey, sun["energy"])
    (weak, weak_grey, weak_sun), (strong, strong_grey, strong_sun) = frames[4], frames[24]
    assert strong_sun == pytest.approx(6 * weak_sun)
    assert strong["objects"] == weak["objects"]  # light changes the pixels only
    shade, mid = (np.percentile(weak_grey, q) for q in (10, 50))
    strong_shade, strong_mid = (np.percentile(strong_grey, q) for q in (10, 50))
    assert strong_mid > mid + 25, (mid, strong_mid)  # the sunlit half of the frame
    assert strong_shade - shade < 0.5 * (strong_mid - mid), (shade, strong_shade, mid, strong_mid)  # the shade
