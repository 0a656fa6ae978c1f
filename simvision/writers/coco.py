"""COCO detection + instance segmentation writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simvision.io.atomic import atomic_write_json


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
