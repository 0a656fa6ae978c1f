"""COCO detection + instance segmentation: the shard's own label format (``annotations/instances.json``).

Export: nothing to do. Every simvision dataset folder already holds its COCO file, written by the
render job (``CocoWriter``) or by ``simvision-merge``; re-writing it would only risk changing the
bytes of the file every other format is derived from, so ``CocoFormat.write`` writes nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from simvision.formats.base import LabelFormat, LabelledImage, valid_boxes, xyxy_from_xywh
from simvision.formats.registry import register
from simvision.io.atomic import atomic_write_json
from simvision.io.folder import path_inside

__all__ = ["CocoFormat", "CocoWriter", "coco_categories", "read_coco"]


def coco_categories(classes: list[Any]) -> list[dict[str, Any]]:
    """COCO ``categories`` from the class table (all classes, so ids mean the same everywhere)."""
    return [
        {"id": int(c.id), "name": str(c.name), "supercategory": str(c.supercategory), "aliases": dict(c.aliases)}
        for c in sorted(classes, key=lambda c: int(c.id))
    ]


class CocoWriter:
    """Collects images and annotations of a shard; assigns annotation ids in frame order."""

    def __init__(self, path: Path, categories: list[dict[str, Any]], info: dict[str, Any]) -> None:
        self.path = path
        self.categories = categories
        self.info = info
        self.images: dict[int, dict[str, Any]] = {}
        self.annotations: dict[int, list[dict[str, Any]]] = {}

    def add(self, image: dict[str, Any], annotations: list[dict[str, Any]]) -> None:
        self.images[image["id"]] = image
        self.annotations[image["id"]] = annotations

    def document(self) -> dict[str, Any]:
        annotations = []
        for image_id in sorted(self.annotations):
            for ann in self.annotations[image_id]:
                annotations.append({"id": len(annotations) + 1, **ann})
        return {
            "info": self.info,
            "licenses": [],
            "images": [self.images[i] for i in sorted(self.images)],
            "annotations": annotations,
            "categories": self.categories,
        }

    def write(self) -> Path:
        return atomic_write_json(self.path, self.document())


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
        boxes = xyxy_from_xywh(xywh)
        keep = valid_boxes(boxes)
        segs = [a.get("segmentation") for a, k in zip(anns, keep, strict=True) if k]
        records.append(
            LabelledImage(
                path=path_inside(root, im["file_name"], f"{annotation_file}: image {im['id']} file_name"),
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


class CocoFormat(LabelFormat):
    """A COCO JSON file; ``path`` is the JSON, or the image root with ``annotations`` naming the JSON."""

    name = "coco"

    def write(self, root: str | os.PathLike[str]) -> dict[str, int]:
        return {}  # the dataset's annotations/instances.json is the COCO export (module docstring)

    def read(self, path: str | Path, *, annotations: str | Path | None = None, **_: Any) -> list[LabelledImage]:
        return read_coco(annotations, path) if annotations else read_coco(path)

    def detect(self, path: str | Path) -> bool:
        p = Path(path)
        return p.is_file() and p.suffix == ".json"


register(CocoFormat())
