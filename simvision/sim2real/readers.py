"""Readers that turn labelled image sets (COCO, simvision, YOLO, KITTI, plain folders) into one record type.

Every downstream step (detector datasets, per-class crops for the gap metrics, condition breakdowns)
works on ``LabelledImage`` lists, so supporting a new format means one reader here, nothing else.
Class names are kept as the source spells them; mapping to model classes is ``classes.ClassMapping``'s job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

__all__ = [
    "FORMATS",
    "IMAGE_SUFFIXES",
    "LabelledImage",
    "detect_format",
    "read_coco",
    "read_dataset",
    "read_folder",
    "read_kitti",
    "read_simvision",
    "read_yolo",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
FORMATS = ("auto", "coco", "simvision", "yolo", "kitti", "folder")
_NAME_FILES = ("data.yaml", "dataset.yaml", "config.yaml")


@dataclass
class LabelledImage:
    """One image with its boxes (xyxy pixels) and the class names the source uses."""

    path: Path
    image_id: int
    width: int
    height: int
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    labels: list[str] = field(default_factory=list)
    segmentations: list[Any] | None = None  # COCO RLE / polygons per box when the source has them
    conditions: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        if len(self.labels) != len(self.boxes):
            raise ValueError(f"{self.path}: {len(self.boxes)} boxes but {len(self.labels)} labels")


def _image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:  # reads the header only
        return im.size


def _list_images(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _valid(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])


def read_coco(annotation_file: str | Path, image_root: str | Path | None = None) -> list[LabelledImage]:
    """COCO detection JSON. ``image_root`` defaults to whichever of the JSON's folder or its parent holds
    the first image (simvision writes ``file_name`` relative to the dataset root, COCO to an image dir)."""
    annotation_file = Path(annotation_file)
    data = json.loads(annotation_file.read_text())
    images = data.get("images", [])
    if image_root is None:
        candidates = [annotation_file.parent, annotation_file.parent.parent, annotation_file.parent / "images"]
        first = images[0]["file_name"] if images else ""
        image_root = next((c for c in candidates if (c / first).is_file()), annotation_file.parent)
    root = Path(image_root)
    names = {c["id"]: c["name"] for c in data.get("categories", [])}
    per_image: dict[int, list[dict[str, Any]]] = {}
    for ann in data.get("annotations", []):
        per_image.setdefault(ann["image_id"], []).append(ann)
    records = []
    for im in images:
        anns = [a for a in per_image.get(im["id"], []) if not a.get("iscrowd", 0)]
        xywh = np.asarray([a["bbox"] for a in anns], np.float32).reshape(-1, 4)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1)
        keep = _valid(boxes)
        segs = [a.get("segmentation") for a, k in zip(anns, keep, strict=True) if k]
        records.append(
            LabelledImage(
                path=root / im["file_name"],
                image_id=int(im["id"]),
                width=int(im["width"]),
                height=int(im["height"]),
                boxes=boxes[keep],
                labels=[names[a["category_id"]] for a, k in zip(anns, keep, strict=True) if k],
                segmentations=segs if segs and all(s for s in segs) else None,
                conditions=dict(im.get("conditions") or {}),
            )
        )
    return records


def read_simvision(output_dir: str | Path) -> list[LabelledImage]:
    """A simvision dataset folder (docs/dataset_format.md): COCO labels plus per-frame ``conditions``,
    taken from the COCO image entries and completed from ``metadata/frames.jsonl``."""
    root = Path(output_dir)
    records = read_coco(root / "annotations" / "instances.json", root)
    frames = root / "metadata" / "frames.jsonl"
    if frames.is_file():
        conditions: dict[int, dict[str, Any]] = {}
        for line in frames.read_text().splitlines():
            if line.strip():
                frame = json.loads(line)
                conditions[int(frame["frame_id"])] = dict(frame.get("conditions") or {})
        for r in records:
            r.conditions = {**conditions.get(r.image_id, {}), **r.conditions}
    return records


def _load_names(names: Sequence[str] | Mapping[int, str] | str | Path | None, search: Iterable[Path]) -> dict[int, str]:
    if names is None:
        for folder in search:
            for fname in _NAME_FILES:
                if (folder / fname).is_file():
                    return _load_names(folder / fname, [])
        return {}
    if isinstance(names, str | Path):
        loaded = yaml.safe_load(Path(names).read_text())
        return _load_names(loaded["names"] if isinstance(loaded, dict) and "names" in loaded else loaded, [])
    if isinstance(names, Mapping):
        return {int(k): str(v) for k, v in names.items()}
    return dict(enumerate(str(n) for n in names))


def _yolo_label_path(image: Path, images_root: Path, labels_root: Path | None) -> Path:
    if labels_root is not None:
        return (labels_root / image.relative_to(images_root)).with_suffix(".txt")
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):  # YOLO convention: the last 'images' folder becomes 'labels'
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def read_yolo(
    images: str | Path,
    labels: str | Path | None = None,
    names: Sequence[str] | Mapping[int, str] | str | Path | None = None,
) -> list[LabelledImage]:
    """YOLO txt labels (``class cx cy w h``, normalised). Images are found recursively under ``images``;
    labels sit at the same relative path under ``labels`` or, by default, in the sibling 'labels' folder.
    Class names come from ``names`` (list, dict or a data.yaml) or a data.yaml/config.yaml found nearby."""
    images_root = Path(images)
    labels_root = Path(labels) if labels else None
    search = [images_root, images_root.parent, images_root.parent.parent]
    if labels_root is not None:
        search += [labels_root, labels_root.parent, labels_root.parent.parent]
    id_to_name = _load_names(names, search)
    records = []
    for i, path in enumerate(_list_images(images_root)):
        w, h = _image_size(path)
        label_file = _yolo_label_path(path, images_root, labels_root)
        rows = []
        if label_file.is_file():
            rows = [ln.split() for ln in label_file.read_text().splitlines() if ln.strip()]
        rows = [r for r in rows if len(r) == 5]  # polygon rows (segmentation) are not boxes
        arr = np.asarray([[float(v) for v in r[1:]] for r in rows], np.float32).reshape(-1, 4)
        cx, cy, bw, bh = arr[:, 0] * w, arr[:, 1] * h, arr[:, 2] * w, arr[:, 3] * h
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1).clip(0, [w, h, w, h])
        keep = _valid(boxes)
        labels_ = [id_to_name.get(int(r[0]), r[0]) for r, k in zip(rows, keep, strict=True) if k]
        records.append(LabelledImage(path, i, w, h, boxes[keep], labels_))
    return records


def read_kitti(images: str | Path, labels: str | Path | None = None) -> list[LabelledImage]:
    """KITTI object labels (``type trunc occ alpha left top right bottom ...``); 'DontCare' regions are
    dropped. ``images`` is ``.../image_2`` (or its parent), labels default to the sibling ``label_2``."""
    images_root = Path(images)
    if (images_root / "image_2").is_dir():
        images_root = images_root / "image_2"
    labels_root = Path(labels) if labels else images_root.parent / "label_2"
    records = []
    for i, path in enumerate(_list_images(images_root)):
        w, h = _image_size(path)
        label_file = labels_root / f"{path.stem}.txt"
        boxes, names = [], []
        if label_file.is_file():
            for line in label_file.read_text().splitlines():
                parts = line.split()
                if len(parts) < 8 or parts[0] == "DontCare":
                    continue
                boxes.append([float(v) for v in parts[4:8]])
                names.append(parts[0])
        arr = np.asarray(boxes, np.float32).reshape(-1, 4)
        keep = _valid(arr)
        records.append(LabelledImage(path, i, w, h, arr[keep], [n for n, k in zip(names, keep, strict=True) if k]))
    return records


def read_folder(images: str | Path) -> list[LabelledImage]:
    """Unlabelled images found recursively (whole-image metrics only)."""
    records = []
    for i, path in enumerate(_list_images(Path(images))):
        w, h = _image_size(path)
        records.append(LabelledImage(path, i, w, h))
    return records


def detect_format(path: str | Path) -> str:
    """Guess a format from the layout on disk; explicit ``format=`` always wins over this."""
    p = Path(path)
    if p.is_file() and p.suffix == ".json":
        return "coco"
    if (p / "annotations" / "instances.json").is_file():
        return "simvision"
    if (p / "image_2").is_dir() or (p.name == "image_2" and (p.parent / "label_2").is_dir()):
        return "kitti"
    if p.is_dir() and any(d.name == "labels" for d in p.rglob("labels") if d.is_dir()):
        return "yolo"
    return "folder"


def read_dataset(
    path: str | Path,
    format: str = "auto",
    *,
    labels: str | Path | None = None,
    names: Sequence[str] | Mapping[int, str] | str | Path | None = None,
    annotations: str | Path | None = None,
) -> list[LabelledImage]:
    """Dispatch on ``format`` (or detect it). For COCO, ``path`` is the JSON or the image root with
    ``annotations`` pointing at the JSON."""
    fmt = detect_format(annotations or path) if format == "auto" else format
    if fmt == "coco":
        if annotations:
            return read_coco(annotations, path)
        return read_coco(path)
    if fmt == "simvision":
        return read_simvision(path)
    if fmt == "yolo":
        return read_yolo(path, labels, names)
    if fmt == "kitti":
        return read_kitti(path, labels)
    if fmt == "folder":
        return read_folder(path)
    raise ValueError(f"unknown dataset format {fmt!r}; choose one of {FORMATS}")
