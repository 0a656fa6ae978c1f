"""YOLO detection and segmentation labels (Ultralytics layout): written from a dataset folder, read back as boxes.

Class index = position of the category in the class table sorted by COCO id, so indices are the
same for every shard and every merged dataset made from one class table.

Layout written (``out_dir`` defaults to the dataset folder itself, whose ``images/`` YOLO then finds):

- detection:    ``labels/{frame}.txt``  lines ``class x_c y_c w h`` (normalised to 0..1) + ``data.yaml``
- segmentation: ``yolo_seg/images/`` (hard links), ``yolo_seg/labels/{frame}.txt`` lines
  ``class x1 y1 x2 y2 ...`` + ``yolo_seg/data.yaml``; it lives in its own folder because Ultralytics
  finds labels by replacing ``images`` with ``labels`` in the image path.

Frames without annotations get an empty label file (a background image, not a missing label).
The reader takes any YOLO set (detection rows only: polygon rows are skipped).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from simvision.formats.base import (
    ClassNames,
    LabelFormat,
    LabelledImage,
    image_size,
    list_images,
    load_class_names,
    valid_boxes,
)
from simvision.formats.registry import register
from simvision.io.atomic import atomic_write_text
from simvision.io.folder import (
    COCO_PATH,
    DatasetError,
    annotations_by_image,
    frame_stem,
    link_or_copy,
    load_coco,
    path_inside,
    sorted_categories,
)
from simvision.labels.rle import decode_rle

__all__ = [
    "YoloFormat",
    "yolo_class_index",
    "coco_bbox_to_yolo",
    "yolo_to_coco_bbox",
    "mask_to_polygon",
    "detection_lines",
    "segmentation_lines",
    "data_yaml",
    "write_yolo",
    "read_yolo",
]


def yolo_class_index(categories: Sequence[dict[str, Any]]) -> dict[int, int]:
    """COCO category id -> YOLO class index (position in the id-sorted class table)."""
    return {int(c["id"]): i for i, c in enumerate(sorted_categories(categories))}


def coco_bbox_to_yolo(bbox: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    """COCO ``[x, y, w, h]`` (pixels, top-left) -> YOLO ``(x_c, y_c, w, h)`` normalised to the image."""
    x, y, w, h = (float(v) for v in bbox)
    return ((x + w / 2) / width, (y + h / 2) / height, w / width, h / height)


def yolo_to_coco_bbox(box: Sequence[float], width: int, height: int) -> list[float]:
    """Inverse of ``coco_bbox_to_yolo``."""
    xc, yc, w, h = (float(v) for v in box)
    return [(xc - w / 2) * width, (yc - h / 2) * height, w * width, h * height]


def _bridge_order(parts: list[np.ndarray]) -> list[tuple[int, int, int]]:
    """Greedy chain over parts: (part, exit index in previous part, entry index in part)."""
    order: list[tuple[int, int, int]] = []
    remaining = list(range(1, len(parts)))
    current = 0
    while remaining:
        best: tuple[float, int, int, int] | None = None
        for j in remaining:
            d = ((parts[current][:, None, :] - parts[j][None, :, :]) ** 2).sum(-1)
            ia, ib = (int(v) for v in np.unravel_index(int(np.argmin(d)), d.shape))
            if best is None or d[ia, ib] < best[0]:
                best = (float(d[ia, ib]), j, ia, ib)
        assert best is not None
        _, nxt, exit_idx, entry_idx = best
        order.append((nxt, exit_idx, entry_idx))
        remaining.remove(nxt)
        current = nxt
    return order


def mask_to_polygon(mask: np.ndarray, min_area: float = 1.0) -> np.ndarray:
    """One polygon (Nx2, pixel units) tracing every part of a mask.

    YOLO allows one polygon per object, so parts split by an occluder are joined: parts are ordered
    largest first, then greedily by nearest neighbour, and each is spliced into the previous one
    through a zero-width bridge between their closest vertices (walk over, trace the part, walk
    back). Filling the result reproduces all parts; holes are not represented (outer contours only).
    Vertices are centres of boundary pixels in continuous coordinates (pixel ``i`` spans
    ``[i, i+1)``, hence the ``+0.5``). Parts smaller than ``min_area`` (contour area) are dropped
    unless nothing else is left. Returns an empty ``(0, 2)`` array for an empty mask.
    """
    m = np.ascontiguousarray(mask.astype(np.uint8))
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    parts = [c.reshape(-1, 2).astype(np.float64) for c in contours if len(c) > 0]
    if not parts:
        return np.zeros((0, 2), dtype=np.float64)
    areas = [cv2.contourArea(p.astype(np.float32)) for p in parts]
    keep = [p for p, a in zip(parts, areas, strict=True) if a >= min_area]
    if keep:
        keep_areas = [a for a in areas if a >= min_area]
        parts = [p for _, p in sorted(zip(keep_areas, keep, strict=True), key=lambda t: -t[0])]
    else:  # only specks: keep the one with most vertices so a 1-pixel object still has a polygon
        parts = [max(parts, key=len)]
    if len(parts) == 1:
        return parts[0] + 0.5
    # trace part k from its entry vertex; at its exit vertex detour through part k+1 and come back
    chain = _bridge_order(parts)
    entries = [0] + [b for _, _, b in chain]
    exits = [a for _, a, _ in chain] + [None]
    seq = [0] + [j for j, _, _ in chain]

    head: list[np.ndarray] = []
    tail: list[np.ndarray] = []
    for k, part_id in enumerate(seq):
        part = parts[part_id]
        n = len(part)
        rolled = [part[(entries[k] + i) % n] for i in range(n)] + [part[entries[k]]]
        exit_idx = exits[k]
        if exit_idx is None:
            head += rolled
            break
        pos = (exit_idx - entries[k]) % n
        head += rolled[: pos + 1]
        tail = rolled[pos:] + tail
    return np.asarray(head + tail, dtype=np.float64) + 0.5


def _class_of(ann: dict[str, Any], class_index: dict[int, int]) -> int:
    """YOLO class index of a COCO annotation; a category outside the class table is an error."""
    cid = int(ann["category_id"])
    if cid not in class_index:
        raise DatasetError(f"annotation {ann.get('id')}: category_id {cid} not in the class table")
    return class_index[cid]


def detection_lines(
    annotations: Sequence[dict[str, Any]], class_index: dict[int, int], width: int, height: int
) -> list[str]:
    """YOLO detection label lines for one image's COCO annotations."""
    lines = []
    for ann in annotations:
        cls = _class_of(ann, class_index)
        xc, yc, w, h = coco_bbox_to_yolo(ann["bbox"], width, height)
        lines.append(f"{cls} {xc:.6f} {yc:.6f} {w:.6f} {h:.6f}")
    return lines


