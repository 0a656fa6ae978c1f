"""Per-frame labels from the rendered passes and the scene geometry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simvision.labels.boxes import amodal_box, tight_box, truncation, visible_fraction
from simvision.labels.geometry import amodal_mask, box_corners, rasterize_silhouette, transform
from simvision.labels.rle import encode_rle

TRUNCATION_PAD_FRACTION = 0.5  # silhouette canvas extends half an image beyond each border


@dataclass
class ObjectLabel:
    """Labels of one object in one frame (JSON-ready apart from ``mask``)."""

    record: dict[str, Any]
    mask: np.ndarray | None = field(default=None, repr=False)  # visible mask, None if not visible
    # amodal mask: the whole silhouette inside the image, occluders ignored (None if none of it is inside)
    amodal: np.ndarray | None = field(default=None, repr=False)


def label_objects(
    objects: list[Any],
    poses_world: dict[int, np.ndarray],
    instance_map: np.ndarray,
    K: np.ndarray,
    world_to_cam: np.ndarray,
) -> list[ObjectLabel]:
    """Labels for every labelled object (instance_id > 0) of a frame.

    ``objects`` are :class:`simvision.scene.spec.ObjectSpec`; the visible mask is where the
    instance pass equals the object's id; the amodal mask is the object's triangles rasterised
    alone (pixel-centre rule), clipped to the image, united with the visible mask (Cycles' index
    pass may take an edge pixel the centre rule leaves out: it stays in), so amodal >= visible;
    unoccluded pixels = amodal pixels and visible_fraction = visible / unoccluded pixels.
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
        mask = instance_map == obj.instance_id
        amodal = amodal_mask(silhouette, pad, width, height) | mask
        unoccluded = int(amodal.sum())
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
        labels.append(ObjectLabel(record, mask if visible else None, amodal if unoccluded else None))
    return labels


def add_amodal_records(labels: list[ObjectLabel]) -> None:
    """Record each object's amodal mask in its metadata (``amodal_segmentation``: COCO RLE, or None
    when no part of the silhouette is inside the image); output.amodal."""
    for label in labels:
        label.record["amodal_segmentation"] = None if label.amodal is None else encode_rle(label.amodal)


def coco_annotations(labels: list[ObjectLabel], image_id: int, amodal: bool = False) -> list[dict[str, Any]]:
    """COCO annotations (ids unassigned) for the visible objects of a frame; ``amodal`` adds
    ``amodal_segmentation`` (RLE of the amodal mask) and ``amodal_area`` (its pixel count)."""
    out = []
    for label in labels:
        if label.mask is None:
            continue
        r = label.record
        ann = {
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
        if amodal and label.amodal is not None:
            ann["amodal_segmentation"] = r.get("amodal_segmentation") or encode_rle(label.amodal)
            ann["amodal_area"] = float(r["unoccluded_pixels"])
        out.append(ann)
    return out
