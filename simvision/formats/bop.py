"""BOP-format scene folders (https://github.com/thodan/bop_toolkit, docs/bop_datasets_format.md).

Layout written (``out_dir`` defaults to ``<root>/bop``)::

    camera.json                               intrinsics of the first frame (per-image K is in scene_camera)
    {split}/{scene_id:06d}/rgb/{im_id:06d}.png         hard links to images/
    {split}/{scene_id:06d}/depth/{im_id:06d}.png       uint16 millimetres (depth_mm/), depth_scale = 1.0
    {split}/{scene_id:06d}/mask/{im_id:06d}_{gt:06d}.png         amodal mask, 0/255 (with output.amodal)
    {split}/{scene_id:06d}/mask_visib/{im_id:06d}_{gt:06d}.png   visible mask, 0/255
    {split}/{scene_id:06d}/scene_camera.json  cam_K, depth_scale, cam_R_w2c, cam_t_w2c (mm)
    {split}/{scene_id:06d}/scene_gt.json      cam_R_m2c, cam_t_m2c (mm), obj_id
    {split}/{scene_id:06d}/scene_gt_info.json bbox_obj, bbox_visib, px_count_*, visib_fract

Mapping choices: ``im_id`` is the dataset's ``frame_id`` (traceable back to every other file) and
``scene_id = frame_id // images_per_scene`` (BOP's PBR sets hold 1000 images per scene). ``obj_id``
is the object's ``category_id``: procedural objects have no shared CAD model, so the class is the
only stable object identity; distractors (category 0) are left out. Every labelled object of a
frame is a GT entry, visible or not (BOP keeps fully occluded objects with ``visib_fract`` 0).
Visible masks are the COCO RLEs (matched by ``instance_id``), so no instance pass is needed.
``px_count_all`` and ``px_count_valid`` both equal the object's ``unoccluded_pixels`` (every rendered
surface pixel has depth). When the dataset records amodal masks (``amodal_segmentation`` of each object
in ``frames.jsonl``, output.amodal), they become BOP's ``mask/`` (the object's silhouette, occluders
ignored, clipped to the image) and ``bbox_obj`` is their tight box, as BOP defines it; without them no
``mask/`` is written and ``bbox_obj`` is the metadata's ``amodal_bbox`` (projected 3D box clipped to the
image, a slight over-estimate of the silhouette box).

Reading back (``read_bop``) gives each image's visible boxes (``bbox_visib``) named through the class
table of the dataset the BOP folder was written from (``obj_id`` is the COCO category id).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from simvision.formats.base import (
    ClassNames,
    LabelFormat,
    LabelledImage,
    image_size,
    load_class_names,
    valid_boxes,
    xyxy_from_xywh,
)
from simvision.formats.registry import register
from simvision.io.atomic import atomic_write_bytes, atomic_write_json
from simvision.io.folder import (
    COCO_PATH,
    FRAMES_PATH,
    DatasetError,
    frame_files,
    frame_path,
    link_or_copy,
    load_coco,
    load_frames,
    path_inside,
)
from simvision.labels.rle import decode_rle

__all__ = [
    "BopFormat",
    "DEPTH_SCALE",
    "scene_camera_entry",
    "scene_gt_entry",
    "scene_gt_info_entry",
    "write_bop",
    "read_bop",
]

# depth PNGs are in millimetres already: BOP's depth_scale multiplies the PNG to get millimetres
DEPTH_SCALE = 1.0
_NO_BOX = [-1, -1, -1, -1]


def _box(b: Any) -> list[int]:
    return [int(round(float(v))) for v in b] if b is not None else list(_NO_BOX)


def scene_camera_entry(camera: dict[str, Any]) -> dict[str, Any]:
    """``scene_camera.json`` entry: K row-major, depth scale, world->camera rotation and mm translation."""
    k = np.asarray(camera["K"], dtype=np.float64).reshape(3, 3)
    entry: dict[str, Any] = {"cam_K": k.reshape(-1).tolist(), "depth_scale": DEPTH_SCALE}
    if camera.get("world_to_cam") is not None:
        w2c = np.asarray(camera["world_to_cam"], dtype=np.float64).reshape(4, 4)
        entry["cam_R_w2c"] = w2c[:3, :3].reshape(-1).tolist()
        entry["cam_t_w2c"] = (w2c[:3, 3] * 1000.0).tolist()
    return entry


def scene_gt_entry(obj: dict[str, Any]) -> dict[str, Any]:
    """``scene_gt.json`` entry: model->camera rotation (row-major), translation in mm, obj_id."""
    pose = np.asarray(obj["pose_cam"], dtype=np.float64).reshape(4, 4)
    return {
        "cam_R_m2c": pose[:3, :3].reshape(-1).tolist(),
        "cam_t_m2c": (pose[:3, 3] * 1000.0).tolist(),
        "obj_id": int(obj["category_id"]),
    }


def _mask_box(mask: np.ndarray) -> list[int]:
    if not mask.any():
        return list(_NO_BOX)
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    return [x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1]


def scene_gt_info_entry(
    obj: dict[str, Any], visible_mask: np.ndarray, amodal_mask: np.ndarray | None = None
) -> dict[str, Any]:
    """``scene_gt_info.json`` entry; visible counts and box come from the visible mask itself, ``bbox_obj``
    from the amodal mask when there is one."""
    px_visib = int(np.count_nonzero(visible_mask))
    bbox_visib = _mask_box(visible_mask)
    px_all = int(obj.get("unoccluded_pixels") or px_visib)
    return {
        "bbox_obj": _box(obj.get("amodal_bbox")) if amodal_mask is None else _mask_box(amodal_mask),
        "bbox_visib": bbox_visib,
        "px_count_all": px_all,
        "px_count_valid": px_all,
        "px_count_visib": px_visib,
        "visib_fract": float(px_visib / px_all) if px_all > 0 else 0.0,
    }


def write_bop(
    root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    split: str = "train_pbr",
    images_per_scene: int = 1000,
) -> dict[str, int]:
    """Write the dataset at ``root`` as BOP scene folders; returns counts of frames, scenes, GT entries."""
    root = Path(root)
    out = Path(out_dir) if out_dir is not None else root / "bop"
    frames = sorted(load_frames(root), key=lambda f: int(f["frame_id"]))
    coco = load_coco(root)
    images = {int(img["id"]): img for img in coco["images"]}
    masks_rle = {
        (int(a["image_id"]), int(a["instance_id"])): a["segmentation"]
        for a in coco["annotations"]
        if a.get("instance_id") is not None
    }
    sources: dict[int, tuple[Path, Path]] = {}  # frame -> (rgb, depth file)
    for frame in frames:
        fid = int(frame["frame_id"])
        if fid not in images:
            raise DatasetError(f"{root / FRAMES_PATH}: frame {fid} has no COCO image")
        if "camera" not in frame or "K" not in frame["camera"]:
            raise DatasetError(f"{root / FRAMES_PATH}: frame {fid}: camera K missing")
        files = frame_files(root, frame)
        rgb = path_inside(root, images[fid]["file_name"], f"{root / COCO_PATH}: image {fid} file_name")
        depth = files.get("depth_mm") if files.get("depth_mm", Path()).is_file() else files.get("depth")
        depth = depth or path_inside(root, frame_path("", "depth", fid), f"{root / FRAMES_PATH}: frame {fid} depth")
        for path in (rgb, depth):
            if not path.is_file():
                raise DatasetError(f"{path}: file not found (frame {fid})")
        sources[fid] = (rgb, depth)

    scenes: dict[int, dict[str, dict[str, Any]]] = {}
    n_gt = 0
    for frame in frames:
        fid = int(frame["frame_id"])
        scene_id, im_id = fid // images_per_scene, fid
        sdir = out / split / f"{scene_id:06d}"
        s = scenes.setdefault(scene_id, {"camera": {}, "gt": {}, "info": {}})
        rgb, depth_src = sources[fid]
        link_or_copy(rgb, sdir / "rgb" / f"{im_id:06d}{rgb.suffix}")
        if depth_src.suffix == ".png":
            link_or_copy(depth_src, sdir / "depth" / f"{im_id:06d}.png")
        else:
            depth = np.load(depth_src)
            mm = np.clip(np.nan_to_num(depth * 1000.0), 0, 65535).round().astype(np.uint16)
            atomic_write_bytes(sdir / "depth" / f"{im_id:06d}.png", cv2.imencode(".png", mm)[1].tobytes())
        shape = (int(images[fid]["height"]), int(images[fid]["width"]))
        gts, infos = [], []
        for obj in frame.get("objects", []):
            if int(obj.get("category_id") or 0) == 0:
                continue
            try:
                rle = masks_rle.get((fid, int(obj["instance_id"])))
                mask = decode_rle(rle) if rle is not None else np.zeros(shape, dtype=bool)
                amodal = None
                if "amodal_segmentation" in obj:  # null: no part of the silhouette inside the image
                    seg = obj["amodal_segmentation"]
                    amodal = decode_rle(seg) if seg is not None else np.zeros(shape, dtype=bool)
                    if amodal.shape != shape:
                        raise ValueError(f"amodal_segmentation size {list(amodal.shape)} != {list(shape)}")
                gts.append(scene_gt_entry(obj))
                infos.append(scene_gt_info_entry(obj, mask, amodal))
            except (KeyError, TypeError, ValueError) as exc:
                raise DatasetError(
                    f"frame {fid} instance {obj.get('instance_id')}: bad or missing field {exc}"
                ) from None
            name = f"{im_id:06d}_{len(gts) - 1:06d}.png"
            png = cv2.imencode(".png", mask.astype(np.uint8) * 255)[1].tobytes()
            atomic_write_bytes(sdir / "mask_visib" / name, png)
            if amodal is not None:
                atomic_write_bytes(
                    sdir / "mask" / name, cv2.imencode(".png", amodal.astype(np.uint8) * 255)[1].tobytes()
                )
        s["camera"][str(im_id)] = scene_camera_entry(frame["camera"])
        s["gt"][str(im_id)] = gts
        s["info"][str(im_id)] = infos
        n_gt += len(gts)
    for scene_id, s in scenes.items():
        sdir = out / split / f"{scene_id:06d}"
        atomic_write_json(sdir / "scene_camera.json", s["camera"], indent=1)
        atomic_write_json(sdir / "scene_gt.json", s["gt"], indent=1)
        atomic_write_json(sdir / "scene_gt_info.json", s["info"], indent=1)
    if frames:
        cam = frames[0]["camera"]
        k = np.asarray(cam["K"], dtype=np.float64).reshape(3, 3)
        atomic_write_json(
            out / "camera.json",
            {
                "cx": float(k[0, 2]),
                "cy": float(k[1, 2]),
                "fx": float(k[0, 0]),
                "fy": float(k[1, 1]),
                "width": int(cam.get("width", 0)),
                "height": int(cam.get("height", 0)),
                "depth_scale": DEPTH_SCALE,
            },
            indent=1,
        )
    return {"frames": len(frames), "scenes": len(scenes), "gt": n_gt}


def _class_table(bop_dir: Path) -> dict[int, str]:
    """obj_id -> class name from the COCO categories of the dataset folder holding ``bop_dir``, if any."""
    here = bop_dir.resolve()
    for folder in [here, *list(here.parents)[:3]]:  # a scene folder is three levels below the dataset
        if (folder / COCO_PATH).is_file():
            return {int(c["id"]): str(c["name"]) for c in load_coco(folder)["categories"]}
    return {}


def read_bop(path: str | os.PathLike[str], names: ClassNames = None) -> list[LabelledImage]:
    """Visible boxes of every scene under ``path`` (a BOP dataset, one split or one scene folder).

    One record per image of each ``scene_gt.json``, boxes from ``scene_gt_info.json``'s ``bbox_visib``
    (objects without a visible pixel are skipped). Labels: ``names`` (obj_id -> name, as for YOLO), else
    the class table of the simvision dataset around ``path``, else the obj_id as text.
    """
    root = Path(path)
    id_to_name = load_class_names(names, []) if names is not None else _class_table(root)
    records = []

    def inside(found: Path) -> Path:  # a symlink out of the BOP folder is refused, never read
        return path_inside(root, found.relative_to(root), str(root))

    for gt_file in sorted(root.rglob("scene_gt.json")):
        scene = gt_file.parent
        gts = json.loads(inside(gt_file).read_text())
        infos = json.loads(inside(scene / "scene_gt_info.json").read_text())
        for im_id in sorted(gts, key=int):
            rgb = next(iter(sorted(scene.glob(f"rgb/{int(im_id):06d}.*"))), None)
            if rgb is None:
                raise DatasetError(f"{scene / 'rgb'}: no image for im_id {im_id}")
            rgb = inside(rgb)
            w, h = image_size(rgb)
            xywh = np.asarray([info["bbox_visib"] for info in infos[im_id]], np.float32).reshape(-1, 4)
            boxes = xyxy_from_xywh(xywh)
            keep = valid_boxes(boxes)  # hidden objects have bbox_visib [-1, -1, -1, -1]
            obj_ids = [int(gt["obj_id"]) for gt, k in zip(gts[im_id], keep, strict=True) if k]
            labels = [id_to_name.get(i, str(i)) for i in obj_ids]
            records.append(LabelledImage(rgb, len(records), w, h, boxes[keep], labels))
    return records


class BopFormat(LabelFormat):
    """BOP scene folders (``camera.json``, ``{split}/{scene}/scene_gt*.json``); ``path`` is the dataset root."""

    name = "bop"

    def write(self, root: str | os.PathLike[str]) -> dict[str, int]:
        return write_bop(root)

    def read(self, path: str | Path, *, names: ClassNames = None, **_: Any) -> list[LabelledImage]:
        return read_bop(path, names)

    def detect(self, path: str | Path) -> bool:
        p = Path(path)
        return (p / "camera.json").is_file() and any(p.glob("*/*/scene_gt.json"))


register(BopFormat())
