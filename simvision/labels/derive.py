"""Per-frame labels from the rendered passes and the scene geometry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simvision.labels.boxes import amodal_box, tight_box, truncation, visible_fraction
from simvision.labels.geometry import box_corners, rasterize_silhouette, transform
from simvision.labels.rle import encode_rle

TRUNCATION_PAD_FRACTION = 0.5  # silhouette canvas extends half an image beyond each border


@dataclass
class ObjectLabel:
    """Labels of one object in one frame (JSON-ready apart from ``mask``)."""

    record: dict[str, Any]
    mask: np.ndarray | None = field(default=None, repr=False)  # visible mask, None if not visible


def label_objects(
    objects: list[Any],
    poses_world: dict[int, np.ndarray],
    instance_map: np.ndarray,
    K: np.ndarray,
    world_to_cam: np.ndarray,
) -> list[ObjectLabel]:
    """Labels for every labelled object (instance_id > 0) of a frame.

    ``objects`` are :class:`simvision.scene.spec.ObjectSpec`; the visible mask is where the
    instance pass equals the object's id; the unoccluded silhouette is the object's triangles
    rasterised alone, so visible_fraction = visible / unoccluded pixels.
    """
    height, width = instance_map.shape
    pad = int(round(TRUNCATION_PAD_FRACTION * max(width, height)))
    labels = []
    for index, obj in enumerate(objects):
        if obj.instance_id <= 0:
            continue
        pose_cam = world_to_cam @ poses_world[index]
        triangles = transform(obj.vertices[obj.faces], pose_cam)
        silhouette = rasterize_silhouette(triangles, K, width, height, pad=pad)
        unoccluded = int(silhouette[pad : pad + height, pad : pad + width].sum())
        mask = instance_map == obj.instance_id
        visible = int(mask.sum())
        lo, hi = obj.vertices.min(axis=0), obj.vertices.max(axis=0)
        center, size = (lo + hi) / 2, hi - lo
        corners_cam = transform(box_corners(center, size), pose_cam)
        centre_cam = transform(center[None, :], pose_cam)[0]  # the 3D box centre in the camera frame
        record = {
            "instance_id": obj.instance_id,
            "class_name": obj.class_name,
            "category_id": obj.category_id,
            "pose_cam": pose_cam.tolist(),
            "bbox3d": {"center_obj": center.tolist(), "size": size.tolist(), "corners_cam": corners_cam.tolist()},
            "visible_pixels": visible,
            "unoccluded_pixels": unoccluded,
            "visible_fraction": visible_fraction(visible, unoccluded),
            "truncation": truncation(silhouette, pad),
            "bbox": tight_box(mask),
            "amodal_bbox": amodal_box(corners_cam, K, width, height),
            # metres from the camera to the 3D box centre: along the optical axis and straight-line
            "distance_m": {"z": float(centre_cam[2]), "euclidean": float(np.linalg.norm(centre_cam))},
        }
        labels.append(ObjectLabel(record, mask if visible else None))
    return labels


def coco_annotations(labels: list[ObjectLabel], image_id: int) -> list[dict[str, Any]]:
    """COCO annotations (ids unassigned) for the visible objects of a frame."""
    out = []
    for label in labels:
        if label.mask is None:
            continue
        r = label.record
        out.append(
            {
                "image_id": image_id,
                "category_id": r["category_id"],
                "segmentation": encode_rle(label.mask),
                "area": float(r["visible_pixels"]),
                "bbox": r["bbox"],
                "iscrowd": 0,
                "instance_id": r["instance_id"],
                "visible_fraction": r["visible_fraction"],
                "amodal_bbox": r["amodal_bbox"],
            }
        )
    return out
