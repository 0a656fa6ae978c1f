"""Surface normals (camera frame) and amodal masks from real Cycles renders of every scene type (tiny, CPU)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from tests.conftest import TINY

pytestmark = [pytest.mark.blender, pytest.mark.slow]

SCENES = {
    "tabletop": ["scene=tabletop", "scene.num_objects=[4,6]", "scene.physics_max_time=1.5"],
    "bin": ["scene=bin_picking", "scene.num_objects=[6,8]", "scene.physics_max_time=1.5"],
    "street": ["scene=street", "scene.moving_vehicles=[3,5]", "scene.pedestrians=[2,4]"],
}
RES = ["render.resolution=[96,72]", "render.samples=4"]


def _frames(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "metadata" / "frames.jsonl").read_text().splitlines()]


def _coco(root: Path) -> dict:
    return json.loads((root / "annotations" / "instances.json").read_text())


def _job(root: Path, scene: list[str]) -> list[str]:
    """Two frames of a scene type with normals and amodal masks on (amodal is the default)."""
    return [
        f"output_dir={root}",
        "num_frames=2",
        "seed=3",
        *TINY,
        *RES,
        *scene,
        "output.normals=true",
        "output.card=false",
    ]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory, compose_cfg) -> dict[str, Path]:
    """Two frames of each scene type with normals and amodal masks on."""
    from simvision.dataset.job import run

    out = {}
    for name, overrides in SCENES.items():
        root = tmp_path_factory.mktemp(name)
        result = run(compose_cfg(*_job(root, overrides)))
        assert result.frames == 2
        out[name] = root
    return out


def _pixel_rays(frame: dict) -> np.ndarray:
    """(H, W, 3) camera-frame rays through the pixel centres, z = 1 (OpenCV axes)."""
    K = np.asarray(frame["camera"]["K"])
    h, w = frame["camera"]["height"], frame["camera"]["width"]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    return np.stack([(xs - K[0, 2]) / K[0, 0], (ys - K[1, 2]) / K[1, 1], np.ones_like(xs)], axis=-1)


def _horizontal_background(root: Path, frame: dict) -> np.ndarray:
    """Pixels of unlabelled surfaces whose 3x3 neighbourhood is flat and level in the world, from the depth
    alone (table top, bin floor, floor, road, sidewalk): there the normal must be world up.

    The heights come from the depth pass and the recorded camera, not from the normal pass."""
    import cv2

    stem = f"{frame['frame_id']:06d}"
    depth = np.load(root / "depth" / f"{stem}.npy").astype(np.float64)
    instance = cv2.imread(str(root / "instance" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
    points = depth[..., None] * _pixel_rays(frame)
    cam_to_world = np.asarray(frame["camera"]["cam_to_world"])
    z = points @ cam_to_world[2, :3] + cam_to_world[2, 3]  # world height of every pixel's surface point
    ok = (depth > 0) & (instance == 0)
    flat = np.zeros_like(ok)
    h, w = ok.shape
    for y in range(2, h - 2):  # 5x5 patches within 0.3 mm of one height: a resting distractor tilted by
        for x in range(2, w - 2):  # a degree (unlabelled too) varies by a millimetre over its ~6 cm
            patch = z[y - 2 : y + 3, x - 2 : x + 3]
            flat[y, x] = ok[y - 2 : y + 3, x - 2 : x + 3].all() and np.ptp(patch) < 3e-4
    return flat


@pytest.mark.parametrize("scene", list(SCENES))
def test_normals_are_unit_face_the_camera_and_level_ground_points_up(datasets, scene: str) -> None:
    root = datasets[scene]
    level_pixels = 0
    for frame in _frames(root):
        assert frame["files"]["normals"] == f"normals/{frame['frame_id']:06d}.npy"
        assert "normals" in frame["checksums"]
        normals = np.load(root / frame["files"]["normals"])
        depth = np.load(root / frame["files"]["depth"])
        assert normals.dtype == np.float16 and normals.shape == (*depth.shape, 3)
        n = normals.astype(np.float64)
        length = np.linalg.norm(n, axis=-1)
        surface = depth > 0
        assert surface.any()
        assert np.abs(length[surface] - 1.0).max() < 2e-3  # unit length on every surface pixel
        assert (n[~surface] == 0).all()  # sky / world background: (0, 0, 0)
        # facing the camera: normal . view ray < 0; smooth-shaded silhouettes may bend a few pixels away
        facing = (n * _pixel_rays(frame)).sum(axis=-1)[surface] < 0
        assert facing.mean() > 0.99  # measured: every surface pixel of these renders
        # level unlabelled surfaces: camera-frame normal == world_to_cam rotation @ world up
        up_cam = np.asarray(frame["camera"]["world_to_cam"])[:3, :3] @ [0.0, 0.0, 1.0]
        level = _horizontal_background(root, frame)
        if level.any():
            unit = n[level] / length[level, None]  # float16 rounds the length (by up to 5e-4), not the direction
            angle = np.degrees(np.arccos(np.clip(unit @ up_cam, -1.0, 1.0)))
            # measured: at most 0.006 degrees (float16 rounding); a wrong rotation or axis flip is degrees off
            assert np.median(angle) < 0.05 and angle.max() < 0.5, (scene, np.percentile(angle, [50, 100]))
        level_pixels += int(level.sum())
    assert level_pixels > 50  # each scene type shows its ground / table top / bin floor


@pytest.mark.parametrize("scene", list(SCENES))
def test_amodal_masks_contain_the_visible_masks_and_define_the_visible_fraction(datasets, scene: str) -> None:
    import cv2
    from pycocotools.coco import COCO

    from simvision.labels.rle import decode_rle

    root = datasets[scene]
    coco = COCO(str(root / "annotations" / "instances.json"))  # pycocotools loads the extra keys
    anns = {(a["image_id"], a["instance_id"]): a for a in coco.loadAnns(coco.getAnnIds())}
    occluded = 0
    for frame in _frames(root):
        stem = f"{frame['frame_id']:06d}"
        instance = cv2.imread(str(root / "instance" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        for obj in frame["objects"]:
            if obj["instance_id"] <= 0:
                assert "amodal_segmentation" not in obj
                continue
            visible = instance == obj["instance_id"]
            if obj["amodal_segmentation"] is None:  # no part of it inside the image
                assert not visible.any() and obj["unoccluded_pixels"] == 0
                continue
            amodal = decode_rle(obj["amodal_segmentation"])
            assert amodal.shape == visible.shape
            assert not (visible & ~amodal).any()  # amodal contains the visible mask
            assert obj["unoccluded_pixels"] == amodal.sum()
            assert obj["visible_pixels"] == visible.sum()
            assert obj["visible_fraction"] == pytest.approx(visible.sum() / amodal.sum())
            occluded += int((amodal & ~visible).any())
            ann = anns.get((frame["frame_id"], obj["instance_id"]))
            if not visible.any():
                assert ann is None
                continue
            assert ann["amodal_segmentation"] == obj["amodal_segmentation"]
            assert ann["amodal_area"] == amodal.sum()
            # pycocotools decodes the amodal RLE as it decodes a segmentation
            as_segmentation = {**ann, "segmentation": ann["amodal_segmentation"]}
            assert np.array_equal(coco.annToMask(as_segmentation).astype(bool), amodal)
    assert occluded > 0  # some object is partly hidden (or cut by the border), so amodal != visible somewhere


def test_amodal_equals_visible_unoccluded_and_covers_the_occluded_part() -> None:
    """Two cubes, the nearer hiding part of the farther one: the nearer cube's amodal mask is its visible
    mask; the farther one's hidden part is exactly where the nearer one covers its silhouette."""
    from simvision.labels.derive import add_amodal_records, coco_annotations, label_objects
    from simvision.render.builder import Renderer
    from tests.test_render_labels import cube, scene

    renderer = Renderer(
        OmegaConf.create({"device": "cpu", "samples": 4, "denoiser": "none", "noise_threshold": 0.0, "max_bounces": 2}),
        normals=True,
    )
    spec = scene([cube(1, 0.3, [-0.1, 2.0, 0.0]), cube(2, 0.4, [0.15, 2.8, 0.05])], [0.0, 0.0, 0.0], [0.0, 2.0, 0.0])
    built = renderer.build(spec)
    view = renderer.render(spec)[0]
    cam = spec.cameras[0]
    world_to_cam = np.linalg.inv(np.asarray(cam.cam_to_world))
    labels = label_objects(spec.objects, built.poses_world, view.instance, np.asarray(cam.K), world_to_cam)
    add_amodal_records(labels)
    near, far = labels
    assert np.array_equal(near.amodal, near.mask) and near.record["visible_fraction"] == 1.0
    hidden = far.amodal & ~far.mask
    assert hidden.sum() > 20
    assert (view.instance[hidden] == 1).all()  # the hidden part is behind the near cube
    assert far.record["visible_fraction"] == pytest.approx(far.mask.sum() / far.amodal.sum())
    anns = coco_annotations(labels, 0, amodal=True)
    assert [a["amodal_area"] for a in anns] == [near.amodal.sum(), far.amodal.sum()]
    assert "amodal_segmentation" not in coco_annotations(labels, 0)[0]
    # the front face of the near cube faces the camera straight on: normal (0, 0, -1) in OpenCV axes
    h, w = view.depth.shape
    assert np.allclose(view.normals[h // 2, w // 2 - 3], [0.0, 0.0, -1.0], atol=1e-3)


def test_validate_catches_bad_normals_and_amodal_masks(datasets, tmp_path: Path) -> None:
    from simvision.dataset.validate import validate_dataset
    from simvision.labels.rle import decode_rle, encode_rle

    for root in datasets.values():
        result = validate_dataset(root)
        assert result.ok, result.summary()
    root = tmp_path / "broken"
    shutil.copytree(datasets["tabletop"], root)
    frames = _frames(root)
    path = root / frames[0]["files"]["normals"]
    normals = np.load(path)
    normals[normals.shape[0] // 2, normals.shape[1] // 2] = [0.5, 0.0, 0.0]  # not unit length
    np.save(path, normals)
    np.save(root / frames[1]["files"]["normals"], np.load(root / frames[1]["files"]["normals"]).astype(np.float32))
    coco = _coco(root)
    ann = max(coco["annotations"], key=lambda a: a["area"])
    amodal = decode_rle(ann["amodal_segmentation"])
    ys, xs = np.nonzero(decode_rle(ann["segmentation"]))
    amodal[ys[0], xs[0]] = False  # a visible pixel outside the amodal mask
    ann["amodal_segmentation"] = encode_rle(amodal)
    ann["amodal_area"] = float(amodal.sum())
    (root / "annotations" / "instances.json").write_text(json.dumps(coco))
    messages = [str(v) for v in validate_dataset(root).violations]
    kinds = {m.split(":")[0] for m in messages}
    assert {"bad_normals", "amodal_mismatch"} <= kinds, messages
    assert any("not unit length" in m or "neither unit length" in m for m in messages)
    assert any("dtype float32 != float16" in m for m in messages)


def test_merge_keeps_normals_and_amodal_masks(datasets, tmp_path: Path) -> None:
    from simvision.dataset.merge import merge_shards
    from simvision.dataset.validate import validate_dataset

    out = tmp_path / "merged"
    merge_shards([datasets["tabletop"], datasets["bin"]], out, card=False, progress=False)
    frames = _frames(out)
    assert len(frames) == 4
    for frame in frames:
        merged = np.load(out / frame["files"]["normals"])
        src = Path(frame["source"]["shard"])
        original = next(f for f in _frames(src) if f["frame_id"] == frame["source"]["frame_id"])
        assert np.array_equal(merged, np.load(src / original["files"]["normals"]))
    assert all("amodal_segmentation" in a for a in _coco(out)["annotations"])
    result = validate_dataset(out)
    assert result.ok, result.summary()


def test_switches_off_write_no_normals_or_amodal_and_the_same_images(datasets, tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import run

    out = tmp_path / "off"
    run(
        compose_cfg(
            f"output_dir={out}",
            "num_frames=2",
            "seed=3",
            *TINY,
            *RES,
            *SCENES["tabletop"],
            "output.amodal=false",
            "output.card=false",
        )
    )
    assert not (out / "normals").exists()
    for frame in _frames(out):
        assert "normals" not in frame["files"] and "normals" not in frame["checksums"]
        assert all("amodal_segmentation" not in o for o in frame["objects"])
    anns = _coco(out)["annotations"]
    assert anns and all("amodal_segmentation" not in a and "amodal_area" not in a for a in anns)
    # the normal pass changes no pixel of the images nor any other label
    on = datasets["tabletop"]
    for stem in ("000000", "000001"):
        assert (out / "images" / f"{stem}.png").read_bytes() == (on / "images" / f"{stem}.png").read_bytes()
        assert (out / "instance" / f"{stem}.png").read_bytes() == (on / "instance" / f"{stem}.png").read_bytes()
    strip = ("amodal_segmentation", "amodal_area")
    assert [{k: v for k, v in a.items() if k not in strip} for a in _coco(on)["annotations"]] == anns


def test_bop_export_writes_amodal_masks_and_the_card_counts_the_outputs(datasets, tmp_path: Path) -> None:
    import cv2

    from simvision.dataset.card import build_card
    from simvision.formats.bop import write_bop

    root = datasets["bin"]
    write_bop(root, tmp_path / "bop")
    sdir = tmp_path / "bop" / "train_pbr" / "000000"
    info = json.loads((sdir / "scene_gt_info.json").read_text())
    n = 0
    for im, entries in info.items():
        for gt, entry in enumerate(entries):
            name = f"{int(im):06d}_{gt:06d}.png"
            amodal = cv2.imread(str(sdir / "mask" / name), cv2.IMREAD_UNCHANGED) > 0
            visible = cv2.imread(str(sdir / "mask_visib" / name), cv2.IMREAD_UNCHANGED) > 0
            assert not (visible & ~amodal).any() and amodal.sum() == entry["px_count_all"]
            if amodal.any():
                ys, xs = np.nonzero(amodal)
                assert entry["bbox_obj"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
            n += 1
    assert n > 0
    card = build_card(root)
    assert card["counts"]["outputs"]["normals"] == 2 and card["counts"]["outputs"]["rgb"] == 2
    assert card["counts"]["outputs"]["amodal_masks"] == sum(
        o.get("amodal_segmentation") is not None for f in _frames(root) for o in f["objects"]
    )


def test_resume_redoes_a_frame_whose_normals_file_is_gone(datasets, tmp_path: Path, compose_cfg) -> None:
    from simvision.dataset.job import run
    from simvision.dataset.validate import validate_dataset

    root = tmp_path / "resume"
    shutil.copytree(datasets["tabletop"], root)
    before = {f["frame_id"]: f for f in _frames(root)}
    (root / before[1]["files"]["normals"]).unlink()
    result = run(compose_cfg(*_job(root, SCENES["tabletop"])))  # the same job as the fixture's
    assert (result.frames, result.skipped) == (1, 1)
    after = {f["frame_id"]: f for f in _frames(root)}
    assert (root / after[1]["files"]["normals"]).is_file()
    assert after[1]["checksums"] == before[1]["checksums"]  # the same normals, labels and images again
    assert validate_dataset(root).ok
