"""Dataset tooling on tiny fake dataset folders (no Blender): validate, merge, YOLO/KITTI/BOP, card."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from pycocotools import mask as mask_utils

import simvision
from simvision.cli import merge as merge_cli
from simvision.cli import validate as validate_cli
from simvision.dataset.card import write_card
from simvision.dataset.preview import category_color, contact_sheet, draw_labels
from simvision.dataset.validate import validate_dataset
from simvision.formats.bop import write_bop
from simvision.formats.kitti import (
    calib_text,
    kitti_box3d,
    kitti_corners,
    kitti_object,
    kitti_type_name,
    occlusion_level,
    write_kitti,
)
from simvision.formats.yolo import (
    coco_bbox_to_yolo,
    mask_to_polygon,
    write_yolo,
    yolo_class_index,
    yolo_to_coco_bbox,
)
from simvision.io.atomic import atomic_write_json
from simvision.io.folder import DatasetError

W, H = 64, 48
K = [[60.0, 0.0, 31.5], [0.0, 60.0, 23.5], [0.0, 0.0, 1.0]]
CATEGORIES = [
    {"id": 1, "name": "cup", "supercategory": "kitchen", "aliases": {"coco": "cup"}},
    {"id": 10, "name": "car", "supercategory": "vehicle", "aliases": {"coco": "car", "kitti": "Car"}},
    {"id": 16, "name": "traffic_cone", "supercategory": "street", "aliases": {}},
]
# object frame (x heading, y left, z up) -> OpenCV camera frame for an upright object with yaw 0
R_UPRIGHT = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def upright_pose(yaw: float, t: tuple[float, float, float], scale: float = 1.0) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    ry = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    pose = np.eye(4)
    pose[:3, :3] = ry @ R_UPRIGHT * scale
    pose[:3, 3] = t
    return pose


def corners_cam(pose: np.ndarray, center: list[float], size: list[float]) -> np.ndarray:
    signs = np.array([[x, y, z] for z in (-1, 1) for y in (-1, 1) for x in (-1, 1)], dtype=np.float64)
    pts = np.asarray(center) + 0.5 * signs * np.asarray(size)
    return pts @ pose[:3, :3].T + pose[:3, 3]


def rle(mask: np.ndarray) -> dict[str, Any]:
    enc = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(enc["size"][0]), int(enc["size"][1])], "counts": enc["counts"].decode("ascii")}


def tight(mask: np.ndarray) -> list[float] | None:
    if not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]


def png(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)


def _distances(pose: np.ndarray, center: Any) -> dict[str, float]:
    """The writer's distance record: the 3D box centre in the camera frame (pose_cam = pose here)."""
    c = np.asarray(pose)[:3, :3] @ np.asarray(center, dtype=float) + np.asarray(pose)[:3, 3]
    return {"z": float(c[2]), "euclidean": float(np.linalg.norm(c))}


