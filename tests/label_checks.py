"""Checks shared by the tests that render real frames: every COCO annotation agrees with the rendered pass; the
room's recorded scenery as footprint rectangles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np


def assert_annotations_match_instance_maps(dataset: Path, coco: Any, anns: list[dict[str, Any]]) -> None:
    """Each annotation's mask is exactly its instance's pixels, its box the mask's tight box, and its
    visible fraction in (0, 1]; ``coco`` is a pycocotools COCO of ``dataset``'s instances.json."""
    for ann in anns:
        image = coco.loadImgs(ann["image_id"])[0]
        inst = cv2.imread(str(dataset / "instance" / Path(image["file_name"]).name), cv2.IMREAD_UNCHANGED)
        mask = coco.annToMask(ann).astype(bool)
        assert (mask == (inst == ann["instance_id"])).all()
        ys, xs = np.nonzero(mask)
        assert ann["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
        assert 0 < ann["visible_fraction"] <= 1


def scenery_rect(piece: dict) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) xy corners of a recorded piece of the room's scenery (``background.infinigen_*`` in frames.jsonl:
    location, size, rotation_euler), turned by its yaw (a multiple of 90 degrees)."""
    depth, width = piece["size"][:2]
    turned = abs(np.sin(piece["rotation_euler"][2])) > 0.5
    half = np.array([width, depth] if turned else [depth, width]) / 2
    centre = np.array(piece["location"][:2])
    return centre - half, centre + half