def segmentation_lines(
    annotations: Sequence[dict[str, Any]], class_index: dict[int, int], width: int, height: int
) -> list[str]:
    """YOLO segmentation label lines (one joined polygon per annotation, see ``mask_to_polygon``)."""
    lines = []
    for ann in annotations:
        cls = _class_of(ann, class_index)
        poly = mask_to_polygon(decode_rle(ann["segmentation"]))
        if len(poly) < 3:  # a polygon needs three vertices: fall back to the box outline
            x, y, w, h = (float(v) for v in ann["bbox"])
            poly = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
        norm = np.clip(poly / np.array([width, height], dtype=np.float64), 0.0, 1.0)
        coords = " ".join(f"{v:.6f}" for v in norm.reshape(-1))
        lines.append(f"{cls} {coords}")
    return lines


def data_yaml(categories: Sequence[dict[str, Any]], root: str | os.PathLike[str]) -> str:
    """Ultralytics ``data.yaml``: absolute ``path``, train/val = ``images``, names by YOLO index.

    ``category_ids`` (YOLO index -> COCO id) is extra and lets predictions be mapped back to COCO.
    """
    cats = sorted_categories(categories)
    doc = {
        "path": str(Path(root).resolve()),
        "train": "images",
        "val": "images",
        "nc": len(cats),
        "names": {i: str(c["name"]) for i, c in enumerate(cats)},
        "category_ids": {i: int(c["id"]) for i, c in enumerate(cats)},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def write_yolo(
    root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    detection: bool = True,
    segmentation: bool = True,
) -> dict[str, int]:
    """Write YOLO labels for every COCO image of the dataset at ``root``; returns counts written.

    Everything is computed before the first file is written, so an inconsistent COCO file
    (unknown category) leaves no partial label set.
    """
    root = Path(root)
    out = Path(out_dir) if out_dir is not None else root
    coco = load_coco(root)
    index = yolo_class_index(coco["categories"])
    by_image = annotations_by_image(coco)
    det: dict[str, str] = {}
    seg: dict[str, str] = {}
    sources: dict[str, Path] = {}
    for img in coco["images"]:
        anns = by_image.get(int(img["id"]), [])
        w, h = int(img["width"]), int(img["height"])
        stem = Path(img["file_name"]).stem or frame_stem(img["id"])
        if detection:
            det[stem] = "\n".join(detection_lines(anns, index, w, h))
        if segmentation:
            seg[stem] = "\n".join(segmentation_lines(anns, index, w, h))
            sources[stem] = path_inside(root, img["file_name"], f"{root / COCO_PATH}: image {img['id']} file_name")
    for path in sources.values():
        if not path.is_file():
            raise DatasetError(f"{path}: image file not found")
    counts = {"images": len(coco["images"]), "detection_files": 0, "segmentation_files": 0}
    if detection:
        for stem, text in det.items():
            atomic_write_text(out / "labels" / f"{stem}.txt", text + ("\n" if text else ""))
        atomic_write_text(out / "data.yaml", data_yaml(coco["categories"], out))
        counts["detection_files"] = len(det)
    if segmentation:
        seg_root = out / "yolo_seg"
        for stem, text in seg.items():
            src = sources[stem]
            link_or_copy(src, seg_root / "images" / f"{stem}{src.suffix}")
            atomic_write_text(seg_root / "labels" / f"{stem}.txt", text + ("\n" if text else ""))
        atomic_write_text(seg_root / "data.yaml", data_yaml(coco["categories"], seg_root))
        counts["segmentation_files"] = len(seg)
    return counts


def _yolo_label_path(image: Path, images_root: Path, labels_root: Path | None) -> Path:
    """The label file of ``image``, refused (``DatasetError``) when it resolves outside the labels folder's
    parent: ``labels_root`` when given, else the folder holding the 'labels' that replaces 'images'."""
    what = f"label of {image}"
    if labels_root is not None:
        return path_inside(labels_root, image.relative_to(images_root).with_suffix(".txt"), what)
    parts = image.parts
    for i in range(len(parts) - 1, -1, -1):  # YOLO convention: the last 'images' folder becomes 'labels'
        if parts[i] == "images":
            return path_inside(Path(*parts[:i]), Path("labels", *parts[i + 1 :]).with_suffix(".txt"), what)
    return path_inside(images_root, image.relative_to(images_root).with_suffix(".txt"), what)


def read_yolo(
    images: str | Path,
    labels: str | Path | None = None,
    names: ClassNames = None,
) -> list[LabelledImage]:
    """YOLO txt labels (``class cx cy w h``, normalised). Images are found recursively under ``images``;
    labels sit at the same relative path under ``labels`` or, by default, in the sibling 'labels' folder.
    Class names come from ``names`` (list, dict or a data.yaml) or a data.yaml/config.yaml found nearby."""
    images_root = Path(images)
    labels_root = Path(labels) if labels else None
    search = [images_root, images_root.parent, images_root.parent.parent]
    if labels_root is not None:
        search += [labels_root, labels_root.parent, labels_root.parent.parent]
    id_to_name = load_class_names(names, search)
    records = []
    for i, path in enumerate(list_images(images_root)):
        w, h = image_size(path)
        label_file = _yolo_label_path(path, images_root, labels_root)
        rows = []
        if label_file.is_file():
            rows = [ln.split() for ln in label_file.read_text().splitlines() if ln.strip()]
        rows = [r for r in rows if len(r) == 5]  # polygon rows (segmentation) are not boxes
        arr = np.asarray([[float(v) for v in r[1:]] for r in rows], np.float32).reshape(-1, 4)
        cx, cy, bw, bh = arr[:, 0] * w, arr[:, 1] * h, arr[:, 2] * w, arr[:, 3] * h
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1).clip(0, [w, h, w, h])
        keep = valid_boxes(boxes)
        labels_ = [id_to_name.get(int(r[0]), r[0]) for r, k in zip(rows, keep, strict=True) if k]
        records.append(LabelledImage(path, i, w, h, boxes[keep], labels_))
    return records


class YoloFormat(LabelFormat):
    """Ultralytics YOLO: ``labels/`` next to ``images/``; ``path`` is the images folder."""

    name = "yolo"
    detect_order = 1  # any folder holding a ``labels/`` folder matches, simvision datasets included

    def write(self, root: str | os.PathLike[str]) -> dict[str, int]:
        return write_yolo(root)

    def read(
        self, path: str | Path, *, labels: str | Path | None = None, names: ClassNames = None, **_: Any
    ) -> list[LabelledImage]:
        return read_yolo(path, labels, names)

    def detect(self, path: str | Path) -> bool:
        p = Path(path)
        return p.is_dir() and any(d.name == "labels" for d in p.rglob("labels") if d.is_dir())


register(YoloFormat())