def make_shard(root: Path, n_frames: int = 2, seed: int = 0, categories: list[dict[str, Any]] | None = None) -> Path:
    """A shard folder exactly as docs/dataset_format.md describes, with three labelled objects a frame:
    a car (fully visible), a traffic cone split in two by an unlabelled distractor, and a cup hidden
    behind everything (metadata only, no annotation)."""
    rng = np.random.default_rng(seed)
    cats = categories if categories is not None else CATEGORIES
    images, annotations, frames = [], [], []
    for fid in range(n_frames):
        stem = f"{fid:06d}"
        x0, y0 = int(rng.integers(0, 20)), int(rng.integers(0, 14))
        inst = np.zeros((H, W), np.uint16)
        inst[y0 : y0 + 8, x0 : x0 + 12] = 1  # car
        cone_full = np.zeros((H, W), bool)
        cone_full[30:40, 40:56] = True
        inst[cone_full] = 2
        inst[30:40, 46:50] = 0  # distractor in front of the cone
        sem = np.zeros((H, W), np.uint16)
        sem[inst == 1], sem[inst == 2] = 10, 16
        depth = np.full((H, W), 20.0, np.float32)
        depth[:4] = 0.0  # sky: no surface
        depth[inst == 1], depth[inst == 2], depth[30:40, 46:50] = 12.0, 6.0, 5.0
        rgb = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
        rgb[inst == 1] = (200, 30, 30)
        rgb[inst == 2] = (250, 140, 0)
        png(root / "images" / f"{stem}.png", rgb[..., ::-1])
        png(root / "instance" / f"{stem}.png", inst)
        png(root / "semantic" / f"{stem}.png", sem)
        png(root / "depth_mm" / f"{stem}.png", np.round(depth * 1000).astype(np.uint16))
        (root / "depth").mkdir(parents=True, exist_ok=True)
        np.save(root / "depth" / f"{stem}.npy", depth)

        specs = [  # instance, class, category, asset, yaw, t, center_obj, size, unoccluded, truncation
            (
                1,
                "car",
                10,
                {"id": "mesh-car", "kind": "mesh", "licence": "CC0-1.0", "source": "test"},
                0.4 + 0.1 * fid,
                (1.0, 1.2, 12.0),
                [0.0, 0.0, 0.75],
                [4.2, 1.8, 1.5],
                96,
                0.0,
            ),
            (
                2,
                "traffic_cone",
                16,
                {"id": "proc-cone", "kind": "procedural", "generator": "cone"},
                -2.0,
                (-0.5, 0.8, 6.0),
                [0.0, 0.0, 0.35],
                [0.3, 0.3, 0.7],
                int(cone_full.sum()),
                0.1,
            ),
            (
                3,
                "cup",
                1,
                {"id": "proc-cup", "kind": "procedural", "licence": "GPL-3.0-or-later"},
                2.5,
                (0.2, 0.5, 9.0),
                [0.0, 0.0, 0.06],
                [0.1, 0.1, 0.12],
                20,
                0.0,
            ),
        ]
        objects: list[dict[str, Any]] = []
        for iid, name, cid, asset, yaw, t, center, size, unocc, trunc in specs:
            mask = inst == iid
            pose = upright_pose(yaw, t)
            visible = int(mask.sum())
            objects.append(
                {
                    "instance_id": iid,
                    "class_name": name,
                    "category_id": cid,
                    "asset": asset,
                    "sampled": {"yaw": yaw},
                    "pose_world": pose.tolist(),
                    "pose_cam": pose.tolist(),
                    "bbox3d": {
                        "center_obj": center,
                        "size": size,
                        "corners_cam": corners_cam(pose, center, size).tolist(),
                    },
                    "visible_pixels": visible,
                    "unoccluded_pixels": unocc,
                    "visible_fraction": visible / unocc,
                    "truncation": trunc,
                    "bbox": tight(mask),
                    "amodal_bbox": [5.0, 5.0, 20.0, 12.0],
                    "distance_m": _distances(pose, center),
                }
            )
            if visible:
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": fid,
                        "category_id": cid,
                        "segmentation": rle(mask),
                        "area": float(visible),
                        "bbox": tight(mask),
                        "iscrowd": 0,
                        "instance_id": iid,
                        "visible_fraction": visible / unocc,
                        "amodal_bbox": [5.0, 5.0, 20.0, 12.0],
                    }
                )
        objects.append(
            {
                "instance_id": 0,
                "class_name": None,
                "category_id": 0,
                "asset": {"kind": "procedural", "shape": "torus", "params": {"r": 0.1}},
            }
        )
        conditions = {"scene": "street", "weather": "fog" if fid % 2 else "clear"}
        file_name = f"images/{stem}.png"
        images.append({"id": fid, "file_name": file_name, "width": W, "height": H, "conditions": conditions})
        frames.append(
            {
                "frame_id": fid,
                "file_name": file_name,
                "files": {
                    "rgb": file_name,
                    "depth": f"depth/{stem}.npy",
                    "depth_mm": f"depth_mm/{stem}.png",
                    "instance": f"instance/{stem}.png",
                    "semantic": f"semantic/{stem}.png",
                },
                "seed": [seed, fid],
                "scene_index": fid,
                "camera_index": 0,
                "conditions": conditions,
                "camera": {
                    "K": K,
                    "width": W,
                    "height": H,
                    "cam_to_world": np.eye(4).tolist(),
                    "world_to_cam": np.eye(4).tolist(),
                },
                "objects": objects,
            }
        )
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / "instances.json").write_text(
        json.dumps(
            {
                "info": {"description": "test", "seed": seed},
                "licenses": [],
                "images": images,
                "annotations": annotations,
                "categories": cats,
            }
        )
    )
    (root / "metadata").mkdir(parents=True, exist_ok=True)
    (root / "metadata" / "frames.jsonl").write_text("".join(json.dumps(f) + "\n" for f in frames))
    (root / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "seed": seed,
                "num_frames": n_frames,
                "scene": {
                    "name": "street",
                    "placement": {"distance_m": {"car": {"median": 26.0, "p10": 10.0, "p90": 52.0}}},
                },
            }
        )
    )
    return root


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def coco_of(root: Path) -> dict[str, Any]:
    return load_json(root / "annotations" / "instances.json")


def frames_of(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (root / "metadata" / "frames.jsonl").read_text().splitlines()]


def edit_coco(root: Path, fn: Any) -> None:
    coco = coco_of(root)
    fn(coco)
    (root / "annotations" / "instances.json").write_text(json.dumps(coco))


# ----------------------------------------------------------------------------------------- validate


def test_validate_passes_clean_shard(tmp_path: Path) -> None:
    root = make_shard(tmp_path / "s", n_frames=3)
    result = validate_dataset(root)
    assert result.ok, [str(v) for v in result.violations]
    assert (result.n_images, result.n_annotations, result.n_frames) == (3, 6, 3)
    assert result.summary().startswith("OK")


def _set_nan(root: Path) -> None:
    d = np.load(root / "depth/000000.npy")
    d[10, 10] = np.nan
    np.save(root / "depth/000000.npy", d)


def _negative_depth(root: Path) -> None:
    d = np.load(root / "depth/000001.npy")
    d[5, 5] = -1.0
    np.save(root / "depth/000001.npy", d)


def _empty_depth(root: Path) -> None:
    np.save(root / "depth/000001.npy", np.zeros((H, W), np.float32))


def _drop_metadata_line(root: Path) -> None:
    lines = (root / "metadata/frames.jsonl").read_text().splitlines()
    (root / "metadata/frames.jsonl").write_text("\n".join(lines[:1] + lines[2:]) + "\n")


def _empty_mask(coco: dict[str, Any]) -> None:
    coco["annotations"][2]["segmentation"] = rle(np.zeros((H, W), bool))


def _shift_instance(root: Path) -> None:
    inst = cv2.imread(str(root / "instance/000000.png"), cv2.IMREAD_UNCHANGED)
    png(root / "instance/000000.png", np.roll(inst, 1, axis=1))


INJECTIONS: dict[str, tuple[Any, str, str]] = {  # name -> (inject(root), kind, text in the violation)
    "bbox": (
        lambda r: edit_coco(r, lambda c: c["annotations"][0]["bbox"].__setitem__(0, 0.0)),
        "bbox_mismatch",
        "annotation 1 ",
    ),
    "missing_image": (lambda r: (r / "images/000001.png").unlink(), "missing_file", "000001.png"),
    "undecodable_image": (
        lambda r: (r / "images/000000.png").write_bytes(b"not a png"),
        "unreadable_image",
        "000000.png",
    ),
    "nan_depth": (_set_nan, "depth_nonfinite", "000000.npy"),
    "negative_depth": (_negative_depth, "depth_negative", "000001.npy"),
    "empty_depth": (_empty_depth, "depth_empty", "000001.npy"),
    "duplicate_image_id": (
        lambda r: edit_coco(r, lambda c: c["images"][1].__setitem__("id", 0)),
        "duplicate_image_id",
        "image id 0",
    ),
    "duplicate_annotation_id": (
        lambda r: edit_coco(r, lambda c: c["annotations"][1].__setitem__("id", 1)),
        "duplicate_annotation_id",
        "annotation id 1",
    ),
    "unknown_category": (
        lambda r: edit_coco(r, lambda c: c["annotations"][3].__setitem__("category_id", 99)),
        "unknown_category",
        "annotation 4",
    ),
    "missing_metadata": (_drop_metadata_line, "missing_metadata", "image 1 "),
    "empty_mask": (lambda r: edit_coco(r, _empty_mask), "empty_mask", "annotation 3 "),
    "mask_mismatch": (_shift_instance, "mask_mismatch", "image 0"),
}


@pytest.mark.parametrize("name", sorted(INJECTIONS))
def test_validate_reports_injected_violation(tmp_path: Path, name: str) -> None:
    inject, kind, text = INJECTIONS[name]
    root = make_shard(tmp_path / "s", n_frames=2)
    assert not [v for v in validate_dataset(root).violations if v.kind == kind]
    inject(root)
    result = validate_dataset(root)
    hits = [str(v) for v in result.violations if v.kind == kind]
    assert not result.ok
    assert hits and any(text in h for h in hits), [str(v) for v in result.violations]
    assert all("\n" not in str(v) for v in result.violations)


def test_validate_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_shard(tmp_path / "s", n_frames=2)
    assert validate_cli.main([str(root)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("OK")
    INJECTIONS["bbox"][0](root)
    assert validate_cli.main([str(root), "--json", str(tmp_path / "v.json")]) == 1
    captured = capsys.readouterr()
    assert any(line.startswith("bbox_mismatch: annotation 1 ") for line in captured.out.splitlines())
    assert "FAILED" in captured.err
    assert load_json(tmp_path / "v.json")["violations_by_kind"]["bbox_mismatch"] == 1


# -------------------------------------------------------------------------------------------- merge


def test_merge_gives_unique_ids_and_counts(tmp_path: Path) -> None:
    a = make_shard(tmp_path / "a", n_frames=3, seed=1)
    b = make_shard(tmp_path / "b", n_frames=2, seed=2)
    out = tmp_path / "merged"
    result = merge_cli.run([a, b], out, formats=["coco", "yolo", "kitti", "bop"], progress=False)
    coco, frames = coco_of(out), frames_of(out)
    n_src_images = len(coco_of(a)["images"]) + len(coco_of(b)["images"])
    n_src_anns = len(coco_of(a)["annotations"]) + len(coco_of(b)["annotations"])
    image_ids = [img["id"] for img in coco["images"]]
    ann_ids = [ann["id"] for ann in coco["annotations"]]
    assert result.n_frames == len(image_ids) == len(set(image_ids)) == n_src_images
    assert result.n_annotations == len(ann_ids) == len(set(ann_ids)) == n_src_anns
    assert sorted(f["frame_id"] for f in frames) == sorted(image_ids)
    for f in frames:
        assert all((out / p).is_file() for p in f["files"].values())
    # every merged annotation is its source annotation with new ids
    for img in coco["images"]:
        src = Path(img["source"]["shard"])
        src_anns = [x for x in coco_of(src)["annotations"] if x["image_id"] == img["source"]["frame_id"]]
        new_anns = [x for x in coco["annotations"] if x["image_id"] == img["id"]]
        assert [x["segmentation"] for x in new_anns] == [x["segmentation"] for x in src_anns]
        assert [x["bbox"] for x in new_anns] == [x["bbox"] for x in src_anns]
        assert (out / img["file_name"]).read_bytes() == (
            src / f"images/{img['source']['frame_id']:06d}.png"
        ).read_bytes()
    assert validate_dataset(out).ok
    last = f"{n_src_images - 1:06d}"
    assert (out / "labels" / f"{last}.txt").is_file()
    assert (out / "kitti/training/label_2" / f"{last}.txt").is_file()
    assert set(load_json(out / "bop/train_pbr/000000/scene_gt.json")) == {str(i) for i in image_ids}
    assert (out / "dataset_card.json").is_file()
    card = load_json(out / "dataset_card.json")
    assert card["counts"]["images"] == n_src_images
    assert sorted(card["seeds"]["config"].values()) == [1, 2]  # both shards' seeds


def test_merge_refuses_incompatible_class_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = [dict(c) for c in CATEGORIES]
    other[1] = {**other[1], "aliases": {"kitti": "Van"}}
    a = make_shard(tmp_path / "a", n_frames=1)
    b = make_shard(tmp_path / "b", n_frames=1, categories=other)
    out = tmp_path / "merged"
    with pytest.raises(DatasetError) as err:
        merge_cli.run([a, b], out, progress=False)
    msg = str(err.value)
    assert str(a) in msg and str(b) in msg and "\n" not in msg
    assert not out.exists()
    assert merge_cli.main([str(a), str(b), "-o", str(out), "--no-progress"]) == 2
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and "incompatible class tables" in err_lines[0]
    assert not out.exists()


def test_bad_coco_gives_one_line_error_naming_file_and_field(tmp_path: Path) -> None:
    root = make_shard(tmp_path / "s", n_frames=1)
    edit_coco(root, lambda c: c["images"][0].pop("file_name"))
    with pytest.raises(DatasetError) as err:
        merge_cli.run([root], tmp_path / "m", progress=False)
    assert "instances.json" in str(err.value) and "'file_name'" in str(err.value) and "\n" not in str(err.value)
    bad = [v for v in validate_dataset(root).violations if v.kind.startswith("bad_")]
    assert [v.kind for v in bad] == ["bad_field"] and "has no 'file_name'" in bad[0].message


def test_merge_refuses_non_empty_output_and_keeps_it(tmp_path: Path) -> None:
    a = make_shard(tmp_path / "a", n_frames=1)
    out = tmp_path / "merged"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not empty"):
        merge_cli.run([a], out, progress=False)
    assert (out / "keep.txt").read_text() == "mine" and len(list(out.iterdir())) == 1
    with pytest.raises(DatasetError, match="unknown format"):
        merge_cli.parse_formats("coco,voc")


# --------------------------------------------------------------------------------------------- YOLO


def test_yolo_box_conversion_by_hand() -> None:
    assert coco_bbox_to_yolo([10, 20, 30, 40], 100, 200) == pytest.approx((0.25, 0.2, 0.3, 0.2))
    assert yolo_to_coco_bbox((0.25, 0.2, 0.3, 0.2), 100, 200) == pytest.approx([10, 20, 30, 40])
    shuffled = [CATEGORIES[2], CATEGORIES[0], CATEGORIES[1]]
    assert yolo_class_index(shuffled) == {1: 0, 10: 1, 16: 2}


def test_yolo_detection_round_trips_to_coco(tmp_path: Path) -> None:
    root = make_shard(tmp_path / "s", n_frames=2, categories=[CATEGORIES[2], CATEGORIES[0], CATEGORIES[1]])
    write_yolo(root, segmentation=False)
    data = yaml.safe_load((root / "data.yaml").read_text())
    assert data["names"] == {0: "cup", 1: "car", 2: "traffic_cone"}
    coco = coco_of(root)
    for img in coco["images"]:
        lines = (root / "labels" / f"{img['id']:06d}.txt").read_text().split("\n")
        rows = [line.split() for line in lines if line]
        anns = [a for a in coco["annotations"] if a["image_id"] == img["id"]]
        assert len(rows) == len(anns)
        for row, ann in zip(rows, anns, strict=True):
            assert data["category_ids"][int(row[0])] == ann["category_id"]
            back = yolo_to_coco_bbox([float(v) for v in row[1:]], img["width"], img["height"])
            assert back == pytest.approx(ann["bbox"], abs=1e-3)


def test_yolo_segmentation_joins_split_mask(tmp_path: Path) -> None:
    mask = np.zeros((H, W), bool)
    mask[30:40, 40:46] = True
    mask[30:40, 50:56] = True
    poly = mask_to_polygon(mask)
    filled = np.zeros((H, W), np.uint8)
    cv2.fillPoly(filled, [np.round(poly - 0.5).astype(np.int32)], 1)
    iou = (filled.astype(bool) & mask).sum() / (filled.astype(bool) | mask).sum()
    assert iou > 0.8
    assert (poly[:, 0] < 46).any() and (poly[:, 0] > 50).any()

    root = make_shard(tmp_path / "s", n_frames=1)
    write_yolo(root, detection=False)
    lines = [line for line in (root / "yolo_seg/labels/000000.txt").read_text().splitlines() if line]
    assert len(lines) == len(coco_of(root)["annotations"])
    for line in lines:
        coords = np.array(line.split()[1:], dtype=float)
        assert len(coords) >= 6 and len(coords) % 2 == 0 and coords.min() >= 0 and coords.max() <= 1
    assert (root / "yolo_seg/images/000000.png").is_file()


# -------------------------------------------------------------------------------------------- KITTI


def test_kitti_pure_fields_by_hand() -> None:
    assert [occlusion_level(v) for v in (1.0, 0.8, 0.79, 0.5, 0.2, 0.0, None)] == [0, 0, 1, 1, 2, 3, 3]
    assert kitti_type_name(CATEGORIES[1]) == "Car"
    assert kitti_type_name(CATEGORIES[2]) == "Traffic_cone"

    pose = upright_pose(0.4, (1.0, 1.2, 12.0))
    dims, loc, ry = kitti_box3d(pose, [0.0, 0.0, 0.75], [4.2, 1.8, 1.5])
    assert dims == pytest.approx((1.5, 1.8, 4.2))  # h, w, l
    assert loc == pytest.approx((1.0, 1.2, 12.0))  # bottom centre: the object origin sits on its base
    assert ry == pytest.approx(0.4)
    obj = {
        "instance_id": 1,
        "bbox": [3.0, 4.0, 10.0, 6.0],
        "pose_cam": pose.tolist(),
        "truncation": 0.25,
        "visible_fraction": 0.6,
        "bbox3d": {"center_obj": [0.0, 0.0, 0.75], "size": [4.2, 1.8, 1.5]},
    }
    k = kitti_object(obj, "Car")
    assert k.bbox == (3.0, 4.0, 13.0, 10.0)
    assert (k.truncated, k.occluded) == (0.25, 1)
    assert k.alpha == pytest.approx(0.4 - math.atan2(1.0, 12.0))
    fields = k.to_line().split()
    assert len(fields) == 15 and fields[0] == "Car" and float(fields[14]) == pytest.approx(0.4, abs=1e-4)

    scaled = upright_pose(0.4, (1.0, 1.2, 12.0), scale=2.0)
    assert kitti_box3d(scaled, [0.0, 0.0, 0.75], [4.2, 1.8, 1.5])[0] == pytest.approx((3.0, 3.6, 8.4))


def sorted_rows(c: np.ndarray) -> np.ndarray:
    return c[np.lexsort(np.round(c, 6).T[::-1])]


@pytest.mark.parametrize("yaw", [0.0, 0.4, -1.3, 2.9, -3.1])
def test_kitti_corners_match_corners_cam_for_upright_object(yaw: float) -> None:
    center, size = [0.3, -0.1, 0.9], [4.0, 1.7, 1.6]
    pose = upright_pose(yaw, (-2.0, 1.5, 15.0))
    dims, loc, ry = kitti_box3d(pose, center, size)
    np.testing.assert_allclose(
        sorted_rows(kitti_corners(dims, loc, ry)), sorted_rows(corners_cam(pose, center, size)), atol=1e-9
    )


def test_kitti_box_of_object_lying_on_its_side() -> None:
    """Object y axis vertical (rolled 90 degrees about x): height is size_y, the box is still exact."""
    center, size = [0.0, 0.2, 0.5], [0.6, 0.3, 1.0]
    roll = np.eye(4)
    roll[:3, :3] = [[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]  # object y -> z
    pose = upright_pose(0.7, (0.5, 0.4, 3.0)) @ roll
    dims, loc, ry = kitti_box3d(pose, center, size)
    assert dims[0] == pytest.approx(0.3)
    np.testing.assert_allclose(
        sorted_rows(kitti_corners(dims, loc, ry)), sorted_rows(corners_cam(pose, center, size)), atol=1e-9
    )


def test_write_kitti_labels_and_calib(tmp_path: Path) -> None:
    root = make_shard(tmp_path / "s", n_frames=2)
    counts = write_kitti(root)
    kdir = root / "kitti/training"
    for frame in frames_of(root):
        stem = f"{frame['frame_id']:06d}"
        rows = [line.split() for line in (kdir / "label_2" / f"{stem}.txt").read_text().splitlines()]
        visible = [o for o in frame["objects"] if o["category_id"] and o["bbox"] is not None]
        assert [r[0] for r in rows] == [
            kitti_type_name(next(c for c in CATEGORIES if c["id"] == o["category_id"])) for o in visible
        ]
        for r, o in zip(rows, visible, strict=True):
            x, y, w, h = o["bbox"]
            assert [float(v) for v in r[4:8]] == pytest.approx([x, y, x + w, y + h], abs=0.01)
            assert int(r[2]) == occlusion_level(o["visible_fraction"])
            assert float(r[1]) == pytest.approx(o["truncation"], abs=0.005)
            dims, loc = [float(v) for v in r[8:11]], [float(v) for v in r[11:14]]
            got = kitti_corners(dims, loc, float(r[14]))
            want = np.asarray(o["bbox3d"]["corners_cam"])
            assert got.min(0) == pytest.approx(want.min(0), abs=2e-3)
            assert got.max(0) == pytest.approx(want.max(0), abs=2e-3)
        calib = dict(line.split(": ", 1) for line in (kdir / "calib" / f"{stem}.txt").read_text().splitlines())
        p2 = np.array(calib["P2"].split(), dtype=float).reshape(3, 4)
        np.testing.assert_allclose(p2, np.hstack([np.asarray(K), np.zeros((3, 1))]))
        assert set(calib) >= {"P0", "P1", "P2", "P3", "R0_rect", "Tr_velo_to_cam"}
        assert (kdir / "image_2" / f"{stem}.png").is_file()
    assert counts["objects"] == 2 * 2
    with pytest.raises(DatasetError, match="3x3"):
        calib_text([[1.0, 0.0], [0.0, 1.0]])


# ---------------------------------------------------------------------------------------------- BOP


def test_write_bop_keys_and_units(tmp_path: Path) -> None:
    root = make_shard(tmp_path / "s", n_frames=2)
    write_bop(root)
    sdir = root / "bop/train_pbr/000000"
    cams = load_json(sdir / "scene_camera.json")
    gts = load_json(sdir / "scene_gt.json")
    infos = load_json(sdir / "scene_gt_info.json")
    coco = coco_of(root)
    for frame in frames_of(root):
        im = str(frame["frame_id"])
        assert set(cams[im]) == {"cam_K", "depth_scale", "cam_R_w2c", "cam_t_w2c"}
        assert cams[im]["cam_K"] == pytest.approx(np.asarray(K).ravel().tolist())
        labelled = [o for o in frame["objects"] if o["category_id"]]
        assert len(gts[im]) == len(infos[im]) == len(labelled)
        for gt_idx, (gt, info, obj) in enumerate(zip(gts[im], infos[im], labelled, strict=True)):
            assert set(gt) == {"cam_R_m2c", "cam_t_m2c", "obj_id"}
            assert set(info) >= {"bbox_obj", "bbox_visib", "px_count_visib", "visib_fract"}
            pose = np.asarray(obj["pose_cam"])
            assert gt["cam_t_m2c"] == pytest.approx((pose[:3, 3] * 1000.0).tolist())  # millimetres
            assert gt["cam_R_m2c"] == pytest.approx(pose[:3, :3].ravel().tolist())
            assert gt["obj_id"] == obj["category_id"]
            ann = [
                a
                for a in coco["annotations"]
                if a["image_id"] == frame["frame_id"] and a["instance_id"] == obj["instance_id"]
            ]
            assert info["px_count_visib"] == (ann[0]["area"] if ann else 0)
            assert info["bbox_visib"] == (ann[0]["bbox"] if ann else [-1, -1, -1, -1])
            assert info["visib_fract"] == pytest.approx(info["px_count_visib"] / obj["unoccluded_pixels"])
            m = cv2.imread(str(sdir / "mask_visib" / f"{int(im):06d}_{gt_idx:06d}.png"), cv2.IMREAD_UNCHANGED)
            assert int((m > 0).sum()) == info["px_count_visib"]
        depth_png = cv2.imread(str(sdir / "depth" / f"{int(im):06d}.png"), cv2.IMREAD_UNCHANGED)
        depth_m = np.load(root / frame["files"]["depth"])
        np.testing.assert_allclose(depth_png * cams[im]["depth_scale"], depth_m * 1000.0, atol=0.5)
    assert load_json(root / "bop/camera.json")["fx"] == K[0][0]


# --------------------------------------------------------------------------------------------- card


def test_dataset_card_files_and_counts(tmp_path: Path) -> None:
    root = make_shard(tmp_path / "s", n_frames=3, seed=7)
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "assets": [
                    {
                        "id": "proc-cone",
                        "class": "traffic_cone",
                        "licence": "CC-BY-4.0",
                        "source": "made here",
                    }
                ]
            }
        )
    )
    paths = write_card(root, assets_manifest=manifest)
    plots = ("box_size_plot", "visibility_plot", "distance_plot", "box_height_plot", "contact_sheet")
    for key in ("markdown", "json", *plots):
        assert paths[key].is_file()
    for key in plots:
        img = cv2.imread(str(paths[key]))
        assert img is not None and img.shape[0] > 10 and img.shape[1] > 10
    card = load_json(root / "dataset_card.json")
    coco, frames = coco_of(root), frames_of(root)
    names = {c["id"]: c["name"] for c in CATEGORIES}
    for cid, name in names.items():
        anns = [a for a in coco["annotations"] if a["category_id"] == cid]
        assert card["counts"]["per_class"][name]["annotations"] == len(anns)
        assert card["counts"]["per_class"][name]["images"] == len({a["image_id"] for a in anns})
    for value in ("fog", "clear"):
        n = sum(f["conditions"]["weather"] == value for f in frames)
        assert card["counts"]["per_condition"]["weather"][value]["frames"] == n
    assert card["validation"]["ok"] is True
    assert card["seeds"]["config"] == {"seed": 7}
    assert card["generator"]["version"] == simvision.__version__
    assert card["config"]["num_frames"] == 3
    licences = {a["asset"]: a["licence"] for a in card["assets"]}
    assert licences["mesh-car"] == "CC0-1.0" and licences["proc-cone"] == "CC-BY-4.0"
    assert licences["procedural:torus"] == "unknown"
    assert sum(card["histograms"]["visible_fraction"]["counts"]["traffic_cone"]) == 3
    md = (root / "dataset_card.md").read_text()
    assert all(name in md for name in names.values()) and "## Validation" in md
    # distances against the configured target (the car's, from config.yaml)
    car_d = [o["distance_m"]["euclidean"] for f in frames for o in f["objects"] if o.get("class_name") == "car"]
    assert card["distance_m"]["car"]["n"] == len(car_d)
    assert card["distance_m"]["car"]["median"] == pytest.approx(float(np.median(car_d)), abs=1e-3)
    assert card["distance_m"]["car"]["target"] == {"p10": 10.0, "median": 26.0, "p90": 52.0}
    assert "distance_hist.png" in md and "target median" in md and "box_height_hist.png" in md


def test_dataset_card_embeds_violations(tmp_path: Path) -> None:
    root = make_shard(tmp_path / "s", n_frames=2)
    INJECTIONS["nan_depth"][0](root)
    write_card(root, assets_manifest=None, contact_sheet_frames=1)
    card = load_json(root / "dataset_card.json")
    assert card["validation"]["ok"] is False
    assert card["validation"]["violations_by_kind"] == {"depth_nonfinite": 1}
    assert "depth_nonfinite" in (root / "dataset_card.md").read_text()


# ------------------------------------------------------------------------------- preview and atomic


def test_draw_labels_and_contact_sheet() -> None:
    rgb = np.zeros((H, W, 3), np.uint8)
    mask = np.zeros((H, W), bool)
    mask[20:30, 10:30] = True
    ann = {"category_id": 10, "bbox": tight(mask), "segmentation": rle(mask)}
    out = draw_labels(rgb, [ann], CATEGORIES)
    assert out.shape == rgb.shape and not rgb.any()  # input untouched
    assert tuple(out[29, 20]) == category_color(10)  # bottom edge of the box / mask outline
    assert not out[25, 20].any()  # inside stays clear
    big = draw_labels(rgb, [ann], CATEGORIES, upscale=3)
    assert big.shape == (3 * H, 3 * W, 3)
    assert tuple(big[89, 60]) == category_color(10) and not big[75, 60].any()
    sheet = contact_sheet([out] * 5, cols=2, pad=3)
    assert sheet.shape == (3 * H + 4 * 3, 2 * W + 3 * 3, 3)


def test_atomic_write_keeps_old_file_on_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    atomic_write_json(path, {"a": 1})
    with pytest.raises(ValueError):
        atomic_write_json(path, {"a": float("nan")})
    assert load_json(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
